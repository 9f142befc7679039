//! Ingestion: one month directory (SPEC §2) into typed frames, with nothing lost (§3).
//!
//! regions.csv is read first, since other files' area checks need it; then the reference
//! tables, the filing registry and every hospital's exports are read in parallel (rayon),
//! each file whole, its encoding decided once; the kernel is asked to read the next batch
//! of hospitals' files while this one is parsed (`readahead`). Results are assembled in a
//! fixed order (hospital directories sorted by name), so the frames and the rejects do not
//! depend on the order the files were read in.

pub mod encoding;
mod file;
mod hospital;
pub mod parquet;
mod readahead;
pub mod reader;
pub mod reject;
pub mod schema;
pub mod set_aside;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use rayon::prelude::*;
use serde::Serialize;

use crate::budget::Budget;
use crate::config::Config;
use crate::error::InputError;
use crate::progress::Progress;
pub use encoding::Encoding;
use file::{Loaded, load, load_in_chunks};
use hospital::{Hospital, hospital_dirs, mismatches, read_hospital};
pub use reader::{Parsed, Regions, RowRules};
pub use reject::{Reason, Reject};
pub use schema::Table;
pub use set_aside::SetAside;

/// One input file as the manifest records it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct InputFile {
    /// Relative to the month directory.
    pub path: String,
    pub table: &'static str,
    pub size: u64,
    pub sha256: String,
    pub encoding: Encoding,
    pub read: u64,
    pub accepted: u64,
    pub rejected: u64,
    /// Why every row was rejected: its hospital directory was set aside (SPEC §3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_aside: Option<String>,
}

/// A hospital directory whose rows carry another `fixmedins_code` (SPEC §3).
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct DirMismatch {
    pub hospital_dir: String,
    pub fixmedins_code: String,
    pub rows: u64,
}

/// A month, ingested.
#[derive(Debug, Clone)]
pub struct Month {
    pub dir: PathBuf,
    pub regions: DataFrame,
    pub hospitals: DataFrame,
    pub catalogue: DataFrame,
    pub policy: DataFrame,
    pub opsp_diseases: DataFrame,
    pub filings: DataFrame,
    pub enrollment: Option<DataFrame>,
    pub ytd: Option<DataFrame>,
    /// The agency's decisions on earlier months' ledger entries (SPEC §13).
    pub decisions: Option<DataFrame>,
    /// Every hospital's settlements; `hospital_dir` first, then `line` and SPEC's columns.
    pub setlinfo: DataFrame,
    pub feedetail: DataFrame,
    pub summary: DataFrame,
    /// (hospital directory, raw `setl_id`) of each rejected fee line, for AMT002.
    pub rejected_fee_lines: Vec<(String, String)>,
    /// Every file read, in a fixed order.
    pub files: Vec<InputFile>,
    /// Sorted by file, then line.
    pub rejects: Vec<Reject>,
    pub dir_mismatches: Vec<DirMismatch>,
    /// Hospital directories set aside (SPEC §3), by name.
    pub set_aside: Vec<SetAside>,
}

impl Month {
    pub fn rows_read(&self) -> u64 {
        self.files.iter().map(|f| f.read).sum()
    }

    /// The frame of an input table (`None` for an absent optional file).
    pub fn table(&self, table: Table) -> Option<&DataFrame> {
        match table {
            Table::Regions => Some(&self.regions),
            Table::Hospitals => Some(&self.hospitals),
            Table::Catalogue => Some(&self.catalogue),
            Table::Policy => Some(&self.policy),
            Table::OpspDiseases => Some(&self.opsp_diseases),
            Table::Filings => Some(&self.filings),
            Table::Enrollment => self.enrollment.as_ref(),
            Table::Ytd => self.ytd.as_ref(),
            Table::Decisions => self.decisions.as_ref(),
            Table::Setlinfo => Some(&self.setlinfo),
            Table::Feedetail => Some(&self.feedetail),
            Table::Summary => Some(&self.summary),
        }
    }
}

/// Prefixes a per-hospital frame with its directory name.
fn with_hospital_dir(mut frame: DataFrame, dir: &str) -> DataFrame {
    let column = Column::new_scalar(
        "hospital_dir".into(),
        Scalar::new(DataType::String, AnyValue::StringOwned(dir.into())),
        frame.height(),
    );
    frame.insert_column(0, column).expect("a fresh column name");
    frame
}

/// The empty frame of a per-hospital table, for a month where no hospital has the file.
pub fn empty_hospital_frame(table: Table) -> DataFrame {
    let mut columns = vec![
        Column::new_empty("hospital_dir".into(), &DataType::String),
        Column::new_empty("line".into(), &DataType::Int64),
    ];
    columns.extend(
        table
            .columns()
            .iter()
            .map(|c| Column::new_empty(c.name.into(), &c.kind.dtype())),
    );
    DataFrame::new(0, columns).expect("empty columns")
}

fn stack(frames: Vec<DataFrame>, table: Table) -> DataFrame {
    if frames.is_empty() {
        return empty_hospital_frame(table);
    }
    let mut frames = frames.into_iter();
    let mut stacked = frames.next().expect("not empty");
    for frame in frames {
        stacked
            .vstack_mut_owned(frame)
            .expect("frames of one table share its schema");
    }
    // One chunk per hospital file is kept: joining them would copy the month's largest
    // table once more (readers iterate the chunks; Parquet writes them in slices).
    stacked
}

/// One hospital directory's accepted settlements and fee lines, as read: `hospital_dir`
/// first, then `line` and SPEC's columns.
pub struct HospitalRows {
    pub dir: String,
    pub setlinfo: DataFrame,
    pub feedetail: DataFrame,
}

/// The hospital directories in batches of about `batch_bytes` of exports, in order: the
/// month's exports need never be in memory together (SPEC §11), and a batch holds enough
/// hospitals to keep every core busy.
fn batches(month_dir: &Path, dirs: &[String], batch_bytes: u64) -> Vec<Vec<String>> {
    let size = |dir: &str| -> u64 {
        let base = month_dir.join("exports").join(dir);
        [
            "setlinfo.csv",
            "setlinfo.parquet",
            "feedetail.csv",
            "feedetail.parquet",
        ]
        .iter()
        .filter_map(|name| std::fs::metadata(base.join(name)).ok())
        .map(|m| m.len())
        .sum()
    };
    let mut batches: Vec<Vec<String>> = Vec::new();
    let mut bytes = 0;
    for dir in dirs {
        if batches.is_empty() || bytes >= batch_bytes {
            batches.push(Vec::new());
            bytes = 0;
        }
        bytes += size(dir);
        batches.last_mut().expect("a batch").push(dir.clone());
    }
    batches
}

/// What every command that reads a month needs, checked.
#[derive(Debug, Clone)]
pub struct MonthOptions {
    pub month_dir: PathBuf,
    /// `YYYY-MM`.
    pub month: String,
    pub config: Config,
    pub lang: crate::Lang,
    /// `--strict`: a hospital directory that cannot be read stops the month.
    pub strict: bool,
    /// `--memory-limit`: how much of the month is held at once.
    pub budget: Budget,
}

impl MonthOptions {
    pub fn read_options(&self) -> ReadOptions<'_> {
        ReadOptions {
            config: &self.config,
            strict: self.strict,
            slice: Slice::WHOLE,
            budget: self.budget,
        }
    }
}

/// How a month is read.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions<'a> {
    pub config: &'a Config,
    /// A hospital directory that cannot be read stops the month (exit 3) instead of being
    /// set aside (SPEC §3, `--strict`).
    pub strict: bool,
    /// The share of the month to read (SPEC §14).
    pub slice: Slice,
    pub budget: Budget,
}

/// Slice `index` of `count` of a month (SPEC §14): a contiguous share of its hospital
/// directories (sorted by name), and for slice 0 the month's common files too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    pub index: usize,
    pub count: usize,
}

impl Slice {
    /// The whole month: one slice.
    pub const WHOLE: Slice = Slice { index: 0, count: 1 };

    /// Whether the slice reads the month's common files (reference, filings, enrollment,
    /// ytd, decisions).
    pub fn reads_common(self) -> bool {
        self.index == 0
    }

    /// The slice's share of `dirs` (sorted): the `index`-th of `count` contiguous shares.
    pub fn share<T>(self, dirs: &[T]) -> &[T] {
        let cut = |k: usize| dirs.len() * k / self.count.max(1);
        &dirs[cut(self.index)..cut(self.index + 1)]
    }
}

impl std::fmt::Display for Slice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Reads a whole month, every hospital's rows into [`Month::setlinfo`] and
/// [`Month::feedetail`].
pub fn read_month(
    month_dir: &Path,
    config: &Config,
    progress: &Progress,
) -> Result<Month, InputError> {
    let options = ReadOptions {
        config,
        strict: false,
        slice: Slice::WHOLE,
        budget: Budget::default(),
    };
    let mut setlinfo = Vec::new();
    let mut feedetail = Vec::new();
    let mut filings: Vec<DataFrame> = Vec::new();
    let mut month = read_month_into(
        month_dir,
        options,
        progress,
        &mut |batch: Vec<HospitalRows>| {
            for rows in batch {
                setlinfo.push(rows.setlinfo);
                feedetail.push(rows.feedetail);
            }
            Ok::<(), InputError>(())
        },
        &mut |chunk| {
            filings.push(chunk);
            Ok(())
        },
    )?;
    month.setlinfo = stack(setlinfo, Table::Setlinfo);
    month.feedetail = stack(feedetail, Table::Feedetail);
    for chunk in filings {
        month
            .filings
            .vstack_mut_owned(chunk)
            .expect("chunks of one table share its schema");
    }
    Ok(month)
}

/// Reads a month, handing each batch of hospitals' settlements and fee lines to `sink` as
/// they are read, in directory order, and the filing registry to `filings` a chunk at a time in file
/// order (so neither need fit in memory); the month returned has every other table, and
/// empty `setlinfo`, `feedetail` and `filings` frames. While one batch of hospitals goes
/// to the sink, the next is read. A hospital directory that cannot be read is set aside
/// (unless `options.strict`): none of its rows go to the sink.
pub fn read_month_into<E: From<InputError> + Send>(
    month_dir: &Path,
    options: ReadOptions<'_>,
    progress: &Progress,
    sink: &mut (dyn FnMut(Vec<HospitalRows>) -> Result<(), E> + Send),
    filings: &mut (dyn FnMut(DataFrame) -> Result<(), E> + Send),
) -> Result<Month, E> {
    if !month_dir.is_dir() {
        return Err(InputError::MonthDirMissing {
            path: month_dir.to_owned(),
        }
        .into());
    }
    let config = options.config;
    let common = options.slice.reads_common();
    let hospitals_dirs = options.slice.share(&hospital_dirs(month_dir)?).to_vec();
    let stage = progress.stage("ingest", hospitals_dirs.len() as u64 + 8, "files");

    let regions = load(
        month_dir,
        "reference/regions",
        "reference/regions",
        Table::Regions,
        RowRules::default(),
    )?
    .expect("regions is required");
    stage.inc(1);
    let region_set = Regions::new(
        regions
            .parsed
            .frame
            .column("admdvs")
            .ok()
            .and_then(|c| c.str().ok())
            .into_iter()
            .flat_map(|ids| ids.iter().flatten()),
    );
    let codes = Some(&config.codes);
    let reference_rules = |table: Table| match table {
        Table::Hospitals => RowRules {
            areas: Some((&region_set, &["fix_blng_admdvs"])),
            unique_key: &["fixmedins_code"],
            codes,
            ..RowRules::default()
        },
        Table::Policy => RowRules {
            areas: Some((&region_set, &["insuplc_admdvs"])),
            codes,
            ..RowRules::default()
        },
        Table::Decisions => RowRules {
            unique_key: &["fixmedins_code", "setl_id"],
            codes,
            ..RowRules::default()
        },
        _ => RowRules {
            codes,
            ..RowRules::default()
        },
    };
    // Every table but regions (read above) and the hospitals' exports (read below).
    // (Regions are read by every slice: the exports' area checks need them.)
    let reference_tables: Vec<Table> = Table::ALL
        .into_iter()
        .filter(|t| *t != Table::Regions && !t.per_hospital() && common)
        .collect();

    /// What the hospitals' exports leave besides their rows.
    #[derive(Default)]
    struct Gathered {
        files: Vec<InputFile>,
        rejects: Vec<Reject>,
        summary: Vec<DataFrame>,
        rejected_fee_lines: Vec<(String, String)>,
        dir_mismatches: Vec<DirMismatch>,
        set_aside: Vec<SetAside>,
    }
    let mut gathered = Gathered::default();
    let mut hand_over = |exports: Vec<Hospital>| -> Result<(), E> {
        let mut batch = Vec::with_capacity(exports.len());
        for export in exports {
            let g = &mut gathered;
            let export = match export {
                Hospital::Read(export) => *export,
                Hospital::SetAside(dir) => {
                    g.files.extend(dir.files);
                    g.rejects.extend(dir.rejects);
                    g.set_aside.push(dir.entry);
                    continue;
                }
            };
            g.dir_mismatches
                .extend(mismatches(&export.dir, &export.setlinfo.parsed.frame));
            g.rejected_fee_lines.extend(
                export
                    .feedetail
                    .parsed
                    .rejected_setl_ids
                    .iter()
                    .map(|id| (export.dir.clone(), id.clone())),
            );
            let mut frames = Vec::with_capacity(2);
            for loaded in [
                Some(export.setlinfo),
                Some(export.feedetail),
                export.summary,
            ]
            .into_iter()
            .flatten()
            {
                g.files.push(loaded.file);
                g.rejects.extend(loaded.parsed.rejects);
                let frame = with_hospital_dir(loaded.parsed.frame, &export.dir);
                match loaded.parsed.table {
                    Table::Summary => g.summary.push(frame),
                    _ => frames.push(frame),
                }
            }
            let feedetail = frames.pop().expect("fee lines read");
            let setlinfo = frames.pop().expect("settlements read");
            batch.push(HospitalRows {
                dir: export.dir,
                setlinfo,
                feedetail,
            });
        }
        sink(batch)
    };
    let read_batch = |dirs: &[String]| {
        dirs.par_iter()
            .map(|dir| {
                let export = match read_hospital(month_dir, dir, &region_set, config) {
                    Ok(export) => Ok(Hospital::Read(Box::new(export))),
                    Err(problem) if options.strict => Err(problem),
                    Err(problem) => Ok(Hospital::SetAside(set_aside::set_aside(
                        month_dir, dir, &problem,
                    ))),
                };
                stage.inc(1);
                export
            })
            .collect::<Result<Vec<_>, InputError>>()
    };
    let filings = std::sync::Mutex::new(filings);
    let (reference, exports) = rayon::join(
        || {
            reference_tables
                .par_iter()
                .map(|&table| -> Result<(Table, Option<Loaded>), E> {
                    let (stem, rules) = (table.stem(), reference_rules(table));
                    let loaded = if table == Table::Filings {
                        let mut sink = filings.lock().expect("one reader of the filings");
                        let mut loaded = load_in_chunks(
                            month_dir,
                            stem,
                            stem,
                            table,
                            rules,
                            options.budget.filing_chunk_rows(),
                            &mut **sink,
                        )?;
                        if let Some(loaded) = &mut loaded {
                            let rest = loaded.parsed.frame.clear();
                            (*sink)(std::mem::replace(&mut loaded.parsed.frame, rest))?;
                        }
                        loaded
                    } else {
                        load(month_dir, stem, stem, table, rules)?
                    };
                    stage.inc(1);
                    Ok((table, loaded))
                })
                .collect::<Result<Vec<_>, E>>()
        },
        || -> Result<(), E> {
            let mut waiting: Option<Vec<Hospital>> = None;
            let batches = batches(month_dir, &hospitals_dirs, options.budget.batch_bytes());
            let mut ahead = batches
                .first()
                .and_then(|dirs| readahead::start(month_dir, dirs));
            for (n, batch) in batches.iter().enumerate() {
                let next = batches
                    .get(n + 1)
                    .and_then(|dirs| readahead::start(month_dir, dirs));
                let previous = waiting.take();
                let (read, handed) = rayon::join(
                    || read_batch(batch),
                    || previous.map_or(Ok(()), &mut hand_over),
                );
                if let Some(advised) = std::mem::replace(&mut ahead, next) {
                    // Only advice: a file it could not open, the reader meets and reports.
                    let _files = advised.join();
                }
                handed?;
                waiting = Some(read?);
            }
            waiting.map_or(Ok(()), &mut hand_over)
        },
    );
    let reference: BTreeMap<Table, Option<Loaded>> = reference?.into_iter().collect();
    exports?;

    let (mut files, mut rejects) = if common {
        (vec![regions.file.clone()], regions.parsed.rejects.clone())
    } else {
        (Vec::new(), Vec::new())
    };
    let mut frames: BTreeMap<Table, DataFrame> = BTreeMap::new();
    frames.insert(Table::Regions, regions.parsed.frame);
    for (table, loaded) in reference {
        if let Some(loaded) = loaded {
            files.push(loaded.file);
            rejects.extend(loaded.parsed.rejects);
            frames.insert(table, loaded.parsed.frame);
        }
    }
    files.extend(gathered.files);
    rejects.extend(gathered.rejects);
    rejects.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));

    let read: u64 = files.iter().map(|f| f.read).sum();
    let rejected: u64 = files.iter().map(|f| f.rejected).sum();
    let set_aside = match gathered.set_aside.len() {
        0 => String::new(),
        n => format!(", {n} set aside"),
    };
    stage.finish(&format!(
        "{} files, {} hospitals{set_aside}, {read} rows read, {rejected} rejected",
        files.len(),
        hospitals_dirs.len()
    ));
    let mut take = |table: Table| frames.remove(&table);
    let (enrollment, ytd, decisions) = (
        take(Table::Enrollment),
        take(Table::Ytd),
        take(Table::Decisions),
    );
    // A slice without the common files has them empty.
    let mut required = |table: Table| take(table).unwrap_or_default();
    Ok(Month {
        dir: month_dir.to_owned(),
        regions: required(Table::Regions),
        hospitals: required(Table::Hospitals),
        catalogue: required(Table::Catalogue),
        policy: required(Table::Policy),
        opsp_diseases: required(Table::OpspDiseases),
        filings: required(Table::Filings),
        enrollment,
        ytd,
        decisions,
        setlinfo: empty_hospital_frame(Table::Setlinfo),
        feedetail: empty_hospital_frame(Table::Feedetail),
        summary: stack(gathered.summary, Table::Summary),
        rejected_fee_lines: gathered.rejected_fee_lines,
        files,
        rejects,
        dir_mismatches: gathered.dir_mismatches,
        set_aside: gathered.set_aside,
    })
}
