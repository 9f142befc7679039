//! `yidi validate`: ingest only. Prints what each file held and every rejected row, so a
//! hospital's export can be checked before the month is run.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use crate::error::OutputError;
use crate::exit::ExitStatus;
use crate::ingest::MonthOptions;
use crate::ingest::{self, Month};
use crate::output::{self, Manifest};
use crate::progress::Progress;

#[derive(Debug, Clone)]
pub struct Options {
    pub month: MonthOptions,
    pub out: Option<PathBuf>,
    pub arguments: Vec<String>,
}

/// The per-file counts and the rejects, as printed.
pub fn report(month: &Month, lang: crate::Lang, out: &mut impl Write) -> std::io::Result<()> {
    let width = month
        .files
        .iter()
        .map(|f| f.path.len())
        .max()
        .unwrap_or(4)
        .max(4);
    writeln!(
        out,
        "{:<width$}  {:<9}  {:>10}  {:>10}  {:>10}",
        "file", "encoding", "read", "accepted", "rejected"
    )?;
    for f in &month.files {
        writeln!(
            out,
            "{:<width$}  {:<9}  {:>10}  {:>10}  {:>10}",
            f.path,
            f.encoding.name(),
            f.read,
            f.accepted,
            f.rejected
        )?;
    }
    let counts = Manifest::row_counts(&month.files);
    writeln!(
        out,
        "{:<width$}  {:<9}  {:>10}  {:>10}  {:>10}",
        "total", "", counts.read, counts.accepted, counts.rejected
    )?;
    for dir in &month.set_aside {
        writeln!(
            out,
            "exports/{}: set aside, not cleared this month: {}",
            dir.hospital_dir, dir.reason
        )?;
    }
    for m in &month.dir_mismatches {
        writeln!(
            out,
            "exports/{}: {} rows carry fixmedins_code {}",
            m.hospital_dir, m.rows, m.fixmedins_code
        )?;
    }
    for r in &month.rejects {
        writeln!(
            out,
            "{}:{}:{}: {}",
            r.file,
            r.line,
            r.column.unwrap_or(""),
            r.reason.text(lang)
        )?;
    }
    Ok(())
}

pub fn validate(options: &Options, progress: &Progress) -> anyhow::Result<ExitStatus> {
    let started = chrono::Utc::now();
    // The hospitals' rows are checked as they are read and not kept: a month of any size.
    let month = ingest::read_month_into(
        &options.month.month_dir,
        options.month.read_options(),
        progress,
        &mut |_rows| Ok::<(), crate::error::InputError>(()),
        &mut |_filings| Ok(()),
    )
    .with_context(|| format!("reading {}", options.month.month_dir.display()))?;
    let fail_on_status = if month.rejects.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Findings
    };
    let status = ExitStatus::finished(fail_on_status, !month.set_aside.is_empty());
    report(&month, options.month.lang, &mut std::io::stdout().lock())
        .map_err(|e| OutputError::io("<stdout>", e))?;
    if let Some(dir) = &options.out {
        std::fs::create_dir_all(dir).map_err(|e| OutputError::io(dir, e))?;
        let rejects = output::write_rejects(dir, &month.rejects, options.month.lang)?;
        let manifest = Manifest {
            tool: "yidi",
            version: env!("CARGO_PKG_VERSION"),
            command: "validate".into(),
            arguments: options.arguments.clone(),
            run_id: Manifest::run_id(started),
            started: started.to_rfc3339(),
            finished: chrono::Utc::now().to_rfc3339(),
            month: options.month.month.clone(),
            month_dir: options.month.month_dir.display().to_string(),
            config_hash: options.month.config.hash(),
            config: options.month.config.clone(),
            rows: Manifest::row_counts(&month.files),
            inputs: month.files,
            hospital_dir_mismatches: month.dir_mismatches,
            set_aside: month.set_aside,
            settlement_statuses: Default::default(),
            findings: Vec::new(),
            outputs: rejects,
            steps: Vec::new(),
            stage_timings: progress.timings(),
            ledger: None,
            fail_on_status,
            exit_status: status,
            exit_code: status.code(),
        };
        manifest.write(dir)?;
    }
    Ok(status)
}
