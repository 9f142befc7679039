//! The ledger's tables (SPEC §13): `ledger`, `ledger_events`, `releases_by_area` and
//! `releases_by_province`, as frames for [`crate::output::table`] (money as fen with its
//! scale, like the clearing tables).

use std::collections::BTreeMap;

use polars::prelude::*;

use super::{Update, is_overdue, months_open};
use crate::config::Config;

/// The money columns of the ledger tables.
pub fn ledger_scale(name: &str) -> Option<u32> {
    matches!(
        name,
        "amount" | "fund_pay_sumamt" | "paid" | "deductions" | "settled" | "released_amount"
    )
    .then_some(crate::units::MONEY_SCALE)
}

fn text(name: &str, values: impl Iterator<Item = Option<String>>) -> Column {
    values
        .collect::<StringChunked>()
        .with_name(name.into())
        .into_column()
}

fn int(name: &str, values: impl Iterator<Item = i64>) -> Column {
    values
        .map(Some)
        .collect::<Int64Chunked>()
        .with_name(name.into())
        .into_column()
}

/// `ledger`: every entry as this month leaves it, sorted by key.
pub fn ledger_frame(update: &Update, month: &str, config: &Config) -> PolarsResult<DataFrame> {
    let entries: Vec<_> = update.ledger.entries.values().collect();
    let t = |name: &str, get: &dyn Fn(&crate::ledger::Entry) -> Option<String>| {
        text(name, entries.iter().map(|e| get(e)))
    };
    let i = |name: &str, get: &dyn Fn(&crate::ledger::Entry) -> i64| {
        int(name, entries.iter().map(|e| get(e)))
    };
    DataFrame::new(
        entries.len(),
        vec![
            t("fixmedins_code", &|e| Some(e.fixmedins_code.to_string())),
            t("setl_id", &|e| Some(e.setl_id.to_string())),
            t("psn_no", &|e| Some(e.psn_no.clone())),
            t("insuplc_admdvs", &|e| Some(e.insuplc_admdvs.clone())),
            t("fix_blng_admdvs", &|e| Some(e.fix_blng_admdvs.clone())),
            t("clr_type", &|e| Some(e.clr_type.clone())),
            t("first_month", &|e| Some(e.first_month.clone())),
            t("since", &|e| Some(e.since.clone())),
            i("months_open", &|e| months_open(e, month)),
            t("kind", &|e| Some(e.kind.name().to_owned())),
            i("amount", &|e| e.amount),
            i("fund_pay_sumamt", &|e| e.fund_pay_sumamt),
            i("paid", &|e| e.paid),
            i("deductions", &|e| e.deductions),
            t("rules", &|e| Some(e.rules.clone())),
            i("overdue", &|e| i64::from(is_overdue(e, month, config))),
            t("last_event", &|e| e.last_event.map(|v| v.name().to_owned())),
            t("last_event_month", &|e| e.last_event_month.clone()),
        ],
    )
}

/// `ledger_events`: one row per event of the month, sorted by key.
pub fn events_frame(update: &Update) -> PolarsResult<DataFrame> {
    let events = &update.events;
    let t = |name: &str, get: &dyn Fn(&super::EventRow) -> Option<String>| {
        text(name, events.iter().map(get))
    };
    DataFrame::new(
        events.len(),
        vec![
            t("fixmedins_code", &|e| Some(e.fixmedins_code.clone())),
            t("setl_id", &|e| Some(e.setl_id.clone())),
            t("insuplc_admdvs", &|e| Some(e.insuplc_admdvs.clone())),
            t("fix_blng_admdvs", &|e| Some(e.fix_blng_admdvs.clone())),
            t("kind", &|e| Some(e.kind.name().to_owned())),
            t("event", &|e| Some(e.event.name().to_owned())),
            int("settled", events.iter().map(|e| e.settled)),
            int("released_amount", events.iter().map(|e| e.released_amount)),
            t("decided_by", &|e| e.decided_by.clone()),
            t("decided_at", &|e| e.decided_at.map(crate::rules::time)),
            t("note", &|e| e.note.clone()),
        ],
    )
}

/// `releases_by_area`: released count and money by (insured area, treatment area,
/// clr_type).
pub fn releases_by_area_frame(update: &Update) -> PolarsResult<DataFrame> {
    let rows = &update.releases;
    let key = |k: usize| {
        text(
            ["insuplc_admdvs", "fix_blng_admdvs", "clr_type"][k],
            rows.keys().map(|key| {
                Some(match k {
                    0 => key.0.clone(),
                    1 => key.1.clone(),
                    _ => key.2.clone(),
                })
            }),
        )
    };
    DataFrame::new(
        rows.len(),
        vec![
            key(0),
            key(1),
            key(2),
            int("released_cnt", rows.values().map(|v| v.0 as i64)),
            int("released_amount", rows.values().map(|v| v.1)),
        ],
    )
}

/// `releases_by_province`: by (insured province, treatment province), `inter` or `intra`.
pub fn releases_by_province_frame(
    by_province: &BTreeMap<(String, String), (u64, i64)>,
) -> PolarsResult<DataFrame> {
    DataFrame::new(
        by_province.len(),
        vec![
            text(
                "insured_prov",
                by_province.keys().map(|k| Some(k.0.clone())),
            ),
            text(
                "treatment_prov",
                by_province.keys().map(|k| Some(k.1.clone())),
            ),
            text(
                "scope",
                by_province
                    .keys()
                    .map(|(a, b)| Some(if a == b { "intra" } else { "inter" }.to_owned())),
            ),
            int("released_cnt", by_province.values().map(|v| v.0 as i64)),
            int("released_amount", by_province.values().map(|v| v.1)),
        ],
    )
}
