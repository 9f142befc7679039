//! A month in parts by insured province (SPEC §11: a person's filings, stays and caps all
//! live in one), so that a month larger than memory is checked one part at a time.
//!
//! As ingestion reads each hospital's exports, [`Spill`] routes its settlement rows and fee
//! lines to the part of their insured province and writes them, typed and masked, as
//! `inputs/setlinfo/<prov>.parquet` and `inputs/feedetail/<prov>.parquet` — the typed
//! inputs analysts query, written once. Rows that must be judged together stay together:
//! the copies of one `setl_id` (DUP001) and a reversal with its original (REV001, REV002)
//! go to the part of the first of them in the hospital's file, and fee lines follow their
//! settlement. [`FilingSpill`] does the same for the filing registry as it is read a chunk
//! at a time. Each part is then read back ([`read_part`], [`read_filings`]) with the
//! enrollment and year-to-date rows of its persons ([`month_of`]) and checked alone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::OutputError;
use crate::ingest::{HospitalRows, Month, Table};
use crate::model::prov;
use crate::output::OutputFile;
use crate::output::parquet::{ParquetSink, owning_strings};

mod filings;
mod gather;
mod held;
mod read;
pub use filings::{FILING_PARTS, FilingSpill, read_filings};
pub use held::{Found, Held, stack};
pub use read::{read_part, read_part_table};

/// A part's waiting rows are written as a row group once there are this many.
pub const GROUP_ROWS: usize = 1 << 17;

/// The two per-hospital tables, in the order they are kept.
const TABLES: [Table; 2] = [Table::Setlinfo, Table::Feedetail];

/// The parts being written.
pub struct Spill {
    /// The run's staging directory (the parts go under its `inputs/`).
    root: PathBuf,
    sinks: BTreeMap<(PlSmallStr, usize), ParquetSink>,
    /// Settlement rows of each `fixmedins_code`.
    by_hospital: BTreeMap<PlSmallStr, usize>,
    /// The parts' rows waiting for their row groups, in bytes, at most: past it, the
    /// largest are written first (a part of 30 000 settlements would otherwise wait to the
    /// end).
    waiting_bytes: usize,
    /// The rows also kept in memory, while the month fits.
    held: Held,
}

/// What [`Spill`] wrote.
pub struct Spilled {
    /// The parts, with their rows (both tables).
    pub parts: BTreeMap<PlSmallStr, usize>,
    /// Settlement rows of each `fixmedins_code`.
    pub by_hospital: BTreeMap<PlSmallStr, usize>,
    pub outputs: Vec<OutputFile>,
    /// The parts' rows in memory (table 0 settlements, 1 fee lines), when they fit.
    pub held: Held,
}

/// The insured province of each settlement row of one hospital (rows in file order): the
/// province of the first row linked to it by a shared `setl_id` or by a reversal's
/// `init_setl_id`.
pub fn settlement_parts(setlinfo: &DataFrame) -> Vec<PlSmallStr> {
    let text = |name: &str| {
        setlinfo
            .column(name)
            .and_then(|c| c.str().cloned())
            .expect("a settlement column")
    };
    let (ids, insured, refd, init) = (
        text("setl_id"),
        text("insuplc_admdvs"),
        text("refd_setl_flag"),
        text("init_setl_id"),
    );
    let n = setlinfo.height();
    // Union-find whose root is the smallest row of its set.
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let union = |parent: &mut Vec<usize>, a: usize, b: usize| {
        let (a, b) = (root(parent, a), root(parent, b));
        let (low, high) = (a.min(b), a.max(b));
        parent[high] = low;
    };
    let mut first: PlHashMap<&str, usize> = PlHashMap::with_capacity(n);
    for (i, id) in ids.iter().enumerate() {
        let id = id.unwrap_or_default();
        match first.get(id) {
            Some(&j) => union(&mut parent, i, j),
            None => {
                first.insert(id, i);
            }
        }
    }
    for (i, (refd, init)) in refd.iter().zip(init.iter()).enumerate() {
        if refd == Some("1")
            && let Some(&original) = init.and_then(|id| first.get(id))
        {
            union(&mut parent, i, original);
        }
    }
    (0..n)
        .map(|i| {
            let r = root(&mut parent, i);
            PlSmallStr::from(prov(insured.get(r).unwrap_or_default()))
        })
        .collect()
}

/// The settlement row each fee line follows (an index into `setlinfo`): the first with its
/// `setl_id`.
fn fee_line_settlements(setlinfo: &DataFrame, feedetail: &DataFrame) -> Vec<u32> {
    let ids = setlinfo
        .column("setl_id")
        .and_then(|c| c.str().cloned())
        .expect("setl_id");
    let mut first: PlHashMap<&str, u32> = PlHashMap::with_capacity(ids.len());
    for (row, id) in ids.iter().enumerate() {
        first.entry(id.unwrap_or_default()).or_insert(row as u32);
    }
    let lines = feedetail
        .column("setl_id")
        .and_then(|c| c.str().cloned())
        .expect("setl_id");
    // Every accepted fee line names an accepted settlement (SPEC §3); the fallback (the
    // first row) only keeps a line of a malformed frame from being lost. A settlement's
    // lines come together: most lines take the last line's row without a lookup.
    let mut last: Option<(&str, u32)> = None;
    lines
        .iter()
        .map(|id| {
            let id = id.unwrap_or_default();
            match last {
                Some((previous, row)) if previous == id => row,
                _ => {
                    let row = first.get(id).copied().unwrap_or(0);
                    last = Some((id, row));
                    row
                }
            }
        })
        .collect()
}

/// Each row's part, as an index into the parts' names (a month has a few dozen).
#[derive(Default)]
struct RowParts {
    names: Vec<PlSmallStr>,
    rows: Vec<u32>,
    /// The last name looked up, and its index.
    last: Option<u32>,
}

impl RowParts {
    /// The parts of rows given by name.
    fn of_names(parts: &[PlSmallStr]) -> RowParts {
        let mut routed = RowParts::default();
        routed.rows.reserve(parts.len());
        for part in parts {
            let id = routed.id(part);
            routed.rows.push(id);
        }
        routed
    }

    /// The index of a part's name, added when new. Rows of one part often come together:
    /// the last one is tried first, then the few seen so far.
    fn id(&mut self, name: &str) -> u32 {
        // A part's name is short (a province's two digits): compared byte by byte in
        // line, not by a call to `memcmp` for each of a month's millions of rows.
        let same =
            |a: &str| a.len() == name.len() && a.bytes().zip(name.bytes()).all(|(x, y)| x == y);
        if let Some(last) = self.last
            && same(&self.names[last as usize])
        {
            return last;
        }
        let id = match self.names.iter().position(|n| same(n)) {
            Some(k) => k as u32,
            None => {
                self.names.push(PlSmallStr::from_str(name));
                (self.names.len() - 1) as u32
            }
        };
        self.last = Some(id);
        id
    }
}

/// The rows of `frame` of each part, in their order; the parts sorted by name, each one
/// chunk a column (a frame all of one part comes back as it is).
pub fn split(
    frame: &DataFrame,
    parts: &[PlSmallStr],
) -> PolarsResult<Vec<(PlSmallStr, DataFrame)>> {
    gather::gather_routed(std::slice::from_ref(frame), &RowParts::of_names(parts))
}

fn part_path(root: &Path, table: Table, part: &str) -> PathBuf {
    root.join("inputs")
        .join(table.name())
        .join(format!("{part}.parquet"))
}

impl Spill {
    /// The parts of a run under `root`; with `hold`, its rows are also kept in memory while
    /// they fit the budget.
    pub fn new(
        root: &Path,
        budget: crate::budget::Budget,
        hold: bool,
    ) -> Result<Spill, OutputError> {
        for table in TABLES {
            let dir = root.join("inputs").join(table.name());
            std::fs::create_dir_all(&dir).map_err(|e| OutputError::io(&dir, e))?;
        }
        Ok(Spill {
            root: root.to_owned(),
            sinks: BTreeMap::new(),
            by_hospital: BTreeMap::new(),
            waiting_bytes: budget.waiting_bytes(),
            held: Held::up_to(hold.then(|| budget.held_bytes())),
        })
    }

    /// Routes a batch of hospitals' rows to their parts: each hospital's rows get their part
    /// (side by side), then the batch's rows of each part are gathered at once, in hospital
    /// and line order, and queued; the parts with a row group's worth waiting (or, past
    /// the budget's waiting bytes, the largest) are written side by side.
    pub fn push(&mut self, batch: Vec<HospitalRows>) -> Result<(), OutputError> {
        use rayon::prelude::*;
        let assigned: Vec<(Vec<PlSmallStr>, Vec<u32>)> = batch
            .par_iter()
            .map(|rows| {
                let parts = settlement_parts(&rows.setlinfo);
                let lines = fee_line_settlements(&rows.setlinfo, &rows.feedetail);
                (parts, lines)
            })
            .collect();
        // Each row's part as an index into the batch's parts: a fee line takes its
        // settlement's.
        let (mut setl_parts, mut line_parts) = (RowParts::default(), RowParts::default());
        for (parts, lines) in assigned {
            let first = setl_parts.rows.len();
            for part in &parts {
                let id = setl_parts.id(part);
                setl_parts.rows.push(id);
            }
            // A hospital's fee lines with no settlement row to follow can only come of a
            // malformed frame: they go to a part of no name rather than be lost.
            let nameless = match setl_parts.rows.len() == first {
                true => setl_parts.id(""),
                false => 0,
            };
            let of_hospital = &setl_parts.rows[first..];
            line_parts.rows.extend(
                lines
                    .iter()
                    .map(|&row| of_hospital.get(row as usize).copied().unwrap_or(nameless)),
            );
        }
        line_parts.names = setl_parts.names.clone();
        for rows in &batch {
            count_codes(&rows.setlinfo, &mut self.by_hospital);
        }
        // Each part's rows taken straight from the hospitals' frames, a column at a time.
        let (mut setlinfo, mut feedetail) = (Vec::new(), Vec::new());
        for rows in batch {
            setlinfo.push(rows.setlinfo);
            feedetail.push(rows.feedetail);
        }
        let root = &self.root;
        let err =
            |k: usize| move |e| OutputError::io(root.join("inputs").join(TABLES[k].name()), e);
        let (setl_pieces, line_pieces) = rayon::join(
            || gather::gather_routed(&setlinfo, &setl_parts).map_err(err(0)),
            || gather::gather_routed(&feedetail, &line_parts).map_err(err(1)),
        );
        drop((setlinfo, feedetail));
        for (k, pieces) in [setl_pieces?, line_pieces?].into_iter().enumerate() {
            for (part, piece) in pieces {
                // A piece shares the string buffers of the whole batch it was cut from:
                // one kept past this batch would keep them all (see below).
                let piece = if self.held.holds() {
                    owning_strings(&piece)
                } else {
                    piece
                };
                self.held.keep(&part, k, &piece);
                self.sink(&part, k, &piece)?.push(piece)?;
            }
        }
        let limit = self.waiting_bytes;
        let mut waiting: usize = self.sinks.values().map(|s| s.pending_bytes()).sum();
        let mut due: Vec<&mut ParquetSink> = Vec::new();
        let mut rest: Vec<&mut ParquetSink> = Vec::new();
        for sink in self.sinks.values_mut() {
            if sink.pending_rows() >= GROUP_ROWS {
                waiting -= sink.pending_bytes();
                due.push(sink);
            } else {
                rest.push(sink);
            }
        }
        rest.sort_by_key(|s| std::cmp::Reverse(s.pending_bytes()));
        let mut waiting_sinks = Vec::new();
        for sink in rest {
            if waiting <= limit {
                waiting_sinks.push(sink);
                continue;
            }
            waiting -= sink.pending_bytes();
            due.push(sink);
        }
        // What waits for a later batch is copied out of this batch's string buffers, so
        // that they go once the due parts are written (on a province month, pieces of
        // the small parts kept most batches' buffers to the end: 0.6 GiB more at the peak).
        let (written, _) = rayon::join(
            || due.into_par_iter().try_for_each(|sink| sink.flush()),
            || {
                waiting_sinks
                    .into_par_iter()
                    .for_each(|sink| sink.own_pending())
            },
        );
        written
    }

    fn sink(
        &mut self,
        part: &PlSmallStr,
        k: usize,
        like: &DataFrame,
    ) -> Result<&mut ParquetSink, OutputError> {
        let key = (part.clone(), k);
        if !self.sinks.contains_key(&key) {
            let table = TABLES[k];
            let sink = ParquetSink::create(
                &part_path(&self.root, table, part),
                &like.clear(),
                &crate::ingest::schema::input_scale(table),
                ParquetCompression::Lz4Raw,
                true,
            )?
            // Written when [`Spill::push`] says.
            .with_group_rows(usize::MAX);
            self.sinks.insert(key.clone(), sink);
        }
        Ok(self.sinks.get_mut(&key).expect("just made"))
    }

    /// Writes what waits and the files' footers: the parts (sorted) with their rows (both
    /// tables), and the files written. A table with no rows at all gets one empty file, so
    /// that every run has it.
    pub fn finish(self) -> Result<Spilled, OutputError> {
        use rayon::prelude::*;
        let root = self.root;
        let mut parts: BTreeMap<PlSmallStr, usize> = BTreeMap::new();
        for ((part, _), sink) in &self.sinks {
            *parts.entry(part.clone()).or_default() += sink.rows();
        }
        let mut outputs: Vec<OutputFile> = self
            .sinks
            .into_par_iter()
            .map(|(_, sink)| sink.finish(&root))
            .collect::<Result<_, _>>()?;
        if parts.is_empty() {
            for table in TABLES {
                let sink = ParquetSink::create(
                    &part_path(&root, table, "empty"),
                    &crate::ingest::empty_hospital_frame(table),
                    &crate::ingest::schema::input_scale(table),
                    ParquetCompression::Lz4Raw,
                    true,
                )?;
                outputs.push(sink.finish(&root)?);
            }
        }
        Ok(Spilled {
            parts,
            by_hospital: self.by_hospital,
            outputs,
            held: self.held,
        })
    }
}

/// Adds a hospital's settlement rows to the count of their `fixmedins_code` (a hospital's
/// rows nearly all carry its own).
fn count_codes(setlinfo: &DataFrame, counts: &mut BTreeMap<PlSmallStr, usize>) {
    let Ok(codes) = setlinfo.column("fixmedins_code").and_then(|c| c.str()) else {
        return;
    };
    let mut run: Option<(&str, usize)> = None;
    for code in codes.iter() {
        let code = code.unwrap_or_default();
        match &mut run {
            Some((current, n)) if *current == code => *n += 1,
            _ => {
                if let Some((current, n)) = run {
                    *counts.entry(current.into()).or_default() += n;
                }
                run = Some((code, 1));
            }
        }
    }
    if let Some((current, n)) = run {
        *counts.entry(current.into()).or_default() += n;
    }
}

/// The rows of a table (enrollment, year-to-date) by `psn_no`, found once for every part:
/// each part takes its persons' rows without a pass over the whole table.
pub struct PersonRows<'a> {
    frame: Option<&'a DataFrame>,
    /// The first and last rows of each person, and after each row the next of the same
    /// person: about 30 bytes a person and 4 a row, beside a table already in memory.
    ends: PlHashMap<&'a str, (IdxSize, IdxSize)>,
    next: Vec<IdxSize>,
}

impl<'a> PersonRows<'a> {
    const END: IdxSize = IdxSize::MAX;

    pub fn new(frame: Option<&'a DataFrame>) -> PolarsResult<PersonRows<'a>> {
        let mut rows = PersonRows {
            frame,
            ends: PlHashMap::default(),
            next: Vec::new(),
        };
        let Some(frame) = frame else {
            return Ok(rows);
        };
        let psn = frame.column("psn_no")?.str()?;
        // Room for a person a row, made once: grown as it fills, the map was rehashed a
        // dozen times over a province month's million enrollment rows.
        rows.ends.reserve(frame.height());
        rows.next = vec![Self::END; frame.height()];
        for (i, p) in psn.iter().enumerate() {
            let (Some(p), i) = (p, i as IdxSize) else {
                continue;
            };
            match rows.ends.get_mut(p) {
                Some((_, last)) => {
                    rows.next[*last as usize] = i;
                    *last = i;
                }
                None => {
                    rows.ends.insert(p, (i, i));
                }
            }
        }
        Ok(rows)
    }

    /// The rows of `persons`, in the table's order (`None` without the table).
    fn of(&self, persons: &PlHashSet<&str>) -> PolarsResult<Option<DataFrame>> {
        let Some(frame) = self.frame else {
            return Ok(None);
        };
        let mut rows: Vec<IdxSize> = Vec::new();
        for person in persons {
            let mut row = self.ends.get(person).map_or(Self::END, |&(first, _)| first);
            while row != Self::END {
                rows.push(row);
                row = self.next[row as usize];
            }
        }
        rows.sort_unstable();
        frame
            .take(&IdxCa::from_vec(PlSmallStr::EMPTY, rows))
            .map(Some)
    }
}

/// The enrollment and year-to-date rows of a month by person, for [`month_of`].
pub struct PersonIndex<'a> {
    enrollment: PersonRows<'a>,
    ytd: PersonRows<'a>,
}

impl<'a> PersonIndex<'a> {
    /// Both tables' indexes, side by side.
    pub fn new(month: &'a Month) -> PolarsResult<PersonIndex<'a>> {
        let (enrollment, ytd) = rayon::join(
            || PersonRows::new(month.enrollment.as_ref()),
            || PersonRows::new(month.ytd.as_ref()),
        );
        Ok(PersonIndex {
            enrollment: enrollment?,
            ytd: ytd?,
        })
    }
}

/// The month of one part: its settlements, fee lines and filings, the enrollment and
/// year-to-date rows of its persons, every reference table, and the month's summary (each
/// part gathers its rows' totals for AMT003, which decides over the month).
pub fn month_of(
    month: &Month,
    persons_rows: &PersonIndex,
    setlinfo: DataFrame,
    feedetail: DataFrame,
    filings: DataFrame,
) -> PolarsResult<Month> {
    let persons: PlHashSet<&str> = setlinfo.column("psn_no")?.str()?.iter().flatten().collect();
    let enrollment = persons_rows.enrollment.of(&persons)?;
    let ytd = persons_rows.ytd.of(&persons)?;
    drop(persons);
    Ok(Month {
        dir: month.dir.clone(),
        regions: month.regions.clone(),
        hospitals: month.hospitals.clone(),
        catalogue: month.catalogue.clone(),
        policy: month.policy.clone(),
        opsp_diseases: month.opsp_diseases.clone(),
        filings,
        enrollment,
        ytd,
        decisions: None,
        setlinfo,
        feedetail,
        summary: month.summary.clone(),
        rejected_fee_lines: month.rejected_fee_lines.clone(),
        files: Vec::new(),
        rejects: Vec::new(),
        dir_mismatches: Vec::new(),
        set_aside: Vec::new(),
    })
}

#[cfg(test)]
mod tests;
