//! `yidi run`: one month from its directory to its results.
//!
//! The checked options are built from the command line and the configuration before any
//! work starts; then the stages run in order and the results are staged and moved into
//! `<out>/<YYYY-MM>/` only when everything succeeded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use polars::prelude::{DataFrame, PlHashSet, PlSmallStr};

use crate::Lang;
use crate::cli::{FailOn, MonthArgs, RunArgs};
use crate::config::Config;
use crate::config::Level;
use crate::error::ConfigError;
use crate::exit::ExitStatus;
use crate::ingest::{self, Month, Table};
use crate::ledger::{self, Ledger};
use crate::output::key_ranges::{self, KeyRanges};
use crate::output::manifest::RuleCount;
use crate::output::staging::{FileLock, checkpoint};
use crate::output::{self, Manifest, MonthLock, OutputFile, Staging};
use crate::progress::Progress;
use crate::rules::amount::summary_disagrees::Tally;
use crate::rules::{self, Finding};
use crate::units;
use crate::{clearing, line_audit, matching, model, partition, payment, report, scope};

/// What every command that reads a month needs, checked.
#[derive(Debug, Clone)]
pub struct MonthOptions {
    pub month_dir: PathBuf,
    /// `YYYY-MM`.
    pub month: String,
    pub config: Config,
    pub lang: Lang,
    /// `--strict`: a hospital directory that cannot be read stops the month.
    pub strict: bool,
}

impl MonthOptions {
    pub fn read_options(&self) -> ingest::ReadOptions<'_> {
        ingest::ReadOptions {
            config: &self.config,
            strict: self.strict,
        }
    }

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
            strict: args.strict,
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
    /// How the settlements table is put together from the parts (the defaults but in
    /// tests, which make a small month take the way of a large one).
    pub settlement_ranges: key_ranges::Sizes,
    /// Where the previous month's ledger is (SPEC §13).
    pub previous: ledger::previous::PreviousOptions,
}

impl Options {
    pub fn from_args(args: &RunArgs, arguments: Vec<String>) -> Result<Options, ConfigError> {
        Ok(Options {
            month: MonthOptions::from_args(&args.month)?,
            out_root: args.out.clone(),
            wait: args.wait,
            fail_on: args.fail_on,
            arguments,
            settlement_ranges: key_ranges::Sizes::default(),
            previous: ledger::previous::PreviousOptions {
                dir: args.previous.clone(),
                none: args.no_previous,
            },
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

/// Writes the typed, masked input tables under `inputs/` for analysts' queries: every
/// table but the hospitals' settlements and fee lines and the filings, which were written
/// as they were read ([`partition::Spill`], [`partition::FilingSpill`]).
fn write_inputs(dir: &Path, month: &Month) -> Result<Vec<OutputFile>, crate::error::OutputError> {
    std::fs::create_dir_all(dir.join("inputs"))
        .map_err(|e| crate::error::OutputError::io(dir.join("inputs"), e))?;
    use rayon::prelude::*;
    Table::ALL
        .par_iter()
        .filter(|table| !matches!(table, Table::Setlinfo | Table::Feedetail | Table::Filings))
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
    /// The `settlements` table, by ranges of its key.
    pub settlements: KeyRanges,
    /// `clearing_by_area`, `clearing_by_province`, `province_net`, `problems_by_hospital`.
    pub clearing: Vec<(&'static str, DataFrame)>,
    /// Settlement rows per status.
    pub statuses: BTreeMap<&'static str, u64>,
    /// The clearing groups behind the clearing tables.
    pub groups: clearing::Clearing,
    pub region_names: BTreeMap<String, String>,
    pub hospital_names: BTreeMap<String, String>,
    /// The ledger's step of the month (SPEC §13).
    pub ledger: ledger::update::Update,
    /// Releases by (insured province, treatment province): (count, fen).
    pub releases: BTreeMap<(String, String), (u64, i64)>,
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

/// Two parts with at most this many settlement rows and fee lines together are checked
/// side by side (a province's month has parts of about 700 000; a national month's, 10
/// million).
const SIDE_BY_SIDE_ROWS: usize = 4 << 20;

/// The steps of checking a part, as the log and the manifest time them.
/// (`read`: a part's rows read back from its files, with its persons' enrollment and
/// year-to-date rows.)
const PHASES: [&str; 6] = ["read", "model", "match", "policy", "rules", "clearing"];

/// What checking one part of a month gives, before the parts are put together.
struct Part {
    findings: Vec<Finding>,
    settlements: DataFrame,
    statuses: BTreeMap<&'static str, u64>,
    groups: clearing::Clearing,
    /// The part's rows of the directories with a summary, for AMT003.
    tally: Tally,
    /// Of each of [`PHASES`].
    seconds: [f64; 6],
    /// The ledger entries its rows open, and the previous entries its reversals close.
    opened: Vec<ledger::Entry>,
    closed_entries: Vec<ledger::Key>,
}

/// Scope, matching, §6 and the rules (all, or the one `only` names) over one part of a
/// month (or a whole month), and each settlement row's status.
fn check_part(
    month: &mut Month,
    options: &MonthOptions,
    only: Option<&str>,
    summary_dirs: &PlHashSet<&str>,
    previous: &Ledger,
) -> Part {
    let mut seconds = [0.0; 6];
    let mut clock = std::time::Instant::now();
    let mut lap = |k: usize| {
        seconds[k] += clock.elapsed().as_secs_f64();
        clock = std::time::Instant::now();
    };
    let (year, _) = units::parse_month(&options.month).expect("a checked month");
    let model = model::Model::new(month, year);
    let tally = Tally::of(&model.settlements, summary_dirs);
    lap(1);
    let scope = scope::classify(
        &model.settlements,
        &model.hospitals,
        &options.month,
        previous,
    );
    let outcomes = matching::match_all(&model.settlements, &model.filings, &scope, &options.config);
    lap(2);
    let expected = payment::compute(&model, &scope);
    let line_owner = payment::attach_lines(&model, &scope);
    let line_item = line_audit::catalogue_items(&model, &scope, &line_owner);
    lap(3);
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
        previous,
    };
    let findings = rules::run(&ctx, only, &|| ());
    lap(4);
    let rows = clearing::settle(&model, &scope, &outcomes, &expected, &findings);
    let mut statuses = BTreeMap::new();
    for row in &rows {
        *statuses.entry(row.status.name()).or_default() += 1;
    }
    let settlements =
        clearing::settlements_frame(&model, &scope, &rows).expect("columns of one height");
    let groups = clearing::clear(&model, &scope, &rows);
    let opened = ledger::update::opened(&model, &scope, &rows, &findings, &options.month);
    let closed_entries = scope.closed_entries.clone();
    lap(5);
    drop((rows, line_item, line_owner, expected, outcomes, scope));
    drop_aside(model);
    Part {
        findings,
        settlements,
        statuses,
        groups,
        tally,
        seconds,
        opened,
        closed_entries,
    }
}

/// Scope, matching, §6 and the rules (all, or the one `only` names) over a whole month
/// held in memory, continuing the `previous` month's ledger, and each settlement row's
/// status.
pub fn check(
    month: &mut Month,
    options: &MonthOptions,
    only: Option<&str>,
    progress: &Progress,
    previous: &Ledger,
) -> Checked {
    let mut part = check_part(month, options, only, &PlHashSet::default(), previous);
    for (name, seconds) in PHASES.iter().zip(part.seconds).skip(1) {
        progress.record(name, seconds, "one part");
    }
    let mut settlements = KeyRanges::held();
    settlements
        .push(std::mem::take(&mut part.settlements))
        .expect("held in memory");
    assemble(
        vec![part],
        settlements,
        month,
        Vec::new(),
        options,
        previous,
    )
}

/// Checks a month part by part (SPEC §11): each insured province's settlements and fee
/// lines (spilled under `inputs/` as they were read) with its filings; then AMT003 over
/// the whole month, from the parts' tallies.
#[allow(clippy::too_many_arguments)]
fn check_parts(
    month: &Month,
    spilled: &partition::Spilled,
    filing_parts: &[PlSmallStr],
    dir: &Path,
    options: &MonthOptions,
    sizes: key_ranges::Sizes,
    progress: &Progress,
    previous: &Ledger,
) -> Result<Checked, crate::error::OutputError> {
    let mut settlements = KeyRanges::new(&spilled.by_hospital, sizes, dir)?;
    let spilled = &spilled.parts;
    let mut names: Vec<PlSmallStr> = spilled.keys().chain(filing_parts).cloned().collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        // No settlement and no filing accepted: one empty part gives the empty tables.
        names.push(PlSmallStr::EMPTY);
    }
    let summary_dirs = rules::amount::summary_disagrees::summary_dirs(&month.summary);
    let stage = progress.stage("parts", names.len() as u64, "parts");
    let check_one = |name: &PlSmallStr| -> Result<Part, crate::error::OutputError> {
        let clock = std::time::Instant::now();
        let (setlinfo, feedetail) = if spilled.contains_key(name) {
            partition::read_part(dir, name)?
        } else {
            (
                ingest::empty_hospital_frame(Table::Setlinfo),
                ingest::empty_hospital_frame(Table::Feedetail),
            )
        };
        let filings = partition::read_filings(dir, name)?.unwrap_or_else(|| month.filings.clone());
        let mut part = partition::month_of(month, setlinfo, feedetail, filings)
            .map_err(|e| crate::error::OutputError::io(dir.join("inputs"), e))?;
        let read = clock.elapsed().as_secs_f64();
        let mut checked = check_part(&mut part, options, None, &summary_dirs, previous);
        checked.seconds[0] = read;
        stage.inc(1);
        Ok(checked)
    };
    // Two small parts at a time: one part's steps do not keep both cores busy. A large
    // part (a national month's) is checked alone, so that memory holds one at a time.
    let rows = |name: &PlSmallStr| spilled.get(name).copied().unwrap_or(0);
    // Each part's settlements go to their key ranges at once (a national month's would
    // not fit in memory together).
    let mut parts = Vec::with_capacity(names.len());
    let mut keep = |mut part: Part| -> Result<(), crate::error::OutputError> {
        settlements.push(std::mem::take(&mut part.settlements))?;
        parts.push(part);
        Ok(())
    };
    let mut k = 0;
    while k < names.len() {
        match names.get(k + 1) {
            Some(next) if rows(&names[k]) + rows(next) <= SIDE_BY_SIDE_ROWS => {
                let (a, b) = rayon::join(|| check_one(&names[k]), || check_one(next));
                keep(a?)?;
                keep(b?)?;
                k += 2;
            }
            _ => {
                keep(check_one(&names[k])?)?;
                k += 1;
            }
        }
    }
    stage.finish(&format!("{} parts by insured province", names.len()));
    let mut seconds = [0.0; 6];
    for part in &parts {
        for (total, s) in seconds.iter_mut().zip(part.seconds) {
            *total += s;
        }
    }
    for (name, seconds) in PHASES.iter().zip(seconds) {
        progress.record(name, seconds, &format!("over {} parts", names.len()));
    }
    let mut tally = Tally::default();
    for part in &mut parts {
        tally.merge(std::mem::take(&mut part.tally));
    }
    let amt003 = if options.config.defaults.is_enabled("AMT003") {
        rules::amount::summary_disagrees::findings(
            &month.summary,
            &tally,
            &model::hospitals(&month.hospitals),
            options.lang,
        )
    } else {
        Vec::new()
    };
    Ok(assemble(
        parts,
        settlements,
        month,
        amt003,
        options,
        previous,
    ))
}

/// The month's results from its parts' (and month-wide `more` findings).
fn assemble(
    parts: Vec<Part>,
    settlements: KeyRanges,
    month: &Month,
    more: Vec<Finding>,
    options: &MonthOptions,
    previous: &Ledger,
) -> Checked {
    use rayon::prelude::*;
    let mut findings = more;
    let mut statuses: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut groups = clearing::Clearing::default();
    let mut opened = Vec::new();
    let mut closed_entries = Vec::new();
    for part in parts {
        findings.extend(part.findings);
        for (status, n) in part.statuses {
            *statuses.entry(status).or_default() += n;
        }
        groups.merge(part.groups);
        opened.extend(part.opened);
        closed_entries.extend(part.closed_entries);
    }
    findings.par_sort_by(Finding::sort_cmp);
    // The ledger's step (SPEC §13): reversals, decisions, time, and the month's entries.
    let decisions = month
        .decisions
        .as_ref()
        .map(ledger::update::decisions_of)
        .transpose()
        .expect("the decisions frame has its columns")
        .unwrap_or_default();
    let decisions_file = month
        .files
        .iter()
        .find(|f| f.table == "decisions")
        .map_or_else(|| "decisions.csv".to_owned(), |f| f.path.clone());
    let ledger = ledger::update::update(
        previous,
        &options.month,
        &options.config,
        &closed_entries,
        &decisions,
        opened,
        &decisions_file,
    );
    let releases = ledger.releases_by_province();
    let hospital_names: BTreeMap<String, String> = model::hospitals(&month.hospitals)
        .into_values()
        .map(|h| (h.fixmedins_code, h.fixmedins_name))
        .collect();
    let clearing = vec![
        ("clearing_by_area", groups.by_area_frame()),
        ("clearing_by_province", groups.by_province_frame()),
        ("province_net", groups.province_net_frame(&releases)),
        (
            "problems_by_hospital",
            clearing::problems_by_hospital(&hospital_names, &findings),
        ),
    ]
    .into_iter()
    .map(|(name, frame)| (name, frame.expect("columns of one height")))
    .collect();
    Checked {
        findings,
        settlements,
        clearing,
        statuses,
        groups,
        region_names: model::region_names(&month.regions),
        hospital_names,
        ledger,
        releases,
    }
}

/// Frees a month's worth of rows on a thread of its own: tens of millions of small
/// allocations take seconds to free, and nothing waits for them (the process may end
/// first, and the system takes the memory back at once).
fn drop_aside<T: Send + 'static>(value: T) {
    std::thread::spawn(move || drop(value));
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
    });
    let line = format!(
        "{}: cleared {} ({} 元), held {} ({} 元), deducted {} 元, reversed {}, excluded {}; findings: {} hold, {} deduct, {} flag; {} of {} rows rejected; {} hospital directories set aside; exit {}",
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
        manifest.exit_code
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

/// What the report shows of the ledger: pending money by kind and age, overdue, events.
fn ledger_view(
    update: &ledger::update::Update,
    options: &MonthOptions,
) -> report::html::LedgerView {
    let mut view = report::html::LedgerView::default();
    for entry in update.ledger.entries.values() {
        if entry.kind == ledger::Kind::Closed {
            continue;
        }
        let months = ledger::update::months_open(entry, &options.month);
        let cell = view
            .pending
            .entry((entry.kind.name(), report::html::age_bucket(months)))
            .or_default();
        cell.0 += 1;
        cell.1 += entry.amount;
        if ledger::update::is_overdue(entry, &options.month, &options.config) {
            view.overdue.0 += 1;
            view.overdue.1 += entry.amount;
        }
    }
    for event in &update.events {
        let cell = view.events.entry(event.event.name()).or_default();
        cell.0 += 1;
        cell.1 += event.settled;
        cell.2 += event.released_amount;
    }
    view
}

/// `report.html` and `report.xlsx` (with the first rows of the settlements, `head`).
fn write_reports(
    dir: &Path,
    checked: &Checked,
    head: &DataFrame,
    month: &Month,
    options: &MonthOptions,
) -> Result<Vec<OutputFile>, crate::error::OutputError> {
    use report::xlsx::Sheet;
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
        releases: &checked.releases,
        set_aside: month.set_aside.len(),
        ledger: ledger_view(&checked.ledger, options),
    };
    let html_path = dir.join("report.html");
    std::fs::write(&html_path, report::html::render(&page))
        .map_err(|e| crate::error::OutputError::io(&html_path, e))?;
    let findings = output::findings_frame(&checked.findings)
        .map_err(|e| crate::error::OutputError::io(dir.join("report.xlsx"), e))?;
    let rejects = output::rejects_frame(&month.rejects, options.lang)
        .map_err(|e| crate::error::OutputError::io(dir.join("report.xlsx"), e))?;
    let no_scale = |_: &str| None;
    let mut sheets = vec![
        Sheet::of("findings", &findings, &output::findings_scale),
        Sheet {
            name: "settlements",
            frame: head,
            scale: &clearing::settlements_scale,
            rows: checked.settlements.rows(),
        },
    ];
    for (name, frame) in &checked.clearing {
        let scale: output::table::ScaleOf = if *name == "problems_by_hospital" {
            &output::findings_scale
        } else {
            &clearing::clearing_scale
        };
        sheets.push(Sheet::of(name, frame, scale));
    }
    let ledger = ledger_frames(checked, options)
        .map_err(|e| crate::error::OutputError::io(dir.join("report.xlsx"), e))?;
    for (name, frame) in &ledger {
        sheets.push(Sheet::of(name, frame, &ledger::tables::ledger_scale));
    }
    sheets.push(Sheet::of("rejects", &rejects, &no_scale));
    let xlsx_path = dir.join("report.xlsx");
    report::xlsx::write(&xlsx_path, &sheets)?;
    Ok(vec![
        output::table::describe(dir, &html_path, checked.findings.len())?,
        output::table::describe(dir, &xlsx_path, checked.findings.len())?,
    ])
}

/// The `settlements` table (SPEC §9), a key range at a time; its files, and its first
/// rows for the workbook.
fn write_settlements(
    dir: &Path,
    settlements: &mut KeyRanges,
) -> Result<(Vec<OutputFile>, DataFrame), crate::error::OutputError> {
    let first = settlements.take(0)?;
    let mut sink = output::table::TableSink::create(
        dir,
        "settlements",
        &first,
        &clearing::settlements_scale,
        true,
    )?;
    let mut head = first.head(Some(report::xlsx::MAX_ROWS));
    sink.push(&first)?;
    drop(first);
    for k in 1..settlements.ranges() {
        let range = settlements.take(k)?;
        if head.height() < report::xlsx::MAX_ROWS {
            let more = range.head(Some(report::xlsx::MAX_ROWS - head.height()));
            head.vstack_mut_owned(more)
                .map_err(|e| crate::error::OutputError::io(dir.join("settlements.csv"), e))?;
        }
        sink.push(&range)?;
    }
    settlements.remove()?;
    Ok((sink.finish()?, head))
}

/// The month's tables (SPEC §9) but the settlements, and rejects, CSV and Parquet.
fn write_tables(
    dir: &Path,
    checked: &Checked,
    month: &Month,
    options: &MonthOptions,
) -> Result<Vec<OutputFile>, crate::error::OutputError> {
    let lang = options.lang;
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
    for (name, frame) in &checked.clearing {
        let scale = |column: &str| match *name {
            "problems_by_hospital" => output::findings_scale(column),
            _ => clearing::clearing_scale(column),
        };
        outputs.extend(output::table::write_table(dir, name, frame, &scale, true)?);
    }
    for (name, frame) in ledger_frames(checked, options)
        .map_err(|e| crate::error::OutputError::io(dir.join("ledger"), e))?
    {
        outputs.extend(output::table::write_table(
            dir,
            name,
            &frame,
            &ledger::tables::ledger_scale,
            true,
        )?);
    }
    Ok(outputs)
}

/// The ledger's tables of the month (SPEC §13).
fn ledger_frames(
    checked: &Checked,
    options: &MonthOptions,
) -> polars::prelude::PolarsResult<Vec<(&'static str, DataFrame)>> {
    use ledger::tables;
    let update = &checked.ledger;
    Ok(vec![
        (
            "ledger",
            tables::ledger_frame(update, &options.month, &options.config)?,
        ),
        ("ledger_events", tables::events_frame(update)?),
        ("releases_by_area", tables::releases_by_area_frame(update)?),
        (
            "releases_by_province",
            tables::releases_by_province_frame(&checked.releases)?,
        ),
    ])
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
    // Each hospital's rows, and the filings, go to their insured province's part as they
    // are read.
    let mut spill = partition::Spill::new(dir)?;
    let mut filing_spill = partition::FilingSpill::new(dir)?;
    let mut month = ingest::read_month_into(
        &month_options.month_dir,
        month_options.read_options(),
        progress,
        &mut |rows| spill.push(rows).map_err(anyhow::Error::from),
        &mut |chunk| filing_spill.push(chunk).map_err(anyhow::Error::from),
    )
    .with_context(|| format!("reading {}", month_options.month_dir.display()))?;
    if let (Some(path), Some(sha256)) = (&previous.source.path, &previous.source.sha256) {
        // The previous ledger is one of the run's inputs (SPEC §13).
        let entries = previous.source.entries as u64;
        month.files.push(ingest::InputFile {
            path: path.clone(),
            table: "ledger",
            size: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
            sha256: sha256.clone(),
            encoding: ingest::Encoding::Utf8Bom,
            read: entries,
            accepted: entries,
            rejected: 0,
            set_aside: None,
        });
    }
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
    let (filing_parts, filings) = filing_spill.finish()?;
    inputs.push(filings);
    inputs.extend(write_inputs(dir, &month)?);
    stage.finish(&format!(
        "{} typed files under inputs/ (settlements and fee lines in {} parts)",
        inputs.len(),
        spilled.parts.len()
    ));
    let mut checked = check_parts(
        &month,
        &spilled,
        &filing_parts,
        dir,
        month_options,
        options.settlement_ranges,
        progress,
        &previous.ledger,
    )?;
    add_decision_rejects(&mut month, std::mem::take(&mut checked.ledger.rejects));
    let waiting = dir.join(partition::FILING_PARTS);
    std::fs::remove_dir_all(&waiting).map_err(|e| crate::error::OutputError::io(&waiting, e))?;

    let write = progress.stage("write", 0, "files");
    let (mut outputs, head) = write_settlements(dir, &mut checked.settlements)?;
    let checked = checked;
    // The other tables and the reports are independent: written side by side.
    let (tables, reports) = rayon::join(
        || write_tables(dir, &checked, &month, month_options),
        || write_reports(dir, &checked, &head, &month, month_options),
    );
    outputs.extend(tables?);
    outputs.extend(reports?);
    outputs.extend(inputs);
    let findings = &checked.findings;
    outputs.sort_by(|a, b| a.path.cmp(&b.path));
    let fail_on_status = status_of(findings, options.fail_on);
    let outcome_totals = checked.totals();
    let status = ExitStatus::finished(fail_on_status, !month.set_aside.is_empty());
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
        set_aside: month.set_aside,
        settlement_statuses: checked.statuses.clone(),
        findings: RuleCount::tally(findings),
        outputs,
        stage_timings: progress.timings(),
        ledger: Some(output::manifest::LedgerRecord::new(
            previous.source.clone(),
            &checked.ledger,
            later_months,
        )),
        fail_on_status,
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
    let (line, fields) = outcome(&results, &manifest, &outcome_totals);
    progress.outcome(&line, &fields);
    Ok(Outcome {
        status,
        results,
        manifest,
    })
}
