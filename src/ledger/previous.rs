//! Finding and reading the previous month's ledger (SPEC §13 "The previous ledger").
//!
//! `--previous DIR` names a finished run's month directory; by default it is
//! `<out>/<previous YYYY-MM>/`. A run is finished when its manifest shows exit status 0, 1
//! or 6. With no finished run of any earlier month in `<out>` the ledger starts empty; any
//! other missing or unfinished previous month is an input error unless `--no-previous`:
//! open money is never dropped silently.

use std::path::{Path, PathBuf};

use polars::prelude::PlSmallStr;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Entry, Event, Kind, Ledger, month_before};
use crate::error::InputError;
use crate::units;

/// Where the previous ledger came from, as the manifest records it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PreviousSource {
    /// The previous calendar month.
    pub month: String,
    /// `read`, `none` (no earlier finished run: the ledger starts empty) or `no-previous`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    pub entries: usize,
}

/// The previous ledger and where it came from.
#[derive(Debug, Clone)]
pub struct Previous {
    pub ledger: Ledger,
    pub source: PreviousSource,
}

/// How the previous ledger is to be found.
#[derive(Debug, Clone, Default)]
pub struct PreviousOptions {
    /// `--previous DIR`.
    pub dir: Option<PathBuf>,
    /// `--no-previous`.
    pub none: bool,
}

fn error(message: String) -> InputError {
    InputError::PreviousLedger { message }
}

/// The month of a finished run in `dir` (exit status 0, 1 or 6; `yidi run`, or the merge
/// of a month done in steps), if it is one.
pub fn finished_month(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("manifest.json")).ok()?;
    let manifest: serde_json::Value = serde_json::from_str(&text).ok()?;
    let finished = matches!(manifest["exit_code"].as_u64(), Some(0 | 1 | 6))
        && (manifest["command"] == "run" || manifest["command"] == "merge");
    finished
        .then(|| manifest["month"].as_str().map(str::to_owned))
        .flatten()
}

/// The months of `out_root` with a finished run, in order.
pub fn finished_months(out_root: &Path) -> Vec<String> {
    let mut months: Vec<String> = std::fs::read_dir(out_root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            units::parse_month(&name)?;
            (finished_month(&entry.path())? == name).then_some(name)
        })
        .collect();
    months.sort();
    months
}

/// Finds and reads the ledger the run of `month` continues.
pub fn locate(
    out_root: &Path,
    month: &str,
    options: &PreviousOptions,
) -> Result<Previous, InputError> {
    let previous = month_before(month);
    let empty = |status| Previous {
        ledger: Ledger::default(),
        source: PreviousSource {
            month: previous.clone(),
            status,
            path: None,
            sha256: None,
            entries: 0,
        },
    };
    if options.none {
        return Ok(empty("no-previous"));
    }
    let dir = match &options.dir {
        Some(dir) => dir.clone(),
        None => {
            let dir = out_root.join(&previous);
            if finished_month(&dir).is_none() {
                let earlier: Vec<String> = finished_months(out_root)
                    .into_iter()
                    .filter(|m| m.as_str() < month)
                    .collect();
                return match earlier.last() {
                    None => Ok(empty("none")),
                    Some(last) => Err(error(format!(
                        "{}: no finished run of the previous month {previous} (the last is {last}); run {previous} first, pass --previous DIR, or --no-previous to start the ledger empty",
                        dir.display()
                    ))),
                };
            }
            dir
        }
    };
    match finished_month(&dir) {
        Some(m) if m == previous => {}
        Some(m) => {
            return Err(error(format!(
                "{}: a run of {m}, not of the previous month {previous}",
                dir.display()
            )));
        }
        None => {
            return Err(error(format!(
                "{}: not a finished run (no manifest.json with exit status 0, 1 or 6)",
                dir.display()
            )));
        }
    }
    let path = dir.join("ledger.csv");
    let bytes = std::fs::read(&path).map_err(|e| {
        error(format!(
            "{}: the previous month's run has no ledger ({e}); rerun {previous} with this version, or pass --no-previous",
            path.display()
        ))
    })?;
    let ledger = parse(&path, &bytes)?;
    Ok(Previous {
        source: PreviousSource {
            month: previous,
            status: "read",
            path: Some(path.display().to_string()),
            sha256: Some(hex::encode(Sha256::digest(&bytes))),
            entries: ledger.entries.len(),
        },
        ledger,
    })
}

/// The months after `month` with a finished run in `out_root` (a rerun must be followed by
/// reruns of these, in order).
pub fn later_months(out_root: &Path, month: &str) -> Vec<String> {
    finished_months(out_root)
        .into_iter()
        .filter(|m| m.as_str() > month)
        .collect()
}

/// Reads `ledger.csv` as a run wrote it.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Ledger, InputError> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::Reader::from_reader(text);
    let at = |line: u64, column: &str, what: String| {
        error(format!("{}:{line}: {column}: {what}", path.display()))
    };
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| at(1, "", e.to_string()))?
        .iter()
        .map(str::to_owned)
        .collect();
    let position = |name: &'static str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| at(1, name, "column missing".into()))
    };
    let columns: Vec<usize> = super::LEDGER_COLUMNS
        .iter()
        .map(|name| position(name))
        .collect::<Result<_, _>>()?;
    let mut ledger = Ledger::default();
    for (k, record) in reader.records().enumerate() {
        let line = k as u64 + 2;
        let record = record.map_err(|e| at(line, "", e.to_string()))?;
        // Text the CSV writer neutralised for a spreadsheet (`'=…`) is read back as written.
        let field = |n: usize| {
            let text = record.get(columns[n]).unwrap_or_default();
            match text.strip_prefix('\'') {
                Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
                _ => text,
            }
        };
        let money = |n: usize| {
            units::parse_fixed(field(n), units::MONEY_SCALE).map_err(|_| {
                at(
                    line,
                    super::LEDGER_COLUMNS[n],
                    format!("'{}' is not money", field(n)),
                )
            })
        };
        let optional = |n: usize| Some(field(n).to_owned()).filter(|t| !t.is_empty());
        let kind = Kind::parse(field(9)).ok_or_else(|| at(line, "kind", field(9).into()))?;
        let last_event = match optional(16) {
            None => None,
            Some(text) => Some(Event::parse(&text).ok_or_else(|| at(line, "last_event", text))?),
        };
        let entry = Entry {
            fixmedins_code: PlSmallStr::from_str(field(0)),
            setl_id: PlSmallStr::from_str(field(1)),
            psn_no: field(2).to_owned(),
            insuplc_admdvs: field(3).to_owned(),
            fix_blng_admdvs: field(4).to_owned(),
            clr_type: field(5).to_owned(),
            first_month: field(6).to_owned(),
            since: field(7).to_owned(),
            kind,
            amount: money(10)?,
            fund_pay_sumamt: money(11)?,
            paid: money(12)?,
            deductions: money(13)?,
            rules: field(14).to_owned(),
            last_event,
            last_event_month: optional(17),
        };
        ledger.entries.insert(entry.key(), entry);
    }
    Ok(ledger)
}
