//! Everything a run writes: tables (CSV and Parquet), rejects, the manifest, all staged and
//! moved into place at the end.

pub mod disk;
pub mod history;
pub mod key_ranges;
pub mod manifest;
pub mod parquet;
pub mod staging;
pub mod table;

use std::path::Path;

use polars::prelude::*;

pub use crate::error::LockHeld;
pub use manifest::Manifest;
pub use staging::{MonthLock, Staging};
pub use table::OutputFile;

use crate::Lang;
use crate::error::OutputError;
use crate::ingest::Reject;
use crate::rules::Finding;

/// `rejects.csv` (and `rejects.parquet`, for queries): `file`, `line`, `column`, `reason`
/// (SPEC §9), in the order given.
pub fn write_rejects(
    root: &Path,
    rejects: &[Reject],
    lang: Lang,
) -> Result<Vec<OutputFile>, OutputError> {
    let frame =
        rejects_frame(rejects, lang).map_err(|e| OutputError::io(root.join("rejects.csv"), e))?;
    table::write_table(root, "rejects", &frame, &|_| None, true)
}

pub fn rejects_frame(rejects: &[Reject], lang: Lang) -> PolarsResult<DataFrame> {
    let file: StringChunked = rejects.iter().map(|r| Some(r.file.as_str())).collect();
    let line: Int64Chunked = rejects.iter().map(|r| Some(r.line as i64)).collect();
    let column: StringChunked = rejects.iter().map(|r| r.column).collect();
    let reason: StringChunked = rejects.iter().map(|r| Some(r.reason.text(lang))).collect();
    DataFrame::new(
        rejects.len(),
        vec![
            file.with_name("file".into()).into_column(),
            line.with_name("line".into()).into_column(),
            column.with_name("column".into()).into_column(),
            reason.with_name("reason".into()).into_column(),
        ],
    )
}

/// The `findings` table (SPEC §9), rows in the order given (already sorted).
pub fn findings_frame(findings: &[Finding]) -> PolarsResult<DataFrame> {
    let text = |name: &str, get: &dyn Fn(&Finding) -> Option<String>| {
        findings
            .iter()
            .map(get)
            .collect::<StringChunked>()
            .with_name(name.into())
            .into_column()
    };
    let level = |f: &Finding| Some(f.level.name().to_owned());
    let amount: Int64Chunked = findings.iter().map(|f| f.amount).collect();
    DataFrame::new(
        findings.len(),
        vec![
            text("rule", &|f| Some(f.rule.to_owned())),
            text("level", &level),
            text("fixmedins_code", &|f| f.fixmedins_code.clone()),
            text("setl_id", &|f| f.setl_id.clone()),
            text("feedetl_sn", &|f| f.feedetl_sn.clone()),
            text("trt_dcla_detl_sn", &|f| f.trt_dcla_detl_sn.clone()),
            text("psn_no", &|f| f.psn_no.clone()),
            text("insuplc_admdvs", &|f| f.insuplc_admdvs.clone()),
            text("fix_blng_admdvs", &|f| f.fix_blng_admdvs.clone()),
            amount.with_name("amount".into()).into_column(),
            text("detail", &|f| Some(f.detail.clone())),
        ],
    )
}

/// The decimal scale of the `findings` columns: `amount` is money.
pub fn findings_scale(name: &str) -> Option<u32> {
    (name == "amount").then_some(crate::units::MONEY_SCALE)
}
