//! `yidi run`: one month from its directory to its results.
//!
//! The checked options are built from the command line and the configuration before any
//! work starts; then the stages run in order and the results are staged and moved into
//! `<out>/<YYYY-MM>/` only when everything succeeded.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::Lang;
use crate::cli::{FailOn, MonthArgs, RunArgs};
use crate::config::Config;
use crate::config::Level;
use crate::error::ConfigError;
use crate::exit::ExitStatus;
use crate::ingest::{self, Month, Table};
use crate::output::manifest::RuleCount;
use crate::output::staging::{FileLock, checkpoint};
use crate::output::{self, Manifest, MonthLock, OutputFile, Staging};
use crate::progress::Progress;
use crate::rules::{self, Finding};
use crate::units;
use crate::{clearing, line_audit, matching, model, payment, report, scope};

/// What every command that reads a month needs, checked.
#[derive(Debug, Clone)]
pub struct MonthOptions {
    pub month_dir: PathBuf,
    /// `YYYY-MM`.
    pub month: String,
    pub config: Config,
    pub lang: Lang,
}

impl MonthOptions {
    pub fn from_args(args: &MonthArgs) -> Result<MonthOptions, ConfigError> {
        let month = match &args.month {
            Some(month) => month.clone(),
            None => args
                .month_dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
        if units::parse_month(&month).is_none() {
            return Err(ConfigError::Usage(match &args.month {
                Some(_) => format!("--month {month}: expected YYYY-MM"),
                None => format!(
                    "{}: the directory is not named YYYY-MM; pass --month YYYY-MM",
                    args.month_dir.display()
                ),
            }));
        }
        Ok(MonthOptions {
            month_dir: args.month_dir.clone(),
            month,
            config: Config::load(args.config.as_deref())?,
            lang: args.lang,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub month: MonthOptions,
    pub out_root: PathBuf,
    pub wait: bool,
    pub fail_on: FailOn,
    /// The command line as typed, for the manifest.
    pub arguments: Vec<String>,
}

impl Options {
    pub fn from_args(args: &RunArgs, arguments: Vec<String>) -> Result<Options, ConfigError> {
        Ok(Options {
            month: MonthOptions::from_args(&args.month)?,
            out_root: args.out.clone(),
            wait: args.wait,
            fail_on: args.fail_on,
            arguments,
        })
    }
}

/// How a finished run ended and where its results are.
#[derive(Debug)]
pub struct Outcome {
    pub status: ExitStatus,
    pub results: PathBuf,
    pub manifest: Manifest,
}

/// A run id that sorts by time: `20261122T072054Z-<pid>`.
pub fn run_id(now: chrono::DateTime<chrono::Utc>) -> String {
    format!("{}-{}", now.format("%Y%m%dT%H%M%SZ"), std::process::id())
}

fn lock(root: &Path, month: &str, wait: bool, progress: &Progress) -> anyhow::Result<FileLock> {
    MonthLock::acquire(root, month, wait, &mut |held| {
        progress.message(&format!("{held:#}; waiting"));
    })
}

/// The decimal scale of a column of an input table's frame.
pub fn input_scale(table: Table) -> impl Fn(&str) -> Option<u32> {
    move |name: &str| {
        table
            .column_index(name)
            .and_then(|i| table.columns()[i].kind.scale())
    }
}

/// Writes the typed, masked input tables under `inputs/` for analysts' queries.
fn write_inputs(dir: &Path, month: &Month) -> Result<Vec<OutputFile>, crate::error::OutputError> {
    std::fs::create_dir_all(dir.join("inputs"))
        .map_err(|e| crate::error::OutputError::io(dir.join("inputs"), e))?;
    use rayon::prelude::*;
    Table::ALL
        .par_iter()
        .filter_map(|&table| month.table(table).map(|frame| (table, frame)))
        .map(|(table, frame)| {
            output::table::write_parquet(
                dir,
                &format!("inputs/{}", table.name()),
                frame,
                &input_scale(table),
                polars::prelude::ParquetCompression::Lz4Raw,
            )
        })
        .collect()
}

/// What checking a month gives.
pub struct Checked {
    /// Sorted by SPEC §9's key.
    pub findings: Vec<Finding>,
    /// The `settlements` table.
    pub settlements: polars::prelude::DataFrame,
    /// `clearing_by_area`, `clearing_by_province`, `province_net`, `problems_by_hospital`.
    pub clearing: Vec<(&'static str, polars::prelude::DataFrame)>,
    /// Settlement rows per status.
    pub statuses: std::collections::BTreeMap<&'static str, u64>,
    /// The clearing groups behind the clearing tables.
    pub groups: clearing::Clearing,
    pub region_names: std::collections::BTreeMap<String, String>,
    pub hospital_names: std::collections::BTreeMap<String, String>,
}

impl Checked {
    /// (fund, cleared, held, disputed) over the clearing, fen.
    pub fn totals(&self) -> (i64, i64, i64, i64) {
        let money = |name: &str| {
            let k = clearing::CLEARING_MONEY
                .iter()
                .position(|m| *m == name)
                .expect("a money column");
            self.groups
                .by_province
                .values()
                .map(|t| t.money[k])
                .sum::<i64>()
        };
        (
            money("fund_pay_sumamt"),
            money("cleared_amount"),
            money("held_amount"),
            money("disputed_amount"),
        )
    }
}

/// Scope, matching, §6 and the rules (all, or the one `only` names) over an ingested
/// month, and each settlement row's status.
pub fn check(
    month: &mut Month,
    options: &MonthOptions,
    only: Option<&str>,
    progress: &Progress,
) -> Checked {
    let stage = progress.stage("model", 0, "tables");
    let (year, _) = units::parse_month(&options.month).expect("a checked month");
    let model = model::Model::new(month, year);
    stage.finish(&format!(
        "{} settlement rows, {} filings, {} fee lines",
        model.settlements.len(),
        model.filings.len(),
        model.fee_lines.len(),
    ));
    let stage = progress.stage("match", 0, "settlements");
    let scope = scope::classify(&model.settlements, &model.hospitals, &options.month);
    let outcomes = matching::match_all(&model.settlements, &model.filings, &scope, &options.config);
    stage.finish("scope and filings");
    let stage = progress.stage("policy", 0, "settlements");
    let expected = payment::compute(&model, &scope);
    let line_owner = payment::attach_lines(&model, &scope);
    let line_item = line_audit::catalogue_items(&model, &scope, &line_owner);
    stage.finish("fund payments by policy, fee lines against the catalogue");
    let stage = progress.stage("rules", rules::RULES.len() as u64, "rules");
    let ctx = rules::Context {
        model: &model,
        scope: &scope,
        outcomes: &outcomes,
        expected: &expected,
        line_owner: &line_owner,
        line_item: &line_item,
        config: &options.config,
        lang: options.lang,
        month: &options.month,
    };
    let findings = rules::run(&ctx, only, &|| stage.inc(1));
    stage.finish(&format!(
        "{} rules, {} findings",
        rules::RULES.len(),
        findings.len()
    ));
    let stage = progress.stage("clearing", 0, "settlements");
    let rows = clearing::settle(&model, &scope, &outcomes, &expected, &findings);
    let mut statuses = std::collections::BTreeMap::new();
    for row in &rows {
        *statuses.entry(row.status.name()).or_default() += 1;
    }
    let settlements =
        clearing::settlements_frame(&model, &scope, &rows).expect("columns of one height");
    let groups = clearing::clear(&model, &scope, &rows);
    let clearing = vec![
        ("clearing_by_area", groups.by_area_frame()),
        ("clearing_by_province", groups.by_province_frame()),
        ("province_net", groups.province_net_frame()),
        (
            "problems_by_hospital",
            clearing::problems_by_hospital(&model, &findings),
        ),
    ]
    .into_iter()
    .map(|(name, frame)| (name, frame.expect("columns of one height")))
    .collect();
    stage.finish(&format!("{} settlement rows", rows.len()));
    let region_names = model::region_names(&month.regions);
    let hospital_names = model
        .hospitals
        .values()
        .map(|h| (h.fixmedins_code.clone(), h.fixmedins_name.clone()))
        .collect();
    drop((rows, line_item, line_owner, expected, outcomes, scope));
    drop_aside(model);
    Checked {
        findings,
        settlements,
        clearing,
        statuses,
        groups,
        region_names,
        hospital_names,
    }
}

/// Frees a month's worth of rows on a thread of its own: tens of millions of small
/// allocations take seconds to free, and nothing waits for them (the process may end
/// first, and the system takes the memory back at once).
fn drop_aside<T: Send + 'static>(value: T) {
    std::thread::spawn(move || drop(value));
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

/// `report.html` and `report.xlsx`.
fn write_reports(
    dir: &Path,
    checked: &Checked,
    month: &Month,
    options: &MonthOptions,
) -> Result<Vec<OutputFile>, crate::error::OutputError> {
    let counts = Manifest::row_counts(&month.files);
    let nets = checked.groups.province_net();
    let page = report::html::Page {
        month: &options.month,
        lang: options.lang,
        rows_read: counts.read,
        rejected: counts.rejected,
        statuses: &checked.statuses,
        totals: checked.totals(),
        flows: checked
            .groups
            .by_province
            .iter()
            .filter(|((a, b), _)| a != b)
            .map(|(k, t)| (k.clone(), t.money[clearing::CLEARING_MONEY.len() - 1]))
            .collect(),
        nets: &nets,
        findings: &checked.findings,
        region_names: &checked.region_names,
        hospital_names: &checked.hospital_names,
    };
    let html_path = dir.join("report.html");
    std::fs::write(&html_path, report::html::render(&page))
        .map_err(|e| crate::error::OutputError::io(&html_path, e))?;
    let findings = output::findings_frame(&checked.findings)
        .map_err(|e| crate::error::OutputError::io(dir.join("report.xlsx"), e))?;
    let rejects = output::rejects_frame(&month.rejects, options.lang)
        .map_err(|e| crate::error::OutputError::io(dir.join("report.xlsx"), e))?;
    let no_scale = |_: &str| None;
    let mut tables: Vec<(&str, &polars::prelude::DataFrame, output::table::ScaleOf)> = vec![
        ("findings", &findings, &output::findings_scale),
        (
            "settlements",
            &checked.settlements,
            &clearing::settlements_scale,
        ),
    ];
    for (name, frame) in &checked.clearing {
        let scale: output::table::ScaleOf = if *name == "problems_by_hospital" {
            &output::findings_scale
        } else {
            &clearing::clearing_scale
        };
        tables.push((name, frame, scale));
    }
    tables.push(("rejects", &rejects, &no_scale));
    let xlsx_path = dir.join("report.xlsx");
    report::xlsx::write(&xlsx_path, &tables)?;
    Ok(vec![
        output::table::describe(dir, &html_path, checked.findings.len())?,
        output::table::describe(dir, &xlsx_path, checked.findings.len())?,
    ])
}

/// The month's tables (SPEC §9) and rejects, CSV and Parquet.
fn write_tables(
    dir: &Path,
    checked: &Checked,
    month: &Month,
    lang: Lang,
) -> Result<Vec<OutputFile>, crate::error::OutputError> {
    let mut outputs = output::write_rejects(dir, &month.rejects, lang)?;
    let findings_frame = output::findings_frame(&checked.findings)
        .map_err(|e| crate::error::OutputError::io(dir.join("findings"), e))?;
    outputs.extend(output::table::write_table(
        dir,
        "findings",
        &findings_frame,
        &output::findings_scale,
        true,
    )?);
    checkpoint("writing");
    outputs.extend(output::table::write_table(
        dir,
        "settlements",
        &checked.settlements,
        &clearing::settlements_scale,
        true,
    )?);
    for (name, frame) in &checked.clearing {
        let scale = |column: &str| match *name {
            "problems_by_hospital" => output::findings_scale(column),
            _ => clearing::clearing_scale(column),
        };
        outputs.extend(output::table::write_table(dir, name, frame, &scale, true)?);
    }
    Ok(outputs)
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
    let mut month = ingest::read_month(&month_options.month_dir, &month_options.config, progress)
        .with_context(|| format!("reading {}", month_options.month_dir.display()))?;
    for mismatch in &month.dir_mismatches {
        progress.message(&format!(
            "exports/{}: {} rows carry fixmedins_code {} (kept under their own code)",
            mismatch.hospital_dir, mismatch.rows, mismatch.fixmedins_code
        ));
    }

    let staging = Staging::new(&options.out_root, &month_options.month)?;
    let dir = staging.path();
    // The typed inputs first: the checks then take the large frames and free them.
    let stage = progress.stage("inputs", 0, "tables");
    let inputs = write_inputs(dir, &month)?;
    stage.finish(&format!("{} typed tables under inputs/", inputs.len()));
    let checked = check(&mut month, month_options, None, progress);
    let findings = &checked.findings;

    let write = progress.stage("write", 0, "files");
    // The tables and the reports are independent: written side by side.
    let (tables, reports) = rayon::join(
        || write_tables(dir, &checked, &month, month_options.lang),
        || write_reports(dir, &checked, &month, month_options),
    );
    let mut outputs = tables?;
    outputs.extend(reports?);
    outputs.extend(inputs);
    outputs.sort_by(|a, b| a.path.cmp(&b.path));
    let status = status_of(findings, options.fail_on);
    write.finish(&format!("{} files", outputs.len() + 1));

    let manifest = Manifest {
        tool: "yidi",
        version: env!("CARGO_PKG_VERSION"),
        command: "run".into(),
        arguments: options.arguments.clone(),
        run_id: run_id(started),
        started: started.to_rfc3339(),
        finished: chrono::Utc::now().to_rfc3339(),
        month: month_options.month.clone(),
        month_dir: month_options.month_dir.display().to_string(),
        config_hash: month_options.config.hash(),
        config: month_options.config.clone(),
        rows: Manifest::row_counts(&month.files),
        inputs: month.files,
        hospital_dir_mismatches: month.dir_mismatches,
        settlement_statuses: checked.statuses.clone(),
        findings: RuleCount::tally(findings),
        outputs,
        stage_timings: progress.timings(),
        exit_status: status,
        exit_code: status.code(),
    };
    manifest.write(staging.path())?;
    let results = staging.commit()?;
    checkpoint("committed");
    output::history::append(
        &options.out_root,
        &month_options.month,
        &manifest.run_id,
        &manifest.finished,
        &manifest.findings,
    )?;
    progress.message(&format!(
        "{}: {} rows read, {} accepted, {} rejected",
        results.display(),
        manifest.rows.read,
        manifest.rows.accepted,
        manifest.rows.rejected
    ));
    Ok(Outcome {
        status,
        results,
        manifest,
    })
}
