//! `<out>/history.csv` and `.parquet`: one row per rule for each finished run (month, run
//! id, finished time, count, amount), so trends across months and reruns can be queried.
//! Runs of different months share it, so it is rewritten under a lock of its own
//! (`<out>/.history.lock`), written whole to temporary files and renamed.

use std::path::Path;

use polars::prelude::*;

use super::manifest::RuleCount;
use super::table;
use crate::error::OutputError;

const COLUMNS: [&str; 6] = ["month", "run_id", "finished", "rule", "cnt", "amount"];

/// Appends this run's rows to the history of the output root.
pub fn append(
    root: &Path,
    month: &str,
    run_id: &str,
    finished: &str,
    counts: &[RuleCount],
) -> Result<(), OutputError> {
    let _lock = super::staging::FileLock::acquire(&root.join(".history.lock"), true, &mut |_| {})
        .map_err(|e| OutputError::io(root.join(".history.lock"), format!("{e:#}")))?;
    let path = root.join("history.csv");
    let mut rows: Vec<Vec<String>> = Vec::new();
    if path.exists() {
        let text = std::fs::read_to_string(&path).map_err(|e| OutputError::io(&path, e))?;
        let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        for record in reader.records() {
            let record = record.map_err(|e| OutputError::io(&path, e))?;
            rows.push(record.iter().map(str::to_owned).collect());
        }
    }
    for count in counts {
        rows.push(vec![
            month.to_owned(),
            run_id.to_owned(),
            finished.to_owned(),
            count.rule.to_owned(),
            count.cnt.to_string(),
            count.amount.clone(),
        ]);
    }
    let text_column = |k: usize| {
        rows.iter()
            .map(|r| r.get(k).map(String::as_str))
            .collect::<StringChunked>()
            .with_name(COLUMNS[k].into())
            .into_column()
    };
    let numbers = |k: usize, scale: u32| {
        rows.iter()
            .map(|r| {
                r.get(k)
                    .and_then(|v| crate::units::parse_fixed(v, scale).ok())
            })
            .collect::<Int64Chunked>()
            .with_name(COLUMNS[k].into())
            .into_column()
    };
    let frame = DataFrame::new(
        rows.len(),
        vec![
            text_column(0),
            text_column(1),
            text_column(2),
            text_column(3),
            numbers(4, 0),
            numbers(5, 2),
        ],
    )
    .map_err(|e| OutputError::io(&path, e))?;
    let staging = root.join(".history.tmp");
    std::fs::create_dir_all(&staging).map_err(|e| OutputError::io(&staging, e))?;
    let scale = |name: &str| (name == "amount").then_some(crate::units::MONEY_SCALE);
    table::write_table(&staging, "history", &frame, &scale, true)?;
    // On disk before they replace the old files, and the renames on disk before the run
    // counts as recorded: a crash leaves the old history or the new, whole.
    super::staging::sync_tree(&staging)?;
    for ext in ["csv", "parquet"] {
        let from = staging.join(format!("history.{ext}"));
        let to = root.join(format!("history.{ext}"));
        std::fs::rename(&from, &to).map_err(|e| OutputError::io(&to, e))?;
    }
    let _ = std::fs::remove_dir(&staging);
    super::staging::sync_dir(root)
}
