//! The rule parameters (SPEC §8): a TOML file of defaults, per-insured-province overrides
//! and code maps, checked before any work starts. Without a file the built-in defaults
//! apply; every key and value is validated, and an error names the key.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::codes;
use crate::error::ConfigError;
use crate::units;

/// A finding's level, most severe first (so `min` is the most severe).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Hold,
    Deduct,
    Flag,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IntraProvinceFiling {
    None,
    Inpatient,
    All,
}

/// `long_term_lock_months`: one number, or one per long-term filing type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LockMonths {
    All(u32),
    ByType(BTreeMap<String, u32>),
}

impl LockMonths {
    /// The lock of a long-term filing type (11, 12, 13); types a table leaves out get 6.
    pub fn months(&self, rloc_rea: &str) -> u32 {
        match self {
            LockMonths::All(n) => *n,
            LockMonths::ByType(map) => map.get(rloc_rea).copied().unwrap_or(6),
        }
    }
}

/// The parameters in force for one insured province.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub long_term_lock_months: LockMonths,
    pub single_use_filing_level: Level,
    pub intra_province_filing: IntraProvinceFiling,
    pub resident_outpatient_cross_province: bool,
    /// In fen.
    #[serde(serialize_with = "money_text", deserialize_with = "money_from_text")]
    pub amount_tolerance: i64,
    pub disabled_rules: Vec<String>,
    /// §13: a hold open this many months is overdue.
    pub hold_months: u32,
    /// §13: an appeal (a deduct entry) open this many months is overdue.
    pub appeal_months: u32,
    /// §13: overdue entries close (a hold as expired, a deduct as upheld).
    pub close_overdue: bool,
}

fn money_text<S: serde::Serializer>(fen: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&units::format_money(*fen))
}

/// The effective configuration read back from its JSON (a stage records it, SPEC §14).
fn money_from_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let text = String::deserialize(d)?;
    units::parse_fixed(&text, units::MONEY_SCALE)
        .map_err(|e| serde::de::Error::custom(format!("{text}: {e:?}")))
}

impl Default for Settings {
    /// The global values of SPEC §8, which follow the domain documents.
    fn default() -> Self {
        Settings {
            long_term_lock_months: LockMonths::All(6),
            single_use_filing_level: Level::Flag,
            intra_province_filing: IntraProvinceFiling::None,
            resident_outpatient_cross_province: false,
            amount_tolerance: 1,
            disabled_rules: Vec::new(),
            hold_months: 6,
            appeal_months: 3,
            close_overdue: false,
        }
    }
}

impl Level {
    /// The level as written in findings and reports: `hold`, `deduct`, `flag`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Hold => "hold",
            Level::Deduct => "deduct",
            Level::Flag => "flag",
        }
    }
}

impl Settings {
    pub fn is_enabled(&self, rule: &str) -> bool {
        !self.disabled_rules.iter().any(|r| r == rule)
    }
}

/// Agency code maps onto SPEC §2's codes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeMaps {
    #[serde(default)]
    pub rloc_rea: BTreeMap<String, String>,
    #[serde(default)]
    pub med_type: BTreeMap<String, String>,
}

/// The whole effective configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    pub defaults: Settings,
    /// Resolved settings by insured province (2 digits), overrides applied on the defaults.
    pub province: BTreeMap<String, Settings>,
    pub codes: CodeMaps,
}

/// The keys a `[defaults]` or `[province.XX]` table may hold, all optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    long_term_lock_months: Option<LockMonths>,
    single_use_filing_level: Option<String>,
    intra_province_filing: Option<String>,
    resident_outpatient_cross_province: Option<bool>,
    amount_tolerance: Option<String>,
    disabled_rules: Option<Vec<String>>,
    hold_months: Option<u32>,
    appeal_months: Option<u32>,
    close_overdue: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    defaults: RawSettings,
    #[serde(default)]
    province: BTreeMap<String, RawSettings>,
    #[serde(default)]
    codes: CodeMaps,
}

fn value_error(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Value {
        key: key.to_owned(),
        message: message.into(),
    }
}

impl RawSettings {
    fn apply(self, base: &Settings, table: &str) -> Result<Settings, ConfigError> {
        let mut s = base.clone();
        if let Some(lock) = self.long_term_lock_months {
            if let LockMonths::ByType(map) = &lock
                && let Some(bad) = map
                    .keys()
                    .find(|k| !["11", "12", "13"].contains(&k.as_str()))
            {
                return Err(value_error(
                    &format!("{table}.long_term_lock_months.{bad}"),
                    "long-term filing types are 11, 12 and 13",
                ));
            }
            s.long_term_lock_months = lock;
        }
        if let Some(level) = self.single_use_filing_level {
            s.single_use_filing_level = match level.as_str() {
                "flag" => Level::Flag,
                "hold" => Level::Hold,
                _ => {
                    return Err(value_error(
                        &format!("{table}.single_use_filing_level"),
                        format!("'{level}' is not \"flag\" or \"hold\""),
                    ));
                }
            };
        }
        if let Some(mode) = self.intra_province_filing {
            s.intra_province_filing = match mode.as_str() {
                "none" => IntraProvinceFiling::None,
                "inpatient" => IntraProvinceFiling::Inpatient,
                "all" => IntraProvinceFiling::All,
                _ => {
                    return Err(value_error(
                        &format!("{table}.intra_province_filing"),
                        format!("'{mode}' is not \"none\", \"inpatient\" or \"all\""),
                    ));
                }
            };
        }
        if let Some(allowed) = self.resident_outpatient_cross_province {
            s.resident_outpatient_cross_province = allowed;
        }
        if let Some(text) = self.amount_tolerance {
            s.amount_tolerance = match units::parse_fixed(&text, units::MONEY_SCALE) {
                Ok(fen) if fen >= 0 => fen,
                _ => {
                    return Err(value_error(
                        &format!("{table}.amount_tolerance"),
                        format!("'{text}' is not a non-negative amount with at most 2 decimals"),
                    ));
                }
            };
        }
        if let Some(rules) = self.disabled_rules {
            // Which codes exist is the rule catalogue's to say: see `Config::check_rules`.
            s.disabled_rules = rules;
        }
        if let Some(months) = self.hold_months {
            s.hold_months = months;
        }
        if let Some(months) = self.appeal_months {
            s.appeal_months = months;
        }
        if let Some(close) = self.close_overdue {
            s.close_overdue = close;
        }
        Ok(s)
    }
}

impl Config {
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        match path {
            None => Ok(Config::default()),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                Config::parse(&text).map_err(|error| match error {
                    ConfigError::Parse { message, .. } => ConfigError::Parse {
                        path: path.to_owned(),
                        message,
                    },
                    other => other,
                })
            }
        }
    }

    /// Checks that every `disabled_rules` entry names a rule (`known`: the catalogue's
    /// codes), naming the table of the first that does not.
    pub fn check_rules(&self, known: &dyn Fn(&str) -> bool) -> Result<(), ConfigError> {
        let tables = std::iter::once(("defaults".to_owned(), &self.defaults)).chain(
            self.province
                .iter()
                .map(|(prov, settings)| (format!("province.{prov}"), settings)),
        );
        for (table, settings) in tables {
            if let Some(bad) = settings.disabled_rules.iter().find(|r| !known(r)) {
                return Err(value_error(
                    &format!("{table}.disabled_rules"),
                    format!("'{bad}' is not a rule code (see `yidi rules`)"),
                ));
            }
        }
        Ok(())
    }

    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: "<config>".into(),
            message: e.to_string(),
        })?;
        let defaults = raw.defaults.apply(&Settings::default(), "defaults")?;
        let mut province = BTreeMap::new();
        for (prov, overrides) in raw.province {
            if prov.len() != 2 || !prov.bytes().all(|b| b.is_ascii_digit()) {
                return Err(value_error(
                    &format!("province.{prov}"),
                    "a province is its 2-digit code, e.g. [province.22]",
                ));
            }
            let settings = overrides.apply(&defaults, &format!("province.{prov}"))?;
            province.insert(prov, settings);
        }
        for (field, map, allowed) in [
            ("rloc_rea", &raw.codes.rloc_rea, codes::RLOC_REA),
            ("med_type", &raw.codes.med_type, codes::MED_TYPE),
        ] {
            if let Some((from, to)) = map.iter().find(|(_, to)| !allowed.contains(&to.as_str())) {
                return Err(value_error(
                    &format!("codes.{field}.\"{from}\""),
                    format!("'{to}' is not one of {}", allowed.join(", ")),
                ));
            }
        }
        Ok(Config {
            defaults,
            province,
            codes: raw.codes,
        })
    }

    /// The settings for an insured province (first two digits of its area code).
    pub fn for_province(&self, prov: &str) -> &Settings {
        self.province.get(prov).unwrap_or(&self.defaults)
    }

    /// SHA-256 of the effective configuration's canonical JSON.
    pub fn hash(&self) -> String {
        let json = serde_json::to_vec(self).expect("configuration serialises");
        hex::encode(Sha256::digest(json))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_apply_on_the_defaults() {
        let config = Config::parse(
            r#"
            [defaults]
            amount_tolerance = "0.05"
            [province.22]
            intra_province_filing = "inpatient"
            [province.36]
            long_term_lock_months = { "11" = 12 }
            [codes.med_type]
            "2101" = "21"
            "#,
        )
        .unwrap();
        let jilin = config.for_province("22");
        assert_eq!(jilin.intra_province_filing, IntraProvinceFiling::Inpatient);
        assert_eq!(jilin.amount_tolerance, 5);
        let jiangxi = config.for_province("36");
        assert_eq!(jiangxi.long_term_lock_months.months("11"), 12);
        assert_eq!(jiangxi.long_term_lock_months.months("12"), 6);
        assert_eq!(config.for_province("44"), &config.defaults);
        assert_eq!(config.codes.med_type["2101"], "21");
    }

    #[test]
    fn a_bad_key_or_value_names_it() {
        let cases = [
            ("[defaults]\nlock_months = 6\n", "lock_months"),
            (
                "[defaults]\nintra_province_filing = \"some\"\n",
                "intra_province_filing",
            ),
            (
                "[province.22]\namount_tolerance = \"0.001\"\n",
                "province.22.amount_tolerance",
            ),
            ("[codes.rloc_rea]\n\"02\" = \"19\"\n", "codes.rloc_rea"),
            ("[province.jilin]\n", "province.jilin"),
        ];
        for (text, named) in cases {
            let error = Config::parse(text).unwrap_err().to_string();
            assert!(error.contains(named), "{text:?} gave {error}");
        }
        // Rule codes are the catalogue's to know: checked against it, naming the table.
        let config = Config::parse("[province.22]\ndisabled_rules = [\"CAT999\"]\n").unwrap();
        let error = config
            .check_rules(&|code| code == "XYZ001")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("province.22.disabled_rules") && error.contains("CAT999"),
            "{error}"
        );
    }
}
