//! The errors that stop a run, each mapped to one exit status in [`crate::exit`].
//!
//! A bad row is not among them: it is data, a [`crate::ingest::Reject`]. These are the
//! problems no row-level reject can stand for: a missing file or column, a file that is not
//! text, an unreadable configuration, an output that cannot be written.

use std::path::PathBuf;

use thiserror::Error;

/// The month's inputs cannot be read as the SPEC lays them out (exit 3).
#[derive(Debug, Error)]
pub enum InputError {
    #[error("{}: month directory not found", path.display())]
    MonthDirMissing { path: PathBuf },
    #[error("{file}: required file is missing (looked for {file}.csv and {file}.parquet)")]
    MissingFile { file: String },
    #[error("{file}: both .csv and .parquet are present; keep one")]
    Ambiguous { file: String },
    #[error("{file}: required column '{column}' is missing from the header")]
    MissingColumn { file: String, column: &'static str },
    #[error("{file}: column '{column}' appears more than once in the header")]
    DuplicateColumn { file: String, column: &'static str },
    #[error("{file}: the file is empty (no header row)")]
    Empty { file: String },
    #[error("{file}: the header row has bytes invalid in the file's encoding")]
    Header { file: String },
    #[error(
        "{file}: not a CSV text file (a NUL byte at offset {offset}: a spreadsheet, archive or Parquet file under a .csv name?)"
    )]
    Binary { file: String, offset: usize },
    #[error("{file}: UTF-16 text is not supported; export it again as UTF-8 or GBK")]
    Utf16 { file: String },
    #[error("{file}: {message}")]
    Csv { file: String, message: String },
    #[error("{file}: not a readable Parquet file: {message}")]
    Parquet { file: String, message: String },
    #[error("{file}: column '{column}' has Parquet type {dtype}, which yidi cannot read as text")]
    ParquetType {
        file: String,
        column: String,
        dtype: String,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: no hospital directory under exports/", path.display())]
    NoExports { path: PathBuf },
    /// The previous month's ledger cannot be found or read (SPEC §13).
    #[error("previous ledger: {message}")]
    PreviousLedger { message: String },
    /// A stage of SPEC §14 with a step missing, doubled or damaged.
    #[error("{}: {message}", path.display())]
    Stage { path: PathBuf, message: String },
}

/// The command line or the configuration file is wrong (exit 2).
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("configuration {key}: {message}")]
    Value { key: String, message: String },
    #[error("{0}")]
    Usage(String),
}

/// The results cannot be written (exit 4).
#[derive(Debug, Error)]
#[error("{}: {message}", path.display())]
pub struct OutputError {
    pub path: PathBuf,
    pub message: String,
    /// The reader of a pipe went away (`yidi rules | head`): not a failure to report.
    pub pipe_closed: bool,
}

impl OutputError {
    pub fn io(path: impl Into<PathBuf>, error: impl std::fmt::Display + 'static) -> Self {
        let any: &dyn std::any::Any = &error;
        let pipe_closed = any
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe);
        OutputError {
            path: path.into(),
            message: error.to_string(),
            pipe_closed,
        }
    }
}

/// Another run holds the lock of this output month (exit 5).
#[derive(Debug, Error)]
#[error("{}: another yidi run ({holder}) is writing this month; wait for it or pass --wait", path.display())]
pub struct LockHeld {
    pub path: PathBuf,
    /// What the lock file says of its holder (`pid N`), or that it says nothing yet.
    pub holder: String,
}

/// A query that cannot run as written (exit 2), or a run that cannot be queried (exit 3).
#[derive(Debug, Error)]
pub enum QueryError {
    #[error("{}: no such directory; pass a run's month directory, e.g. out/2026-10", path.display())]
    NoRun { path: PathBuf },
    #[error(
        "{}: not a finished run (no manifest.json){hint}",
        path.display()
    )]
    NotARun { path: PathBuf, hint: String },
    #[error("{}: the run is incomplete: {} is missing", path.display(), missing.join(", "))]
    Incomplete { path: PathBuf, missing: Vec<String> },
    #[error(
        "no table named '{name}'{}; `yidi query <run> --tables` lists them",
        suggest(close)
    )]
    UnknownTable { name: String, close: Vec<String> },
    #[error("no column named '{name}'{}", suggest(close))]
    UnknownColumn { name: String, close: Vec<String> },
    #[error("SQL syntax error: {message}{pointer}")]
    Syntax { message: String, pointer: String },
    #[error("{0}")]
    Sql(String),
}

fn suggest(close: &[String]) -> String {
    match close {
        [] => String::new(),
        [one] => format!(" (did you mean '{one}'?)"),
        many => format!(
            " (did you mean one of {}?)",
            many.iter()
                .map(|c| format!("'{c}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
