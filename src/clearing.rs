//! Each settlement row's status and money (SPEC §7, §12): excluded, reversed, held or
//! cleared; `expected_hifp` from §6, `disputed_amount` (its `deduct` findings, at most its
//! `hifp_pay`), `held_amount`, `cleared_amount`.

use std::collections::HashMap;

use crate::config::Level;
use crate::matching::Outcome;
use crate::model::Model;
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

/// The outcome of every settlement row (by index), from the (enabled) findings.
pub fn settle(
    model: &Model,
    scope: &Scope,
    outcomes: &[Outcome],
    expected: &[Expected],
    findings: &[Finding],
) -> Vec<RowOutcome> {
    let mut held = vec![false; model.settlements.len()];
    let mut deducted: HashMap<usize, i64> = HashMap::new();
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
        .iter()
        .enumerate()
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
            let disputed = match status {
                Status::Cleared if claimed > 0 => claimed.min(s.amount("hifp_pay").max(0)),
                _ => 0,
            };
            RowOutcome {
                status,
                trt_dcla_detl_sn: match outcomes[i] {
                    Outcome::Matched(f) => Some(model.filings[f].trt_dcla_detl_sn.clone()),
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
    rows: &[RowOutcome],
) -> polars::prelude::PolarsResult<polars::prelude::DataFrame> {
    use polars::prelude::*;
    let settlements = &model.settlements;
    let mut order: Vec<usize> = (0..settlements.len()).collect();
    order.sort_by(|&a, &b| {
        let key = |i: usize| {
            (
                &settlements[i].fixmedins_code,
                &settlements[i].setl_id,
                settlements[i].line,
            )
        };
        key(a).cmp(&key(b))
    });
    let text = |name: &str, get: &dyn Fn(usize) -> Option<String>| {
        order
            .iter()
            .map(|&i| get(i))
            .collect::<StringChunked>()
            .with_name(name.into())
            .into_column()
    };
    let int = |name: &str, get: &dyn Fn(usize) -> Option<i64>| {
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
                Some(settlements[i].fixmedins_code.clone())
            }),
            text("setl_id", &|i| Some(settlements[i].setl_id.clone())),
            int("line", &|i| Some(settlements[i].line)),
            text("refd_setl_flag", &|i| {
                Some(if settlements[i].reversal { "1" } else { "0" }.into())
            }),
            text("psn_no", &|i| Some(settlements[i].psn_no.clone())),
            text("insuplc_admdvs", &|i| {
                Some(settlements[i].insuplc_admdvs.clone())
            }),
            text("fix_blng_admdvs", &|i| Some(scope.treatment[i].clone())),
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
