//! Each settlement row's status and money (SPEC §7, §12): excluded, reversed, held or
//! cleared; `expected_hifp` from §6, `disputed_amount` (its `deduct` findings, at most its
//! `hifp_pay`), `held_amount`, `cleared_amount`.

use polars::prelude::PlHashMap as HashMap;

use crate::config::Level;
use crate::matching::Outcome;
use crate::model::Money;
use crate::model::{Model, PerSettlement, SetlRow, TiSlice};
use crate::payment::Expected;
use crate::rules::Finding;
use crate::scope::Scope;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Cleared,
    Held,
    Reversed,
    Excluded,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Cleared => "cleared",
            Status::Held => "held",
            Status::Reversed => "reversed",
            Status::Excluded => "excluded",
        }
    }
}

/// Settlement rows per status through serde, the status by its name.
pub mod status_counts {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Status;

    pub fn serialize<S: Serializer>(
        counts: &BTreeMap<&'static str, u64>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        counts.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<&'static str, u64>, D::Error> {
        let all = [
            Status::Cleared,
            Status::Held,
            Status::Reversed,
            Status::Excluded,
        ];
        BTreeMap::<String, u64>::deserialize(d)?
            .into_iter()
            .map(|(name, n)| {
                all.iter()
                    .find(|s| s.name() == name)
                    .map(|s| (s.name(), n))
                    .ok_or_else(|| serde::de::Error::custom(format!("no status {name}")))
            })
            .collect()
    }
}

/// One settlement row's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowOutcome {
    pub status: Status,
    /// The matched filing's id, `emergency` when deemed filed, `None` when none needed.
    pub trt_dcla_detl_sn: Option<String>,
    /// Fen; `None` where §6 did not apply and for excluded rows.
    pub expected_hifp: Option<i64>,
    pub disputed_amount: i64,
    pub held_amount: i64,
    pub cleared_amount: i64,
}

/// The outcome of every settlement row, from the (enabled) findings.
pub fn settle(
    model: &Model,
    scope: &Scope,
    outcomes: &TiSlice<SetlRow, Outcome>,
    expected: &TiSlice<SetlRow, Expected>,
    findings: &[Finding],
) -> PerSettlement<RowOutcome> {
    let mut held: PerSettlement<bool> = vec![false; model.settlements.len()].into();
    let mut deducted: HashMap<SetlRow, i64> = HashMap::default();
    for f in findings {
        let Some(i) = f.row else { continue };
        match f.level {
            Level::Hold => held[i] = true,
            Level::Deduct => *deducted.entry(i).or_default() += f.amount.unwrap_or(0),
            Level::Flag => {}
        }
    }
    model
        .settlements
        .iter_enumerated()
        .map(|(i, s)| {
            let fund = s.fund_pay_sumamt();
            let status = if scope.is_excluded(i) {
                Status::Excluded
            } else if scope.reversed[i] {
                Status::Reversed
            } else if held[i] {
                Status::Held
            } else {
                Status::Cleared
            };
            let claimed = deducted.get(&i).copied().unwrap_or(0);
            let disputed = match (status, scope.ledger_reversal[i]) {
                // A reversal of a ledger entry takes back exactly what the fund paid
                // (SPEC §13 1.): it clears −paid, and the rest of its amount is disputed.
                (Status::Cleared, Some(paid)) => fund + paid,
                (Status::Cleared, None) if claimed > 0 => {
                    claimed.min(s.amount(Money::HifpPay).max(0))
                }
                _ => 0,
            };
            RowOutcome {
                status,
                trt_dcla_detl_sn: match outcomes[i] {
                    Outcome::Matched(f) => Some(model.filings[f].trt_dcla_detl_sn.to_string()),
                    Outcome::Emergency => Some("emergency".to_owned()),
                    _ => None,
                },
                expected_hifp: match (status, expected[i]) {
                    (Status::Excluded, _) => None,
                    (_, Expected::Hifp(v)) => Some(v),
                    _ => None,
                },
                disputed_amount: disputed,
                held_amount: if status == Status::Held { fund } else { 0 },
                cleared_amount: if status == Status::Cleared {
                    fund - disputed
                } else {
                    0
                },
            }
        })
        .collect()
}

/// The `settlements` table (SPEC §9), sorted by `fixmedins_code`, `setl_id`, `line`.
pub fn settlements_frame(
    model: &Model,
    scope: &Scope,
    rows: &TiSlice<SetlRow, RowOutcome>,
) -> polars::prelude::PolarsResult<polars::prelude::DataFrame> {
    use polars::prelude::*;
    let settlements = &model.settlements;
    let mut order: Vec<SetlRow> = settlements.keys().collect();
    order.sort_by(|&a, &b| {
        let key = |i: SetlRow| {
            (
                &settlements[i].fixmedins_code,
                &settlements[i].setl_id,
                settlements[i].line,
            )
        };
        key(a).cmp(&key(b))
    });
    let text = |name: &str, get: &dyn Fn(SetlRow) -> Option<String>| {
        order
            .iter()
            .map(|&i| get(i))
            .collect::<StringChunked>()
            .with_name(name.into())
            .into_column()
    };
    let int = |name: &str, get: &dyn Fn(SetlRow) -> Option<i64>| {
        order
            .iter()
            .map(|&i| get(i))
            .collect::<Int64Chunked>()
            .with_name(name.into())
            .into_column()
    };
    DataFrame::new(
        order.len(),
        vec![
            text("fixmedins_code", &|i| {
                Some(settlements[i].fixmedins_code.to_string())
            }),
            text("setl_id", &|i| Some(settlements[i].setl_id.to_string())),
            int("line", &|i| Some(settlements[i].line)),
            text("refd_setl_flag", &|i| {
                Some(if settlements[i].reversal { "1" } else { "0" }.into())
            }),
            text("psn_no", &|i| Some(settlements[i].psn_no.to_string())),
            text("insuplc_admdvs", &|i| {
                Some(settlements[i].insuplc_admdvs.to_string())
            }),
            text("fix_blng_admdvs", &|i| Some(scope.treatment[i].to_string())),
            text("status", &|i| Some(rows[i].status.name().into())),
            text("trt_dcla_detl_sn", &|i| rows[i].trt_dcla_detl_sn.clone()),
            int("expected_hifp", &|i| rows[i].expected_hifp),
            int("disputed_amount", &|i| Some(rows[i].disputed_amount)),
            int("held_amount", &|i| Some(rows[i].held_amount)),
            int("cleared_amount", &|i| Some(rows[i].cleared_amount)),
        ],
    )
}

/// The money columns of the `settlements` table.
pub fn settlements_scale(name: &str) -> Option<u32> {
    matches!(
        name,
        "expected_hifp" | "disputed_amount" | "held_amount" | "cleared_amount"
    )
    .then_some(crate::units::MONEY_SCALE)
}

/// The sums of one clearing group (SPEC §7).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Totals {
    pub setl_cnt: i64,
    pub persons: std::collections::BTreeSet<String>,
    pub reversed_cnt: i64,
    /// medfee_sumamt, hifp_pay, hifmi_pay, hifob_pay, maf_pay, oth_fund_pay,
    /// fund_pay_sumamt, acct_pay, psn_cash_pay, held_amount, disputed_amount, cleared_amount.
    pub money: [i64; 12],
}

/// The money columns of the clearing tables, in order.
pub const CLEARING_MONEY: [&str; 12] = [
    "medfee_sumamt",
    "hifp_pay",
    "hifmi_pay",
    "hifob_pay",
    "maf_pay",
    "oth_fund_pay",
    "fund_pay_sumamt",
    "acct_pay",
    "psn_cash_pay",
    "held_amount",
    "disputed_amount",
    "cleared_amount",
];

impl Totals {
    /// Adds another partition's totals of the same group.
    fn merge(&mut self, mut other: Totals) {
        // A group is most often in one part only: its persons are taken whole, not
        // inserted again one by one (a province month's million, after its parts).
        if other.persons.len() > self.persons.len() {
            std::mem::swap(&mut self.persons, &mut other.persons);
        }
        self.setl_cnt += other.setl_cnt;
        self.reversed_cnt += other.reversed_cnt;
        self.persons.extend(other.persons);
        for (total, value) in self.money.iter_mut().zip(other.money) {
            *total += value;
        }
    }

    fn add(&mut self, s: &crate::model::Settlement, row: &RowOutcome) {
        if row.status == Status::Reversed {
            self.reversed_cnt += 1;
            return;
        }
        self.setl_cnt += 1;
        self.persons.insert(s.psn_no.to_string());
        let oth = s.amount(Money::CvlservPay) + s.amount(Money::HifesPay) + s.amount(Money::OthPay);
        let values = [
            s.amount(Money::MedfeeSumamt),
            s.amount(Money::HifpPay),
            s.amount(Money::HifmiPay),
            s.amount(Money::HifobPay),
            s.amount(Money::MafPay),
            oth,
            s.fund_pay_sumamt(),
            s.amount(Money::AcctPay),
            s.amount(Money::PsnCashPay),
            row.held_amount,
            row.disputed_amount,
            row.cleared_amount,
        ];
        for (total, value) in self.money.iter_mut().zip(values) {
            *total += value;
        }
    }
}

/// The clearing groups: by (insured area, treatment area, clr_type) and by (insured
/// province, treatment province), over every row that is not excluded.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct Clearing {
    pub by_area: std::collections::BTreeMap<(String, String, String), Totals>,
    pub by_province: std::collections::BTreeMap<(String, String), Totals>,
}

pub fn clear(model: &Model, scope: &Scope, rows: &TiSlice<SetlRow, RowOutcome>) -> Clearing {
    let mut by_area: std::collections::BTreeMap<(String, String, String), Totals> =
        Default::default();
    let mut by_province: std::collections::BTreeMap<(String, String), Totals> = Default::default();
    for (i, s) in model.settlements.iter_enumerated() {
        if rows[i].status == Status::Excluded {
            continue;
        }
        let treatment = &scope.treatment[i];
        by_area
            .entry((
                s.insuplc_admdvs.to_string(),
                treatment.to_string(),
                s.clr_type.to_string(),
            ))
            .or_default()
            .add(s, &rows[i]);
        by_province
            .entry((
                crate::model::prov(&s.insuplc_admdvs).to_owned(),
                crate::model::prov(treatment).to_owned(),
            ))
            .or_default()
            .add(s, &rows[i]);
    }
    Clearing {
        by_area,
        by_province,
    }
}

fn totals_columns<'a>(
    groups: impl Iterator<Item = &'a Totals> + Clone,
) -> Vec<polars::prelude::Column> {
    use polars::prelude::*;
    let count = |name: &str, get: &dyn Fn(&Totals) -> i64| {
        groups
            .clone()
            .map(|t| Some(get(t)))
            .collect::<Int64Chunked>()
            .with_name(name.into())
            .into_column()
    };
    let mut columns = vec![
        count("setl_cnt", &|t| t.setl_cnt),
        count("psn_cnt", &|t| t.persons.len() as i64),
        count("reversed_cnt", &|t| t.reversed_cnt),
    ];
    for (k, name) in CLEARING_MONEY.iter().enumerate() {
        columns.push(count(name, &|t| t.money[k]));
    }
    columns
}

fn keyed_frame(
    keys: Vec<(&str, Vec<String>)>,
    totals: Vec<&Totals>,
) -> polars::prelude::PolarsResult<polars::prelude::DataFrame> {
    use polars::prelude::*;
    let height = totals.len();
    let mut columns: Vec<Column> = keys
        .into_iter()
        .map(|(name, values)| {
            values
                .into_iter()
                .map(Some)
                .collect::<StringChunked>()
                .with_name(name.into())
                .into_column()
        })
        .collect();
    columns.extend(totals_columns(totals.iter().copied()));
    DataFrame::new(height, columns)
}

impl Clearing {
    /// Adds another partition's groups (persons are counted once over both).
    pub fn merge(&mut self, other: Clearing) {
        for (key, totals) in other.by_area {
            self.by_area.entry(key).or_default().merge(totals);
        }
        for (key, totals) in other.by_province {
            self.by_province.entry(key).or_default().merge(totals);
        }
    }

    /// `clearing_by_area`: insured area × treatment area × clr_type, sorted by code.
    pub fn by_area_frame(&self) -> polars::prelude::PolarsResult<polars::prelude::DataFrame> {
        let keys = |k: usize| {
            self.by_area
                .keys()
                .map(|key| match k {
                    0 => key.0.clone(),
                    1 => key.1.clone(),
                    _ => key.2.clone(),
                })
                .collect::<Vec<_>>()
        };
        keyed_frame(
            vec![
                ("insuplc_admdvs", keys(0)),
                ("fix_blng_admdvs", keys(1)),
                ("clr_type", keys(2)),
            ],
            self.by_area.values().collect(),
        )
    }

    /// `clearing_by_province`: insured province × treatment province, `inter` across
    /// provinces, `intra` inside one.
    pub fn by_province_frame(&self) -> polars::prelude::PolarsResult<polars::prelude::DataFrame> {
        let insured: Vec<String> = self.by_province.keys().map(|k| k.0.clone()).collect();
        let treatment: Vec<String> = self.by_province.keys().map(|k| k.1.clone()).collect();
        let scope: Vec<String> = self
            .by_province
            .keys()
            .map(|(a, b)| if a == b { "intra" } else { "inter" }.to_owned())
            .collect();
        keyed_frame(
            vec![
                ("insured_prov", insured),
                ("treatment_prov", treatment),
                ("scope", scope),
            ],
            self.by_province.values().collect(),
        )
    }

    /// Per province on either side of a cross-province pair: (receivable, payable), fen.
    pub fn province_net(&self) -> std::collections::BTreeMap<String, (i64, i64)> {
        let cleared = CLEARING_MONEY.len() - 1;
        let mut net: std::collections::BTreeMap<String, (i64, i64)> = Default::default();
        for ((insured, treatment), totals) in &self.by_province {
            if insured == treatment {
                continue;
            }
            net.entry(treatment.clone()).or_default().0 += totals.money[cleared];
            net.entry(insured.clone()).or_default().1 += totals.money[cleared];
        }
        net
    }

    /// `province_net`: `prov`, `receivable`, `payable`, `net`, and the month's releases of
    /// the ledger (SPEC §13): `released_receivable`, `released_payable`, and `net_due`,
    /// what changes hands this month. Its rows are the provinces of a cross-province
    /// clearing or release pair. `releases`: by (insured, treatment province), (count, fen).
    pub fn province_net_frame(
        &self,
        releases: &std::collections::BTreeMap<(String, String), (u64, i64)>,
    ) -> polars::prelude::PolarsResult<polars::prelude::DataFrame> {
        use polars::prelude::*;
        let mut net: std::collections::BTreeMap<String, [i64; 4]> = self
            .province_net()
            .into_iter()
            .map(|(prov, (receivable, payable))| (prov, [receivable, payable, 0, 0]))
            .collect();
        for ((insured, treatment), (_, amount)) in releases {
            if insured == treatment {
                continue;
            }
            net.entry(treatment.clone()).or_default()[2] += amount;
            net.entry(insured.clone()).or_default()[3] += amount;
        }
        let money = |name: &str, get: &dyn Fn(&[i64; 4]) -> i64| {
            net.values()
                .map(|v| Some(get(v)))
                .collect::<Int64Chunked>()
                .with_name(name.into())
                .into_column()
        };
        DataFrame::new(
            net.len(),
            vec![
                net.keys()
                    .map(|k| Some(k.as_str()))
                    .collect::<StringChunked>()
                    .with_name("prov".into())
                    .into_column(),
                money("receivable", &|v| v[0]),
                money("payable", &|v| v[1]),
                money("net", &|v| v[0] - v[1]),
                money("released_receivable", &|v| v[2]),
                money("released_payable", &|v| v[3]),
                money("net_due", &|v| v[0] - v[1] + v[2] - v[3]),
            ],
        )
    }
}

/// The money columns of the clearing tables and `province_net`.
pub fn clearing_scale(name: &str) -> Option<u32> {
    (CLEARING_MONEY.contains(&name)
        || matches!(
            name,
            "receivable"
                | "payable"
                | "net"
                | "released_receivable"
                | "released_payable"
                | "net_due"
        ))
    .then_some(crate::units::MONEY_SCALE)
}

/// `problems_by_hospital`: per (`fixmedins_code`, `rule`) the hospital's name, the level,
/// the count and the money questioned (问题金额, the sum of the findings' amounts).
pub fn problems_by_hospital(
    hospital_names: &std::collections::BTreeMap<String, String>,
    findings: &[Finding],
) -> polars::prelude::PolarsResult<polars::prelude::DataFrame> {
    use polars::prelude::*;
    let mut groups: std::collections::BTreeMap<(&str, &str), (Level, i64, i64)> =
        Default::default();
    for f in findings {
        let Some(code) = f.fixmedins_code.as_deref() else {
            continue;
        };
        let entry = groups.entry((code, f.rule)).or_insert((f.level, 0, 0));
        entry.0 = entry.0.min(f.level);
        entry.1 += 1;
        entry.2 += f.amount.unwrap_or(0);
    }
    let text = |name: &str, values: Vec<String>| {
        values
            .into_iter()
            .map(Some)
            .collect::<StringChunked>()
            .with_name(name.into())
            .into_column()
    };
    DataFrame::new(
        groups.len(),
        vec![
            text(
                "fixmedins_code",
                groups.keys().map(|k| k.0.to_owned()).collect(),
            ),
            text("rule", groups.keys().map(|k| k.1.to_owned()).collect()),
            text(
                "fixmedins_name",
                groups
                    .keys()
                    .map(|k| hospital_names.get(k.0).cloned().unwrap_or_default())
                    .collect(),
            ),
            text(
                "level",
                groups.values().map(|v| v.0.name().to_owned()).collect(),
            ),
            groups
                .values()
                .map(|v| Some(v.1))
                .collect::<Int64Chunked>()
                .with_name("cnt".into())
                .into_column(),
            groups
                .values()
                .map(|v| Some(v.2))
                .collect::<Int64Chunked>()
                .with_name("amount".into())
                .into_column(),
        ],
    )
}
