//! `yidi run`: one month from its directory to its results.
//!
//! The checked options are built from the command line and the configuration before any
//! work starts; then the stages run in order and the results are staged and moved into
//! `<out>/<YYYY-MM>/` only when everything succeeded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::config::Level;
use crate::exit::ExitStatus;
use crate::ingest::{self, Month};
use crate::ledger;
use crate::output::key_ranges::{self, KeyRanges};
use crate::output::manifest::RuleCount;
use crate::output::staging::{FileLock, checkpoint};
use crate::output::{self, Manifest, MonthLock, Staging};
use crate::progress::Progress;
use crate::rules::{self, Finding};
use crate::units;
use crate::{partition, report};

mod check;
mod write;

pub use crate::ingest::MonthOptions;

use check::check_parts;
pub use check::{Checked, Part, PartFrames, PartRows, check, check_each, finish_parts};
pub use write::write_inputs;
use write::{SettlementsHead, settlements_head, write_reports, write_settlements, write_tables};

/// When findings make a finished run exit with 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Hold,
    Deduct,
    Flag,
    Never,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub month: MonthOptions,
    pub out_root: PathBuf,
    pub wait: bool,
    pub fail_on: FailOn,
    /// The command line as typed, for the manifest.
    pub arguments: Vec<String>,
    /// How the settlements table is put together from the parts (the defaults but in
    /// tests, which make a small month take the way of a large one).
    pub settlement_ranges: key_ranges::Sizes,
    /// Where the previous month's ledger is (SPEC §13).
    pub previous: ledger::previous::PreviousOptions,
}

/// How a finished run ended and where its results are.
#[derive(Debug)]
pub struct Outcome {
    pub status: ExitStatus,
    pub results: PathBuf,
    pub manifest: Manifest,
}

pub fn lock(root: &Path, month: &str, wait: bool, progress: &Progress) -> anyhow::Result<FileLock> {
    MonthLock::acquire(root, month, wait, &mut |held| {
        progress.message(&format!("{held:#}; waiting"));
    })
}

/// The run's last log line, and its figures as fields: how the month went, and where its
/// results are.
fn outcome(
    results: &Path,
    manifest: &Manifest,
    totals: &(i64, i64, i64, i64),
) -> (String, serde_json::Value) {
    let money = units::format_money_grouped;
    let count = report::charts::count;
    let status = |name: &str| manifest.settlement_statuses.get(name).copied().unwrap_or(0);
    let mut levels: BTreeMap<&str, u64> = BTreeMap::new();
    for count in &manifest.findings {
        if let Some(rule) = rules::find(count.rule) {
            *levels.entry(rule.level.name()).or_default() += count.cnt;
        }
    }
    let level = |name: &str| levels.get(name).copied().unwrap_or(0);
    let (_, cleared, held, disputed) = *totals;
    let fields = serde_json::json!({
        "results": results.display().to_string(),
        "cleared": { "settlements": status("cleared"), "amount": units::format_money(cleared) },
        "held": { "settlements": status("held"), "amount": units::format_money(held) },
        "deducted": { "amount": units::format_money(disputed) },
        "reversed": { "settlements": status("reversed") },
        "excluded": { "settlements": status("excluded") },
        "findings": { "hold": level("hold"), "deduct": level("deduct"), "flag": level("flag") },
        "rows": { "read": manifest.rows.read, "rejected": manifest.rows.rejected },
        "set_aside": manifest.set_aside.iter().map(|s| &s.hospital_dir).collect::<Vec<_>>(),
        "exit_code": manifest.exit_code,
        "fail_on_code": manifest.fail_on_status.code(),
    });
    let line = format!(
        "{}: cleared {} ({} 元), held {} ({} 元), deducted {} 元, reversed {}, excluded {}; findings: {} hold, {} deduct, {} flag; {} of {} rows rejected; {} hospital directories set aside{}; exit {}{}",
        results.display(),
        count(status("cleared")),
        money(cleared),
        count(status("held")),
        money(held),
        money(disputed),
        count(status("reversed")),
        count(status("excluded")),
        count(level("hold")),
        count(level("deduct")),
        count(level("flag")),
        count(manifest.rows.rejected),
        count(manifest.rows.read),
        manifest.set_aside.len(),
        match manifest.set_aside.len() {
            0 => String::new(),
            n => {
                // The directories by name, the first few (the manifest has them all).
                let names: Vec<&str> = manifest
                    .set_aside
                    .iter()
                    .take(5)
                    .map(|d| d.hospital_dir.as_str())
                    .collect();
                let more = if n > 5 { ", …" } else { "" };
                format!(" ({}{more})", names.join(", "))
            }
        },
        manifest.exit_code,
        if manifest.fail_on_status.code() != manifest.exit_code {
            format!(" (--fail-on alone: {})", manifest.fail_on_status.code())
        } else {
            String::new()
        }
    );
    (line, fields)
}

/// 1 when some finding is at the `--fail-on` level or above, else 0.
fn status_of(findings: &[Finding], fail_on: FailOn) -> ExitStatus {
    let rank = |level: Level| match level {
        Level::Flag => 1,
        Level::Deduct => 2,
        Level::Hold => 3,
    };
    let threshold = match fail_on {
        FailOn::Never => return ExitStatus::Success,
        FailOn::Flag => 1,
        FailOn::Deduct => 2,
        FailOn::Hold => 3,
    };
    if findings.iter().any(|f| rank(f.level) >= threshold) {
        ExitStatus::Findings
    } else {
        ExitStatus::Success
    }
}

/// Decisions the ledger could not apply are rejects of `decisions.csv` (SPEC §13 2.): they
/// join the file's rejects, and its counts move from accepted to rejected.
fn add_decision_rejects(month: &mut Month, rejects: Vec<ingest::Reject>) {
    if rejects.is_empty() {
        return;
    }
    if let Some(file) = month.files.iter_mut().find(|f| f.table == "decisions") {
        file.accepted -= rejects.len() as u64;
        file.rejected += rejects.len() as u64;
    }
    month.rejects.extend(rejects);
    month
        .rejects
        .sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
}

pub fn run(options: &Options, progress: &Progress) -> anyhow::Result<Outcome> {
    let started = chrono::Utc::now();
    let month_options = &options.month;
    let _lock = lock(
        &options.out_root,
        &month_options.month,
        options.wait,
        progress,
    )?;
    checkpoint("locked");
    // The ledger this month continues (SPEC §13): found before any work, so a missing
    // previous month stops the run at once.
    let previous =
        ledger::previous::locate(&options.out_root, &month_options.month, &options.previous)?;
    let later_months = ledger::previous::later_months(&options.out_root, &month_options.month);
    if !later_months.is_empty() {
        progress.message(&format!(
            "warning: {} already ran; rerun {} in order after this month, so their ledgers continue this one",
            later_months.join(", "),
            later_months.join(", ")
        ));
    }
    let staging = Staging::new(&options.out_root, &month_options.month)?;
    let dir = staging.path();
    if let Some(warning) = output::disk::check_room(&options.out_root, &month_options.month_dir) {
        progress.message(&warning);
    }
    // Each hospital's rows, and the filings, go to their insured province's part as they
    // are read.
    // And they are kept in memory too while they fit the budget: then each part is checked
    // from there, not read back.
    // (`YIDI_HOLD=0`, for the tests only, holds nothing: every part is read back.)
    let budget = month_options.budget;
    let hold = std::env::var_os("YIDI_HOLD").is_none_or(|v| v != "0");
    let mut spill = partition::Spill::new(dir, budget, hold)?;
    let mut filing_spill = partition::FilingSpill::new(dir, hold.then(|| budget.held_bytes()))?;
    let mut month = ingest::read_month_into(
        &month_options.month_dir,
        month_options.read_options(),
        progress,
        &mut |rows| spill.push(rows).map_err(anyhow::Error::from),
        &mut |chunk| filing_spill.push(chunk).map_err(anyhow::Error::from),
    )
    .with_context(|| format!("reading {}", month_options.month_dir.display()))?;
    add_previous_file(&mut month, &previous.source);
    for dir in &month.set_aside {
        progress.message(&format!(
            "exports/{} set aside, not cleared this month: {}",
            dir.hospital_dir, dir.reason
        ));
    }
    for mismatch in &month.dir_mismatches {
        progress.message(&format!(
            "exports/{}: {} rows carry fixmedins_code {} (kept under their own code)",
            mismatch.hospital_dir, mismatch.rows, mismatch.fixmedins_code
        ));
    }

    let stage = progress.stage("inputs", 0, "tables");
    let mut spilled = spill.finish()?;
    let mut inputs = std::mem::take(&mut spilled.outputs);
    let (filing_parts, filings, held_filings) = filing_spill.finish()?;
    inputs.push(filings);
    inputs.extend(write_inputs(dir, &month)?);
    stage.finish(&format!(
        "{} typed files under inputs/ (settlements and fee lines in {} parts)",
        inputs.len(),
        spilled.parts.len()
    ));
    output::staging::write_back_early(&dir.join("inputs"));
    let checked = check_parts(
        &month,
        &mut spilled,
        held_filings,
        &filing_parts,
        dir,
        month_options,
        options.settlement_ranges,
        progress,
        &previous.ledger,
    )?;
    let waiting = dir.join(partition::FILING_PARTS);
    std::fs::remove_dir_all(&waiting).map_err(|e| crate::error::OutputError::io(&waiting, e))?;
    finish_month(
        staging,
        month,
        checked,
        inputs,
        &Finish {
            command: "run",
            arguments: options.arguments.clone(),
            started,
            fail_on: options.fail_on,
            previous: previous.source,
            later_months,
            steps: Vec::new(),
        },
        month_options,
        progress,
    )
}

/// How a checked month came to be, for its manifest.
pub struct Finish {
    /// `run`, or `merge` for a month done in steps (SPEC §14).
    pub command: &'static str,
    /// The command line as typed.
    pub arguments: Vec<String>,
    pub started: chrono::DateTime<chrono::Utc>,
    pub fail_on: FailOn,
    pub previous: ledger::previous::PreviousSource,
    pub later_months: Vec<String>,
    /// A merge's steps.
    pub steps: Vec<serde_json::Value>,
}

/// The previous ledger is one of the month's inputs (SPEC §13): listed after its files.
pub fn add_previous_file(month: &mut Month, source: &ledger::previous::PreviousSource) {
    if let (Some(path), Some(sha256)) = (&source.path, &source.sha256) {
        month.files.push(ingest::InputFile {
            path: path.clone(),
            table: "ledger",
            size: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
            sha256: sha256.clone(),
            encoding: ingest::Encoding::Utf8Bom,
            read: source.entries as u64,
            accepted: source.entries as u64,
            rejected: 0,
            set_aside: None,
        });
    }
}

/// Writes a checked month into its staging directory (the settlements, the other tables,
/// the reports, then the manifest), commits it and adds it to the history.
#[allow(clippy::too_many_arguments)]
pub fn finish_month(
    staging: Staging,
    mut month: Month,
    mut checked: Checked,
    inputs: Vec<output::OutputFile>,
    how: &Finish,
    month_options: &MonthOptions,
    progress: &Progress,
) -> anyhow::Result<Outcome> {
    let dir = staging.path();
    add_decision_rejects(&mut month, std::mem::take(&mut checked.ledger.rejects));
    let write = progress.stage("write", 0, "files");
    let mut settlements = std::mem::replace(&mut checked.settlements, KeyRanges::held());
    let settlement_rows = settlements.rows();
    let SettlementsHead { head, taken } = settlements_head(dir, &mut settlements)?;
    let checked = checked;
    // The settlements, the other tables and the reports are independent: written side by
    // side (the workbook, the longest, has the settlements' first rows already).
    let (written, (tables, reports)) = rayon::join(
        || write_settlements(dir, &mut settlements, taken),
        || {
            rayon::join(
                || write_tables(dir, &checked, &month, month_options),
                || write_reports(dir, &checked, &head, settlement_rows, &month, month_options),
            )
        },
    );
    let mut outputs = written?;
    outputs.extend(tables?);
    outputs.extend(reports?);
    outputs.extend(inputs);
    let findings = &checked.findings;
    outputs.sort_by(|a, b| a.path.cmp(&b.path));
    let fail_on_status = status_of(findings, how.fail_on);
    let outcome_totals = checked.totals();
    let status = ExitStatus::finished(fail_on_status, !month.set_aside.is_empty());
    write.finish(&format!("{} files", outputs.len() + 1));

    let manifest = Manifest {
        tool: "yidi",
        version: env!("CARGO_PKG_VERSION"),
        command: how.command.into(),
        arguments: how.arguments.clone(),
        run_id: Manifest::run_id(how.started),
        started: how.started.to_rfc3339(),
        finished: chrono::Utc::now().to_rfc3339(),
        month: month_options.month.clone(),
        month_dir: month_options.month_dir.display().to_string(),
        config_hash: month_options.config.hash(),
        config: month_options.config.clone(),
        rows: Manifest::row_counts(&month.files),
        inputs: month.files,
        hospital_dir_mismatches: month.dir_mismatches,
        set_aside: month.set_aside,
        settlement_statuses: checked.statuses.clone(),
        findings: RuleCount::tally(findings),
        outputs,
        stage_timings: progress.timings(),
        steps: how.steps.clone(),
        ledger: Some(output::manifest::LedgerRecord::new(
            how.previous.clone(),
            &checked.ledger,
            how.later_months.clone(),
        )),
        fail_on_status,
        exit_status: status,
        exit_code: status.code(),
    };
    manifest.write(staging.path())?;
    let out_root = staging.root().to_owned();
    let results = staging.commit()?;
    checkpoint("committed");
    output::history::append(
        &out_root,
        &month_options.month,
        &manifest.run_id,
        &manifest.finished,
        &manifest.findings,
    )?;
    let (line, fields) = outcome(&results, &manifest, &outcome_totals);
    progress.outcome(&line, &fields);
    // Freeing the month's tables and maps took a province month's run 0.2 s after its
    // results were out.
    check::drop_aside(checked);
    Ok(Outcome {
        status,
        results,
        manifest,
    })
}
