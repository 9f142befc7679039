//! Everything a run writes: tables (CSV and Parquet), rejects, the manifest, all staged and
//! moved into place at the end.

pub mod manifest;
pub mod staging;
pub mod table;

use std::path::Path;

use polars::prelude::*;

pub use manifest::Manifest;
pub use staging::{LockHeld, MonthLock, Staging};
pub use table::OutputFile;

use crate::Lang;
use crate::error::OutputError;
use crate::ingest::Reject;

/// `rejects.csv`: `file`, `line`, `column`, `reason` (SPEC §9), in the order given.
pub fn write_rejects(
    root: &Path,
    rejects: &[Reject],
    lang: Lang,
) -> Result<OutputFile, OutputError> {
    let frame =
        rejects_frame(rejects, lang).map_err(|e| OutputError::io(root.join("rejects.csv"), e))?;
    let written = table::write_table(root, "rejects", &frame, &|_| None, false)?;
    Ok(written.into_iter().next().expect("the csv file"))
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
