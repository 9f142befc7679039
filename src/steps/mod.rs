//! A month in steps across machines (SPEC §14): `yidi split`, `yidi check` and `yidi merge`
//! over a shared stage directory, so that any batch engine can spread a month over
//! machines. Each step is the code of `yidi run` (which is the same three steps in one
//! process), with what passes between them written to the stage.
//!
//! The stage (all under `DIR/`; a step writes into a hidden temporary directory beside its
//! own and renames it into place after its `step.json`, written last, so a step killed
//! midway leaves nothing a later step takes for finished, and a rerun replaces it whole):
//!
//! ```text
//! split/<I>-of-<N>/            slice I of N
//!     step.json                the step: slice, host, times, month, configuration hash
//!     slice.msgpack            its files, rejects, rejected fee lines, directories set
//!                              aside or mismatched, settlement rows by hospital and by part
//!     summary.parquet          its hospitals' summary rows (AMT003)
//!     inputs/setlinfo/<prov>.parquet, inputs/feedetail/<prov>.parquet
//!                              its settlements and fee lines by insured province, typed and
//!                              masked, as `yidi run` writes them
//!   slice 0 also, the month's common files:
//!     settings.json            month, month directory, configuration, language, the
//!                              previous ledger's source
//!     common/<table>.parquet   regions, hospitals, catalogue, policy, opsp_diseases,
//!                              enrollment, ytd, decisions, and the filings' columns
//!     common/previous-ledger.csv   the previous ledger, as read
//!     inputs/filings.parquet   the filings, masked (as `yidi run` writes them)
//!     .filing-parts/<prov>.parquet the filings by insured province, unmasked (REG003)
//! check/<P>-<Q>-…/             one group of insured provinces
//!     step.json                the step: provinces, host, times
//!     <prov>.msgpack           each part's findings, statuses, clearing groups, tallies,
//!                              ledger entries opened and closed
//!     <prov>.settlements.parquet   each part's `settlements` rows
//! ```
//!
//! The stage holds `certno` unmasked in `split/0-of-N/.filing-parts/` and `common/` (the
//! checks need it); it is a work area, to be kept as private as the month's inputs and
//! removed after the merge.

pub mod check;
pub mod merge;
pub mod split;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{InputError, OutputError};
use crate::ingest::{self, InputFile, Reject, Table};

/// The step manifest's file name: a step is finished when it exists.
pub const STEP_FILE: &str = "step.json";

/// A step's record, written last into its directory.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StepRecord {
    /// `split` or `check`.
    pub step: String,
    /// `I/N` for a split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slice: Option<String>,
    /// For a check.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provinces: Vec<String>,
    pub month: String,
    pub config_hash: String,
    pub host: String,
    pub started: String,
    pub finished: String,
    /// A check's seconds in each phase of each part (read, model, match, policy, rules,
    /// clearing).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub seconds: BTreeMap<String, [f64; 6]>,
    /// For a check: the digest of the split it read ([`Stage::split_digest`]), so that a
    /// merge never takes a check of slices split again since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<String>,
}

/// What slice 0 records of the month for every later step.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub month: String,
    pub month_dir: PathBuf,
    pub config: crate::config::Config,
    pub lang: crate::Lang,
    pub strict: bool,
    pub previous: StoredPrevious,
    /// The insured provinces with filings.
    pub filing_parts: Vec<String>,
}

/// Where the previous ledger came from, as a stage keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredPrevious {
    pub month: String,
    pub status: String,
    pub path: Option<String>,
    pub sha256: Option<String>,
    pub entries: usize,
}

impl StoredPrevious {
    pub fn of(source: &crate::ledger::previous::PreviousSource) -> StoredPrevious {
        StoredPrevious {
            month: source.month.clone(),
            status: source.status.to_owned(),
            path: source.path.clone(),
            sha256: source.sha256.clone(),
            entries: source.entries,
        }
    }

    pub fn source(&self) -> crate::ledger::previous::PreviousSource {
        let status = ["read", "none", "no-previous"]
            .into_iter()
            .find(|s| *s == self.status)
            .unwrap_or("read");
        crate::ledger::previous::PreviousSource {
            month: self.month.clone(),
            status,
            path: self.path.clone(),
            sha256: self.sha256.clone(),
            entries: self.entries,
        }
    }
}

/// An input file as a stage keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredFile {
    pub path: String,
    pub table: String,
    pub size: u64,
    pub sha256: String,
    pub encoding: ingest::Encoding,
    pub read: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub set_aside: Option<String>,
}

/// A reject as a stage keeps it: its reason in words, both languages.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredReject {
    pub file: String,
    pub line: u64,
    pub column: Option<String>,
    pub zh: String,
    pub en: String,
}

/// What a slice read, besides its rows.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct SliceRecord {
    pub files: Vec<StoredFile>,
    pub rejects: Vec<StoredReject>,
    pub rejected_fee_lines: Vec<(String, String)>,
    pub dir_mismatches: Vec<ingest::DirMismatch>,
    pub set_aside: Vec<ingest::SetAside>,
    /// Settlement rows by `fixmedins_code`.
    pub by_hospital: BTreeMap<String, usize>,
    /// Settlement rows and fee lines by insured province.
    pub parts: BTreeMap<String, usize>,
}

impl StoredFile {
    pub fn of(file: &InputFile) -> StoredFile {
        StoredFile {
            path: file.path.clone(),
            table: file.table.to_owned(),
            size: file.size,
            sha256: file.sha256.clone(),
            encoding: file.encoding,
            read: file.read,
            accepted: file.accepted,
            rejected: file.rejected,
            set_aside: file.set_aside.clone(),
        }
    }

    pub fn to_input(&self) -> Option<InputFile> {
        let table = Table::ALL
            .iter()
            .map(|t| t.name())
            .chain(["ledger"])
            .find(|name| *name == self.table)?;
        Some(InputFile {
            path: self.path.clone(),
            table,
            size: self.size,
            sha256: self.sha256.clone(),
            encoding: self.encoding,
            read: self.read,
            accepted: self.accepted,
            rejected: self.rejected,
            set_aside: self.set_aside.clone(),
        })
    }
}

impl StoredReject {
    pub fn of(reject: &Reject) -> StoredReject {
        StoredReject {
            file: reject.file.clone(),
            line: reject.line,
            column: reject.column.map(str::to_owned),
            zh: reject.reason.text(crate::Lang::Zh),
            en: reject.reason.text(crate::Lang::En),
        }
    }

    pub fn to_reject(&self) -> Reject {
        Reject {
            file: self.file.clone(),
            line: self.line,
            column: self.column.as_deref().and_then(ingest::schema::column_name),
            reason: ingest::Reason::Worded {
                zh: self.zh.clone(),
                en: self.en.clone(),
            },
        }
    }
}

/// The stage's error for `path`.
pub fn stage_error(path: &Path, message: impl Into<String>) -> InputError {
    InputError::Stage {
        path: path.to_owned(),
        message: message.into(),
    }
}

/// This machine's name, for the step records.
pub fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// Writes `value` as MessagePack (named fields) to `path`.
pub fn write_packed<T: Serialize>(path: &Path, value: &T) -> Result<(), OutputError> {
    let bytes = rmp_serde::to_vec_named(value).map_err(|e| OutputError::io(path, e))?;
    std::fs::write(path, bytes).map_err(|e| OutputError::io(path, e))
}

/// Reads MessagePack written by [`write_packed`].
pub fn read_packed<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, InputError> {
    let bytes = std::fs::read(path).map_err(|e| stage_error(path, e.to_string()))?;
    rmp_serde::from_slice(&bytes).map_err(|e| stage_error(path, format!("damaged: {e}")))
}

/// Writes `value` as pretty JSON to `path`.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), OutputError> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| OutputError::io(path, e))?;
    bytes.push(b'\n');
    std::fs::write(path, bytes).map_err(|e| OutputError::io(path, e))
}

/// Reads JSON written by [`write_json`].
pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, InputError> {
    let bytes = std::fs::read(path).map_err(|e| stage_error(path, e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| stage_error(path, format!("damaged: {e}")))
}

/// Writes a frame as it is (no masking, no decimals), so that reading it back gives the
/// same frame.
pub fn write_frame(path: &Path, frame: &DataFrame) -> Result<(), OutputError> {
    let file = std::fs::File::create(path).map_err(|e| OutputError::io(path, e))?;
    let mut frame = frame.clone();
    ParquetWriter::new(file)
        .with_compression(ParquetCompression::Lz4Raw)
        .finish(&mut frame)
        .map(|_| ())
        .map_err(|e| OutputError::io(path, e))
}

/// Reads a frame written by [`write_frame`].
pub fn read_frame(path: &Path) -> Result<DataFrame, InputError> {
    let file = std::fs::File::open(path).map_err(|e| stage_error(path, e.to_string()))?;
    ParquetReader::new(file)
        .finish()
        .map_err(|e| stage_error(path, format!("damaged: {e}")))
}

/// A step's directory written in a temporary place and moved into `target` once
/// complete (its step record last).
pub struct StepDir {
    temp: tempfile::TempDir,
    target: PathBuf,
}

impl StepDir {
    pub fn new(target: &Path) -> Result<StepDir, OutputError> {
        let parent = target.parent().expect("a step directory has a parent");
        std::fs::create_dir_all(parent).map_err(|e| OutputError::io(parent, e))?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{name}.tmp-"))
            .tempdir_in(parent)
            .map_err(|e| OutputError::io(parent, e))?;
        Ok(StepDir {
            temp,
            target: target.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        self.temp.path()
    }

    /// Writes the step record, then replaces whatever an earlier run of the step left.
    pub fn commit(self, record: &StepRecord) -> Result<PathBuf, OutputError> {
        write_json(&self.temp.path().join(STEP_FILE), record)?;
        crate::output::staging::sync_tree(self.temp.path())?;
        let temp = self.temp.keep();
        if self.target.exists() {
            // The old step is no longer finished before it goes.
            let _ = std::fs::remove_file(self.target.join(STEP_FILE));
            std::fs::remove_dir_all(&self.target).map_err(|e| OutputError::io(&self.target, e))?;
        }
        std::fs::rename(&temp, &self.target).map_err(|e| OutputError::io(&self.target, e))?;
        Ok(self.target)
    }
}

/// The name of slice `index` of `count`'s directory.
pub fn slice_name(index: usize, count: usize) -> String {
    format!("{index}-of-{count}")
}

/// A stage whose slices are all finished.
pub struct Stage {
    pub dir: PathBuf,
    /// Each slice's directory, in order.
    pub slices: Vec<PathBuf>,
    pub records: Vec<SliceRecord>,
    pub settings: Settings,
    pub steps: Vec<StepRecord>,
    /// SHA-256 over slice 0's settings and every slice's record, in order: what the slices
    /// hold (their input files' digests, counts and rejects, the month's settings). A slice
    /// split again from the same files and options keeps it; anything else changes it.
    pub split_digest: String,
}

impl Stage {
    /// Opens a stage: every slice of one count finished, with one configuration.
    pub fn open(dir: &Path) -> Result<Stage, InputError> {
        let split = dir.join("split");
        let mut found: BTreeMap<usize, Vec<(usize, PathBuf)>> = BTreeMap::new();
        let entries = std::fs::read_dir(&split).map_err(|e| {
            stage_error(&split, format!("not a stage: {e} (run `yidi split` first)"))
        })?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some((i, n)) = name.split_once("-of-") else {
                continue;
            };
            let (Ok(i), Ok(n)) = (i.parse::<usize>(), n.parse::<usize>()) else {
                continue;
            };
            found.entry(n).or_default().push((i, entry.path()));
        }
        if found.len() > 1 {
            let counts: Vec<String> = found.keys().map(|n| n.to_string()).collect();
            return Err(stage_error(
                &split,
                format!(
                    "slices of different counts ({}): remove the stale ones",
                    counts.join(", ")
                ),
            ));
        }
        let Some((count, mut slices)) = found.pop_first() else {
            return Err(stage_error(&split, "no slice (run `yidi split` first)"));
        };
        slices.sort();
        let mut paths = Vec::with_capacity(count);
        let mut steps = Vec::with_capacity(count);
        for index in 0..count {
            let path = split.join(slice_name(index, count));
            if !path.join(STEP_FILE).is_file() {
                return Err(stage_error(
                    &path,
                    format!(
                        "slice {index}/{count} is missing or unfinished: run `yidi split --slice {index}/{count}`"
                    ),
                ));
            }
            steps.push(read_json::<StepRecord>(&path.join(STEP_FILE))?);
            paths.push(path);
        }
        let settings: Settings = read_json(&paths[0].join("settings.json"))?;
        let hash = settings.config.hash();
        if let Some((k, step)) = steps
            .iter()
            .enumerate()
            .find(|(_, s)| s.config_hash != hash || s.month != settings.month)
        {
            return Err(stage_error(
                &paths[k],
                format!(
                    "slice {k}/{count} was split with another month or configuration ({}, {}) than slice 0 ({}, {}): split every slice alike",
                    step.month, step.config_hash, settings.month, hash
                ),
            ));
        }
        let records = paths
            .iter()
            .map(|p| read_packed::<SliceRecord>(&p.join("slice.msgpack")))
            .collect::<Result<Vec<_>, _>>()?;
        let mut digest = Sha256::new();
        let files = std::iter::once(paths[0].join("settings.json"))
            .chain(paths.iter().map(|p| p.join("slice.msgpack")));
        for file in files {
            let bytes = std::fs::read(&file).map_err(|e| stage_error(&file, e.to_string()))?;
            digest.update((bytes.len() as u64).to_le_bytes());
            digest.update(&bytes);
        }
        Ok(Stage {
            dir: dir.to_owned(),
            slices: paths,
            records,
            settings,
            steps,
            split_digest: hex::encode(digest.finalize()),
        })
    }

    /// The insured provinces of the month: of its settlements, fee lines and filings.
    pub fn provinces(&self) -> Vec<PlSmallStr> {
        let mut names: Vec<PlSmallStr> = self
            .records
            .iter()
            .flat_map(|r| r.parts.keys())
            .chain(&self.settings.filing_parts)
            .map(|p| PlSmallStr::from_str(p))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Settlement rows and fee lines of a province, over the slices.
    pub fn rows(&self, part: &str) -> usize {
        self.records.iter().filter_map(|r| r.parts.get(part)).sum()
    }

    /// The options every step works with, as slice 0 recorded them, and the step's own
    /// memory budget (it does not change a result).
    pub fn month_options(&self, budget: crate::budget::Budget) -> crate::ingest::MonthOptions {
        crate::ingest::MonthOptions {
            month_dir: self.settings.month_dir.clone(),
            month: self.settings.month.clone(),
            config: self.settings.config.clone(),
            lang: self.settings.lang,
            strict: self.settings.strict,
            budget,
        }
    }

    /// The previous ledger slice 0 read.
    pub fn previous(&self) -> Result<crate::ledger::Ledger, InputError> {
        let path = self.slices[0].join("common").join("previous-ledger.csv");
        if !path.is_file() {
            return Ok(crate::ledger::Ledger::default());
        }
        let bytes = std::fs::read(&path).map_err(|e| stage_error(&path, e.to_string()))?;
        crate::ledger::previous::parse(&path, &bytes)
    }

    /// The month as the checks and the merge see it: the common tables of slice 0, every
    /// slice's summary, files, rejects and the rest; no settlements, fee lines or filings
    /// (they are read a part at a time).
    pub fn month(&self) -> Result<ingest::Month, InputError> {
        let common = self.slices[0].join("common");
        let frame = |name: &str| read_frame(&common.join(format!("{name}.parquet")));
        let optional = |name: &str| -> Result<Option<DataFrame>, InputError> {
            let path = common.join(format!("{name}.parquet"));
            if path.is_file() {
                read_frame(&path).map(Some)
            } else {
                Ok(None)
            }
        };
        let mut summary: Option<DataFrame> = None;
        for slice in &self.slices {
            let piece = read_frame(&slice.join("summary.parquet"))?;
            match &mut summary {
                None => summary = Some(piece),
                Some(all) => {
                    all.vstack_mut_owned(piece)
                        .map_err(|e| stage_error(slice, e.to_string()))?;
                }
            }
        }
        // The files in the order `yidi run` lists them: the common files (slice 0), then
        // every slice's hospital files in directory order.
        let stored = |common: bool| {
            self.records
                .iter()
                .flat_map(|r| &r.files)
                .filter(move |f| {
                    let per_hospital = Table::ALL
                        .iter()
                        .any(|t| t.per_hospital() && t.name() == f.table);
                    per_hospital != common
                })
                .filter_map(StoredFile::to_input)
        };
        let files: Vec<InputFile> = stored(true).chain(stored(false)).collect();
        let mut rejects: Vec<Reject> = self
            .records
            .iter()
            .flat_map(|r| &r.rejects)
            .map(StoredReject::to_reject)
            .collect();
        rejects.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        Ok(ingest::Month {
            dir: self.settings.month_dir.clone(),
            regions: frame("regions")?,
            hospitals: frame("hospitals")?,
            catalogue: frame("catalogue")?,
            policy: frame("policy")?,
            opsp_diseases: frame("opsp_diseases")?,
            filings: frame("filings")?,
            enrollment: optional("enrollment")?,
            ytd: optional("ytd")?,
            decisions: optional("decisions")?,
            setlinfo: ingest::empty_hospital_frame(Table::Setlinfo),
            feedetail: ingest::empty_hospital_frame(Table::Feedetail),
            summary: summary.unwrap_or_else(|| ingest::empty_hospital_frame(Table::Summary)),
            rejected_fee_lines: self
                .records
                .iter()
                .flat_map(|r| r.rejected_fee_lines.iter().cloned())
                .collect(),
            files,
            rejects,
            dir_mismatches: self
                .records
                .iter()
                .flat_map(|r| r.dir_mismatches.iter().cloned())
                .collect(),
            set_aside: self
                .records
                .iter()
                .flat_map(|r| r.set_aside.iter().cloned())
                .collect(),
        })
    }
}

/// The rows of a month's parts in a stage's slices, in slice order.
pub struct SliceRows<'a> {
    pub stage: &'a Stage,
}

impl crate::run::PartRows for SliceRows<'_> {
    fn read(&self, part: &str) -> Result<crate::run::PartFrames, OutputError> {
        let mut frames: Option<(DataFrame, DataFrame)> = None;
        for (slice, record) in self.stage.slices.iter().zip(&self.stage.records) {
            if !record.parts.contains_key(part) {
                continue;
            }
            let (setlinfo, feedetail) = crate::partition::read_part(slice, part)?;
            match &mut frames {
                None => frames = Some((setlinfo, feedetail)),
                Some((s, f)) => {
                    let err = |e: PolarsError| OutputError::io(slice, e);
                    s.vstack_mut_owned(setlinfo).map_err(err)?;
                    f.vstack_mut_owned(feedetail).map_err(err)?;
                }
            }
        }
        let (setlinfo, feedetail) = frames.unwrap_or_else(|| {
            (
                ingest::empty_hospital_frame(Table::Setlinfo),
                ingest::empty_hospital_frame(Table::Feedetail),
            )
        });
        let filings = crate::partition::read_filings(&self.stage.slices[0], part)?;
        Ok((setlinfo, feedetail, filings))
    }

    fn rows(&self, part: &str) -> usize {
        self.stage.rows(part)
    }

    fn whence(&self) -> &'static str {
        "read from the stage's slices"
    }
}
