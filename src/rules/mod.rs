//! The rule catalogue (SPEC §5): one rule per file, named after the defect it finds,
//! grouped by family; one registry, [`RULES`], lists every rule with its code and level, and
//! [`run`] dispatches them from one place, guarded by "is it enabled".
//!
//! Each rule file opens with a `//!` doc in fixed sections — what it finds, why it matters,
//! an example, its parameters — and that text, read from the file itself, is what
//! `yidi rules` prints.

pub mod amount;
pub mod catalogue;
pub mod duplicate;
pub mod filing;
pub mod hospital;
pub mod policy;
pub mod registry;
pub mod reversal;
pub mod scope;

use std::cmp::Ordering;

use rayon::prelude::*;
use serde::Serialize;

use crate::Lang;
use crate::config::{Config, Level};
use crate::matching::Outcome;
use crate::model::{CatalogueItem, Filing, LineRow, Model, SetlRow, Settlement, TiSlice, prov};
use crate::payment::Expected;
use crate::scope::Scope;

/// One finding (SPEC §9 `findings`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub level: Level,
    pub fixmedins_code: Option<String>,
    pub setl_id: Option<String>,
    pub feedetl_sn: Option<String>,
    pub trt_dcla_detl_sn: Option<String>,
    pub psn_no: Option<String>,
    pub insuplc_admdvs: Option<String>,
    pub fix_blng_admdvs: Option<String>,
    /// Fen; a hold carries the row's `fund_pay_sumamt`, a flag none (SPEC §12).
    pub amount: Option<i64>,
    pub detail: String,
    /// The settlement row it is about, for later stages (not written).
    #[serde(skip)]
    pub row: Option<SetlRow>,
}

/// Findings through serde (a stage keeps a part's, SPEC §14), the rule by its code.
pub mod stored {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Finding;
    use crate::config::Level;

    #[derive(Deserialize)]
    struct Stored {
        rule: String,
        level: Level,
        fixmedins_code: Option<String>,
        setl_id: Option<String>,
        feedetl_sn: Option<String>,
        trt_dcla_detl_sn: Option<String>,
        psn_no: Option<String>,
        insuplc_admdvs: Option<String>,
        fix_blng_admdvs: Option<String>,
        amount: Option<i64>,
        detail: String,
    }

    pub fn serialize<S: Serializer>(findings: &[Finding], s: S) -> Result<S::Ok, S::Error> {
        findings.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Finding>, D::Error> {
        Vec::<Stored>::deserialize(d)?
            .into_iter()
            .map(|f| {
                let rule = super::find(&f.rule)
                    .ok_or_else(|| serde::de::Error::custom(format!("{} is not a rule", f.rule)))?;
                Ok(Finding {
                    rule: rule.code,
                    level: f.level,
                    fixmedins_code: f.fixmedins_code,
                    setl_id: f.setl_id,
                    feedetl_sn: f.feedetl_sn,
                    trt_dcla_detl_sn: f.trt_dcla_detl_sn,
                    psn_no: f.psn_no,
                    insuplc_admdvs: f.insuplc_admdvs,
                    fix_blng_admdvs: f.fix_blng_admdvs,
                    amount: f.amount,
                    detail: f.detail,
                    row: None,
                })
            })
            .collect()
    }
}

impl Finding {
    /// A finding of `rule` about settlement row `i`; a hold carries its fund payment.
    pub fn settlement(rule: &Rule, ctx: &Context, i: SetlRow, detail: String) -> Finding {
        Finding::settlement_at(rule, rule.level, ctx, i, detail)
    }

    /// [`Finding::settlement`] at a level the configuration sets (FIL007).
    pub fn settlement_at(
        rule: &Rule,
        level: Level,
        ctx: &Context,
        i: SetlRow,
        detail: String,
    ) -> Finding {
        let s = &ctx.model.settlements[i];
        Finding {
            rule: rule.code,
            level,
            fixmedins_code: Some(s.fixmedins_code.to_string()),
            setl_id: Some(s.setl_id.to_string()),
            feedetl_sn: None,
            trt_dcla_detl_sn: None,
            psn_no: Some(s.psn_no.to_string()),
            insuplc_admdvs: Some(s.insuplc_admdvs.to_string()),
            fix_blng_admdvs: Some(ctx.scope.treatment[i].to_string()),
            amount: (level == Level::Hold).then(|| s.fund_pay_sumamt()),
            detail,
            row: Some(i),
        }
    }

    /// A finding of `rule` about a filing: its insured area and where it lets the person
    /// settle.
    pub fn filing(rule: &Rule, f: &Filing, detail: String) -> Finding {
        Finding {
            rule: rule.code,
            level: rule.level,
            fixmedins_code: None,
            setl_id: None,
            feedetl_sn: None,
            trt_dcla_detl_sn: Some(f.trt_dcla_detl_sn.to_string()),
            psn_no: Some(f.psn_no.to_string()),
            insuplc_admdvs: Some(f.insu_admdvs.to_string()),
            fix_blng_admdvs: Some(f.rloc_admdvs.to_string()),
            amount: None,
            detail,
            row: None,
        }
    }

    pub fn with_filing(mut self, f: Option<&Filing>) -> Finding {
        self.trt_dcla_detl_sn = f.map(|f| f.trt_dcla_detl_sn.to_string());
        self
    }

    /// The sort key of SPEC §9: rule, fixmedins_code, setl_id, feedetl_sn,
    /// trt_dcla_detl_sn, psn_no, detail — as text, nulls first.
    pub fn sort_cmp(&self, other: &Finding) -> Ordering {
        self.rule
            .cmp(other.rule)
            .then_with(|| self.fixmedins_code.cmp(&other.fixmedins_code))
            .then_with(|| self.setl_id.cmp(&other.setl_id))
            .then_with(|| self.feedetl_sn.cmp(&other.feedetl_sn))
            .then_with(|| self.trt_dcla_detl_sn.cmp(&other.trt_dcla_detl_sn))
            .then_with(|| self.psn_no.cmp(&other.psn_no))
            .then_with(|| self.detail.cmp(&other.detail))
    }
}

/// What rules read.
pub struct Context<'a> {
    pub model: &'a Model,
    pub scope: &'a Scope,
    pub outcomes: &'a TiSlice<SetlRow, Outcome>,
    /// §6's expected payment of each settlement row.
    pub expected: &'a TiSlice<SetlRow, Expected>,
    /// The settlement row each fee line belongs to.
    pub line_owner: &'a TiSlice<LineRow, Option<SetlRow>>,
    /// The treatment-place catalogue row of each fee line valid on its date.
    pub line_item: &'a TiSlice<LineRow, Option<&'a CatalogueItem>>,
    pub config: &'a Config,
    pub lang: Lang,
    pub month: &'a str,
    /// The previous month's ledger (DUP004).
    pub previous: &'a crate::ledger::Ledger,
}

impl Context<'_> {
    /// Chinese or English, as the run speaks.
    pub fn say(&self, zh: String, en: String) -> String {
        match self.lang {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// Fee lines looked at (SPEC §12): those of settlements that are not excluded, not
    /// copies, not reversals; with the index of their settlement.
    pub fn checked_lines(&self) -> impl Iterator<Item = (LineRow, SetlRow)> {
        self.line_owner.iter_enumerated().filter_map(|(k, owner)| {
            owner
                .filter(|&i| self.scope.is_checked_settlement(i))
                .map(|i| (k, i))
        })
    }

    /// A finding about fee line `k` of settlement `i`.
    pub fn line_finding(
        &self,
        rule: &Rule,
        k: LineRow,
        i: SetlRow,
        amount: Option<i64>,
        detail: String,
    ) -> Finding {
        let mut f = Finding::settlement(rule, self, i, detail);
        f.feedetl_sn = Some(self.model.fee_lines.feedetl_sn[k].to_owned());
        f.amount = amount;
        f
    }

    /// Rows looked at by the settlement rules, in row order.
    pub fn checked_settlements(&self) -> impl Iterator<Item = (SetlRow, &Settlement)> {
        self.model
            .settlements
            .iter_enumerated()
            .filter(|(i, _)| self.scope.is_checked_settlement(*i))
    }
}

/// One rule of the catalogue.
pub struct Rule {
    pub code: &'static str,
    /// The level of SPEC §5 (FIL007's is configurable per province).
    pub level: Level,
    pub family: &'static str,
    /// The rule file's `//!` doc.
    pub source: &'static str,
    /// How it decides; it takes its code and level from here.
    pub decision: Decision,
}

/// How a rule reaches its findings.
pub enum Decision {
    /// Over one part of the month at a time: an insured province's settlements, fee lines
    /// and filings (or a whole month held at once). Enabled by the insured province's
    /// settings.
    Part(fn(&Context, &'static Rule) -> Vec<Finding>),
    /// Over the whole month at once: each part gathers what the rule needs of its rows,
    /// and the rule decides once from every part's gathering (AMT003: a hospital's summary
    /// counts the settlements of every insured province). Enabled by the default settings:
    /// its findings are about a hospital, not an insured place.
    Month(MonthWide),
}

/// A month-wide rule's decision from every part's gathering; an error says a gathering did
/// not read back.
pub type Decide = fn(&'static Rule, &MonthFacts, &[Gathered]) -> Result<Vec<Finding>, String>;

/// The two halves of a month-wide rule.
pub struct MonthWide {
    /// What the rule needs of one part's rows.
    pub gather: fn(&Context) -> Gathered,
    /// Its findings over the month, from every part's gathering (in part order).
    pub decide: Decide,
}

/// What a month-wide rule gathered of a part, serialised by the rule (MessagePack): a
/// check step keeps it on disk for the merge (SPEC §14), and the orchestrator need not
/// know its type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Gathered(Vec<u8>);

impl Gathered {
    pub fn of<T: Serialize>(value: &T) -> Gathered {
        Gathered(rmp_serde::to_vec(value).expect("a gathering serialises to memory"))
    }

    /// Back to the type the rule wrote.
    pub fn read<T: serde::de::DeserializeOwned>(&self) -> Result<T, String> {
        rmp_serde::from_slice(&self.0).map_err(|e| format!("a part's gathering is unreadable: {e}"))
    }
}

/// What a month-wide rule decides with besides its parts' gatherings: the month's tables
/// that no part holds alone.
pub struct MonthFacts<'a> {
    pub summary: &'a polars::prelude::DataFrame,
    pub hospitals: &'a polars::prelude::PlHashMap<String, crate::model::Hospital>,
    pub lang: Lang,
}

impl MonthFacts<'_> {
    /// Chinese or English, as the run speaks.
    pub fn say(&self, zh: String, en: String) -> String {
        match self.lang {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

impl Rule {
    /// The rule's documentation: its file's leading `//!` lines.
    pub fn doc(&self) -> String {
        self.source
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .map(|l| {
                l.trim_start_matches("//!")
                    .strip_prefix(' ')
                    .unwrap_or(l.trim_start_matches("//!"))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The first line of its documentation.
    pub fn title(&self) -> String {
        self.doc().lines().next().unwrap_or_default().to_owned()
    }
}

/// A rule of the table: its module's `check` decides over a part; with `month`, its
/// `gather` and `decide` over the month.
macro_rules! rule {
    ($code:literal, $level:ident, $family:literal, $module:path, $file:literal) => {
        rule!(@ $code, $level, $family, $file, {
            use $module as m;
            Decision::Part(m::check)
        })
    };
    ($code:literal, $level:ident, $family:literal, $module:path, $file:literal, month) => {
        rule!(@ $code, $level, $family, $file, {
            use $module as m;
            Decision::Month(MonthWide { gather: m::gather, decide: m::decide })
        })
    };
    (@ $code:literal, $level:ident, $family:literal, $file:literal, $decision:expr) => {
        Rule {
            code: $code,
            level: Level::$level,
            family: $family,
            source: include_str!($file),
            decision: $decision,
        }
    };
}

/// Every rule, in code order.
#[rustfmt::skip]
pub static RULES: &[Rule] = &[
    rule!("AMT001", Hold, "amount", amount::settlement_identity, "amount/settlement_identity.rs"),
    rule!("AMT002", Hold, "amount", amount::details_disagree, "amount/details_disagree.rs"),
    rule!("AMT003", Flag, "amount", amount::summary_disagrees, "amount/summary_disagrees.rs", month),
    rule!("AMT004", Flag, "amount", amount::line_arithmetic, "amount/line_arithmetic.rs"),
    rule!("CAT001", Deduct, "catalogue", catalogue::out_of_catalogue, "catalogue/out_of_catalogue.rs"),
    rule!("CAT002", Deduct, "catalogue", catalogue::self_paid_class_billed, "catalogue/self_paid_class_billed.rs"),
    rule!("CAT003", Flag, "catalogue", catalogue::billed_class_differs, "catalogue/billed_class_differs.rs"),
    rule!("CAT004", Deduct, "catalogue", catalogue::price_above_ceiling, "catalogue/price_above_ceiling.rs"),
    rule!("DUP001", Hold, "duplicate", duplicate::duplicate_setl_id, "duplicate/duplicate_setl_id.rs"),
    rule!("DUP002", Flag, "duplicate", duplicate::duplicate_claim, "duplicate/duplicate_claim.rs"),
    rule!("DUP003", Hold, "duplicate", duplicate::overlapping_stays, "duplicate/overlapping_stays.rs"),
    rule!("DUP004", Hold, "duplicate", duplicate::uploaded_again, "duplicate/uploaded_again.rs"),
    rule!("FIL001", Hold, "filing", filing::no_filing, "filing/no_filing.rs"),
    rule!("FIL002", Hold, "filing", filing::filing_expired, "filing/filing_expired.rs"),
    rule!("FIL003", Hold, "filing", filing::filing_not_begun, "filing/filing_not_begun.rs"),
    rule!("FIL004", Hold, "filing", filing::filing_cancelled, "filing/filing_cancelled.rs"),
    rule!("FIL005", Hold, "filing", filing::filed_after_settlement, "filing/filed_after_settlement.rs"),
    rule!("FIL006", Hold, "filing", filing::filing_for_other_area, "filing/filing_for_other_area.rs"),
    rule!("FIL007", Flag, "filing", filing::single_use_filing_reused, "filing/single_use_filing_reused.rs"),
    rule!("HOS001", Hold, "hospital", hospital::hospital_not_networked, "hospital/hospital_not_networked.rs"),
    rule!("HOS002", Hold, "hospital", hospital::visit_type_not_networked, "hospital/visit_type_not_networked.rs"),
    rule!("HOS003", Flag, "hospital", hospital::treatment_area_mismatch, "hospital/treatment_area_mismatch.rs"),
    rule!("PER001", Flag, "scope", scope::outside_month, "scope/outside_month.rs"),
    rule!("POL001", Deduct, "policy", policy::fund_overpaid, "policy/fund_overpaid.rs"),
    rule!("POL002", Flag, "policy", policy::fund_underpaid, "policy/fund_underpaid.rs"),
    rule!("POL003", Hold, "policy", policy::resident_outpatient_cross_province, "policy/resident_outpatient_cross_province.rs"),
    rule!("POL004", Hold, "policy", policy::chronic_disease_not_listed, "policy/chronic_disease_not_listed.rs"),
    rule!("POL005", Hold, "policy", policy::not_insured, "policy/not_insured.rs"),
    rule!("POL006", Flag, "policy", policy::no_policy, "policy/no_policy.rs"),
    rule!("REG001", Flag, "registry", registry::duplicate_long_term_filing, "registry/duplicate_long_term_filing.rs"),
    rule!("REG002", Flag, "registry", registry::long_term_filing_cancelled_in_lock, "registry/long_term_filing_cancelled_in_lock.rs"),
    rule!("REG003", Flag, "registry", registry::inconsistent_filing, "registry/inconsistent_filing.rs"),
    rule!("REV001", Flag, "reversal", reversal::original_not_in_month, "reversal/original_not_in_month.rs"),
    rule!("REV002", Hold, "reversal", reversal::bad_reversal, "reversal/bad_reversal.rs"),
    rule!("RTE001", Flag, "scope", scope::same_area, "scope/same_area.rs"),
];

pub fn find(code: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.code.eq_ignore_ascii_case(code))
}

/// Runs the part rules (all, or only `only`) over a part, in parallel, and gathers for
/// the month-wide ones; drops findings of rules disabled for their insured province;
/// returns the findings sorted by SPEC §9's key, and the gatherings by rule code.
pub fn run(ctx: &Context, only: Option<&str>) -> (Vec<Finding>, Vec<(String, Gathered)>) {
    let chosen = || {
        RULES
            .par_iter()
            .filter(move |rule| only.is_none_or(|code| rule.code == code))
    };
    let (mut findings, gathered): (Vec<Finding>, Vec<(String, Gathered)>) = rayon::join(
        || {
            chosen()
                .flat_map_iter(|rule| {
                    let found = match &rule.decision {
                        Decision::Part(check) => check(ctx, rule),
                        Decision::Month(_) => Vec::new(),
                    };
                    found.into_iter().filter(move |f| {
                        let settings = match f.insuplc_admdvs.as_deref() {
                            Some(area) => ctx.config.for_province(prov(area)),
                            None => &ctx.config.defaults,
                        };
                        settings.is_enabled(rule.code)
                    })
                })
                .collect()
        },
        || {
            chosen()
                .filter_map(|rule| match &rule.decision {
                    Decision::Month(m) => Some((rule.code.to_owned(), (m.gather)(ctx))),
                    Decision::Part(_) => None,
                })
                .collect()
        },
    );
    findings.par_sort_by(Finding::sort_cmp);
    (findings, gathered)
}

/// The month-wide rules enabled by `config`'s defaults, each deciding once from every
/// part's gathering (the parts' `(code, gathering)` lists, in part order); their findings,
/// unsorted.
pub fn decide_month(
    facts: &MonthFacts,
    config: &Config,
    parts: &[&[(String, Gathered)]],
) -> Result<Vec<Finding>, String> {
    let mut findings = Vec::new();
    for rule in RULES {
        let Decision::Month(month_wide) = &rule.decision else {
            continue;
        };
        if !config.defaults.is_enabled(rule.code) {
            continue;
        }
        let gathered: Vec<Gathered> = parts
            .iter()
            .flat_map(|part| part.iter())
            .filter(|(code, _)| code == rule.code)
            .map(|(_, g)| g.clone())
            .collect();
        if gathered.is_empty() {
            continue;
        }
        findings.extend(
            (month_wide.decide)(rule, facts, &gathered)
                .map_err(|e| format!("{}: {e}", rule.code))?,
        );
    }
    Ok(findings)
}

/// Formats a date (days since 1970-01-01) for a detail.
pub fn day(days: i32) -> String {
    crate::units::date_from_days(days)
        .format("%Y-%m-%d")
        .to_string()
}

/// Formats a time (milliseconds) for a detail.
pub fn time(millis: i64) -> String {
    crate::units::time_from_millis(millis)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// `yidi rules`: every rule with its code, level and title, or one rule's documentation.
pub fn explain(code: Option<&str>, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    let io = |e: std::io::Error| crate::error::OutputError::io("<stdout>", e);
    let level = |rule: &Rule| rule.level.name();
    match code {
        Some(code) => {
            let rule = find(code).ok_or_else(|| {
                crate::error::ConfigError::Usage(format!("no rule {code}; `yidi rules` lists them"))
            })?;
            writeln!(out, "{} [{}] ({})\n", rule.code, level(rule), rule.family).map_err(io)?;
            writeln!(out, "{}", rule.doc()).map_err(io)?;
        }
        None => {
            for rule in RULES {
                writeln!(out, "{}  {:<6}  {}", rule.code, level(rule), rule.title()).map_err(io)?;
            }
            writeln!(out, "\n`yidi rules CODE` explains one rule.").map_err(io)?;
        }
    }
    Ok(())
}
