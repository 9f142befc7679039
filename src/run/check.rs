//! Checking a month: each part by insured province (SPEC §11) through scope, matching, §6,
//! the rules and the clearing; then the parts put together, the month-wide rules decided
//! from the parts' gatherings, and the ledger's step (SPEC §13).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use polars::prelude::{DataFrame, PlSmallStr};

use crate::error::OutputError;

use super::MonthOptions;
use crate::ingest::{self, Month, Table};
use crate::ledger::{self, Ledger};
use crate::ledger_update;
use crate::output::key_ranges::{self, KeyRanges};
use crate::partition::{Found, Held};
use crate::progress::Progress;
use crate::rules::{self, Finding, Gathered};
use crate::units;
use crate::{clearing, line_audit, matching, model, partition, payment, scope};

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
    pub ledger: ledger_update::Update,
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

/// The steps of checking a part, as the log and the manifest time them.
/// (`read`: a part's rows taken from memory or read back from its files, with its
/// persons' enrollment and year-to-date rows.)
const PHASES: [&str; 6] = ["read", "model", "match", "policy", "rules", "clearing"];

/// What checking one part of a month gives, before the parts are put together: what a
/// `yidi check` step leaves in the stage (SPEC §14), its settlements beside it.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Part {
    #[serde(with = "crate::rules::stored")]
    pub findings: Vec<Finding>,
    #[serde(skip)]
    pub settlements: DataFrame,
    #[serde(with = "crate::clearing::status_counts")]
    pub statuses: BTreeMap<&'static str, u64>,
    pub groups: clearing::Clearing,
    /// What each month-wide rule gathered of the part's rows, by rule code.
    pub gathered: Vec<(String, Gathered)>,
    /// Of each of [`PHASES`] (kept apart, in the step's record: a rerun check writes the
    /// same bytes).
    #[serde(skip)]
    pub seconds: [f64; 6],
    /// The ledger entries its rows open, and the previous entries its reversals close.
    pub opened: Vec<ledger::Entry>,
    #[serde(with = "crate::ledger::keys")]
    pub closed_entries: Vec<ledger::Key>,
}

/// Where the rows of a month's parts are read from: the run's own spill, or the slices of
/// a stage (SPEC §14).
pub trait PartRows: Sync {
    /// A part's settlement rows and fee lines, and its filings (`None`: it has none).
    fn read(&self, part: &str) -> Result<PartFrames, OutputError>;
    /// A part's settlement rows and fee lines, about (small parts are checked in pairs).
    fn rows(&self, part: &str) -> usize;
    /// Where the parts come from, for the log.
    fn whence(&self) -> &'static str;
}

/// A part's settlement rows, fee lines and filings.
pub type PartFrames = (DataFrame, DataFrame, Option<DataFrame>);

/// The parts a run spilled into its staging directory, and held in memory while the
/// month fit its budget.
struct Spilled<'a> {
    dir: &'a Path,
    parts: &'a BTreeMap<PlSmallStr, usize>,
    /// Settlements (table 0) and fee lines (1).
    held: std::sync::Mutex<Held>,
    filings: std::sync::Mutex<Held>,
}

impl PartRows for Spilled<'_> {
    fn read(&self, part: &str) -> Result<PartFrames, OutputError> {
        // The pieces are taken under the lock and stacked after it (stacking runs on
        // polars' threads, which may take up the other part's read meanwhile).
        let inputs = || OutputError::io(self.dir.join("inputs"), "a part held in memory");
        let stacked = |pieces| {
            partition::stack(pieces).map_err(|e| OutputError::io(self.dir.join("inputs"), e))
        };
        let empty = ingest::empty_hospital_frame;
        let (setlinfo, feedetail) = if !self.parts.contains_key(part) {
            (empty(Table::Setlinfo), empty(Table::Feedetail))
        } else {
            let mut held = self.held.lock().map_err(|_| inputs())?;
            let tables = (held.take(part, 0), held.take(part, 1));
            drop(held);
            match tables {
                (Found::Held(setlinfo), Found::Held(feedetail)) => (
                    stacked(setlinfo)?.unwrap_or_else(|| empty(Table::Setlinfo)),
                    stacked(feedetail)?.unwrap_or_else(|| empty(Table::Feedetail)),
                ),
                _ => partition::read_part(self.dir, part)?,
            }
        };
        let held = self.filings.lock().map_err(|_| inputs())?.take(part, 0);
        let filings = match held {
            Found::Held(pieces) => stacked(pieces)?,
            Found::Spilled => partition::read_filings(self.dir, part)?,
        };
        Ok((setlinfo, feedetail, filings))
    }

    fn rows(&self, part: &str) -> usize {
        self.parts.get(part).copied().unwrap_or(0)
    }

    fn whence(&self) -> &'static str {
        let holds = |held: &std::sync::Mutex<Held>| held.lock().is_ok_and(|h| h.holds());
        match (holds(&self.held), holds(&self.filings)) {
            (true, true) => "held in memory",
            (true, false) => "settlements held in memory, filings read back",
            (false, true) => "settlements read back, filings held in memory",
            (false, false) => "read back from their files",
        }
    }
}

/// Scope, matching, §6 and the rules (all, or the one `only` names) over one part of a
/// month (or a whole month), with the month's `catalogue`, and each settlement row's
/// status.
fn check_part(
    month: &mut Month,
    options: &MonthOptions,
    only: Option<&str>,
    previous: &Ledger,
    catalogue: Arc<model::Catalogue>,
) -> Part {
    let mut seconds = [0.0; 6];
    let mut clock = std::time::Instant::now();
    let mut lap = |k: usize| {
        seconds[k] += clock.elapsed().as_secs_f64();
        clock = std::time::Instant::now();
    };
    let (year, _) = units::parse_month(&options.month).expect("a checked month");
    let model = model::Model::new(month, year, catalogue);
    lap(1);
    // Each mostly on one core: side by side.
    let (scope, filings) = rayon::join(
        || {
            scope::classify(
                &model.settlements,
                &model.hospitals,
                &options.month,
                previous,
            )
        },
        || matching::FilingIndex::new(&model.filings),
    );
    let outcomes = matching::match_all(&model.settlements, &filings, &scope, &options.config);
    drop(filings);
    lap(2);
    // Independent, and each on one core: side by side (a part checked alone, as a large
    // month's are, otherwise leaves a core idle through them).
    let (expected, line_owner) = rayon::join(
        || payment::compute(&model, &scope),
        || payment::attach_lines(&model, &scope),
    );
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
    let (findings, gathered) = rules::run(&ctx, only);
    lap(4);
    let rows = clearing::settle(&model, &scope, &outcomes, &expected, &findings);
    let mut statuses = BTreeMap::new();
    for row in &rows {
        *statuses.entry(row.status.name()).or_default() += 1;
    }
    let ((settlements, groups), opened) = rayon::join(
        || {
            rayon::join(
                || clearing::settlements_frame(&model, &scope, &rows),
                || clearing::clear(&model, &scope, &rows),
            )
        },
        || ledger_update::opened(&model, &scope, &rows, &findings, &options.month),
    );
    let settlements = settlements.expect("columns of one height");
    let closed_entries = scope.closed_entries.clone();
    lap(5);
    drop((rows, line_item, line_owner, expected, outcomes, scope));
    drop_aside(model);
    Part {
        findings,
        settlements,
        statuses,
        groups,
        gathered,
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
    let catalogue = Arc::new(model::catalogue(&month.catalogue));
    let mut part = check_part(month, options, only, previous, catalogue);
    for (name, seconds) in PHASES.iter().zip(part.seconds).skip(1) {
        progress.record(name, seconds, "one part");
    }
    let mut settlements = KeyRanges::held();
    settlements
        .push(std::mem::take(&mut part.settlements))
        .expect("held in memory");
    let parts = vec![part];
    let month_wide = month_wide(&parts, month, options).expect("a gathering made here reads back");
    assemble(parts, settlements, month, month_wide, options, previous)
}

/// Checks a month part by part (SPEC §11): each insured province's settlements and fee
/// lines (spilled under `inputs/` as they were read) with its filings; then the
/// month-wide rules over the whole month, from the parts' gatherings.
#[allow(clippy::too_many_arguments)]
pub(super) fn check_parts(
    month: &Month,
    spilled: &mut partition::Spilled,
    held_filings: Held,
    filing_parts: &[PlSmallStr],
    dir: &Path,
    options: &MonthOptions,
    sizes: key_ranges::Sizes,
    progress: &Progress,
    previous: &Ledger,
) -> anyhow::Result<Checked> {
    let mut settlements = KeyRanges::new(&spilled.by_hospital, sizes, dir)?;
    let mut names: Vec<PlSmallStr> = spilled.parts.keys().chain(filing_parts).cloned().collect();
    names.sort();
    names.dedup();
    let source = Spilled {
        dir,
        parts: &spilled.parts,
        held: std::sync::Mutex::new(std::mem::take(&mut spilled.held)),
        filings: std::sync::Mutex::new(held_filings),
    };
    // Each part's settlements go to their key ranges at once (a national month's would
    // not fit in memory together).
    let mut parts = Vec::with_capacity(names.len());
    check_each(
        &names,
        &source,
        month,
        options,
        previous,
        progress,
        &mut |mut part| {
            settlements.push(std::mem::take(&mut part.settlements))?;
            parts.push(part);
            Ok(())
        },
    )?;
    Ok(finish_parts(
        parts,
        settlements,
        month,
        options,
        previous,
        progress,
    )?)
}

/// The parts of a month, in order: those named, or one empty part when none is (no
/// settlement and no filing accepted: it gives the empty tables).
pub fn part_names(names: &[PlSmallStr]) -> Vec<PlSmallStr> {
    if names.is_empty() {
        vec![PlSmallStr::EMPTY]
    } else {
        names.to_vec()
    }
}

/// Checks the parts `names` (sorted) of a month, handing each to `keep` in order.
pub fn check_each(
    names: &[PlSmallStr],
    source: &dyn PartRows,
    month: &Month,
    options: &MonthOptions,
    previous: &Ledger,
    progress: &Progress,
    keep: &mut dyn FnMut(Part) -> Result<(), OutputError>,
) -> Result<(), OutputError> {
    let names = part_names(names);
    let stage = progress.stage("parts", names.len() as u64, "parts");
    let persons = partition::PersonIndex::new(month)
        .map_err(|e| OutputError::io(month.dir.join("inputs"), e))?;
    // The catalogue is the month's: built once for every part.
    let catalogue = Arc::new(model::catalogue(&month.catalogue));
    let check_one = |name: &PlSmallStr| -> Result<Part, OutputError> {
        let clock = std::time::Instant::now();
        let (setlinfo, feedetail, filings) = source.read(name)?;
        let filings = filings.unwrap_or_else(|| month.filings.clone());
        let mut part = partition::month_of(month, &persons, setlinfo, feedetail, filings)
            .map_err(|e| OutputError::io(month.dir.join("inputs"), e))?;
        let read = clock.elapsed().as_secs_f64();
        let mut checked = check_part(&mut part, options, None, previous, catalogue.clone());
        checked.seconds[0] = read;
        stage.inc(1);
        Ok(checked)
    };
    // Two small parts at a time: one part's steps do not keep both cores busy. Parts too
    // large for the budget together (a province's month has parts of about 700 000 rows, a
    // national month's 10 million) are checked alone, so that memory holds one at a time.
    let mut k = 0;
    while k < names.len() {
        match names.get(k + 1) {
            Some(next)
                if source.rows(&names[k]) + source.rows(next)
                    <= options.budget.side_by_side_rows() =>
            {
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
    stage.finish(&format!(
        "{} parts by insured province, {}",
        names.len(),
        source.whence()
    ));
    Ok(())
}

/// The month's results from its checked parts (in the order of their names): their
/// timings logged, the month-wide rules decided from their gatherings, the rest put
/// together. A gathering that does not read back (a check step's file written by another
/// build) is an input error.
pub fn finish_parts(
    parts: Vec<Part>,
    settlements: KeyRanges,
    month: &Month,
    options: &MonthOptions,
    previous: &Ledger,
    progress: &Progress,
) -> Result<Checked, crate::error::InputError> {
    let mut seconds = [0.0; 6];
    for part in &parts {
        for (total, s) in seconds.iter_mut().zip(part.seconds) {
            *total += s;
        }
    }
    for (name, seconds) in PHASES.iter().zip(seconds) {
        progress.record(name, seconds, &format!("over {} parts", parts.len()));
    }
    let month_wide = month_wide(&parts, month, options)?;
    Ok(assemble(
        parts,
        settlements,
        month,
        month_wide,
        options,
        previous,
    ))
}

/// The month-wide rules' findings, each decided once from every part's gathering.
fn month_wide(
    parts: &[Part],
    month: &Month,
    options: &MonthOptions,
) -> Result<Vec<Finding>, crate::error::InputError> {
    let hospitals = model::hospitals(&month.hospitals);
    let facts = rules::MonthFacts {
        summary: &month.summary,
        hospitals: &hospitals,
        lang: options.lang,
    };
    let gathered: Vec<&[(String, Gathered)]> =
        parts.iter().map(|p| p.gathered.as_slice()).collect();
    rules::decide_month(&facts, &options.config, &gathered).map_err(|message| {
        crate::error::InputError::Stage {
            path: month.dir.clone(),
            message,
        }
    })
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
    // A reversal and its original share a part, so an entry is closed once; kept sure.
    closed_entries.sort();
    closed_entries.dedup();
    // The ledger's step (SPEC §13): reversals, decisions, time, and the month's entries.
    let decisions = month
        .decisions
        .as_ref()
        .map(ledger_update::decisions_of)
        .transpose()
        .expect("the decisions frame has its columns")
        .unwrap_or_default();
    let decisions_file = month
        .files
        .iter()
        .find(|f| f.table == "decisions")
        .map_or_else(|| "decisions.csv".to_owned(), |f| f.path.clone());
    let ledger = ledger_update::update(
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
/// first, and the system takes the memory back at once). When no thread can be started,
/// the value is freed here (`spawn` drops what it was given).
pub(super) fn drop_aside<T: Send + 'static>(value: T) {
    let _ = std::thread::Builder::new()
        .name("drop".into())
        .spawn(move || drop(value));
}
