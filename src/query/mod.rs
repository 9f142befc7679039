//! `yidi query`: SQL (polars SQL) over a finished run's tables and the month's inputs, for
//! analysts.
//!
//! Each table is a lazy scan of a Parquet file the run wrote, registered under the name
//! [`SOURCES`] gives it, so a query reads only the columns and row groups it needs. The
//! result is printed as an aligned table (money with its 2 decimals, Chinese text aligned
//! by display width), or written as CSV, JSON or Parquet. Errors name what to do: a table
//! or column that does not exist names the close matches, a syntax error points at its
//! place, and a directory that is not a finished run says so.

use std::io::Write;
use std::path::{Path, PathBuf};

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use polars::prelude::*;
use polars::sql::SQLContext;
use unicode_width::UnicodeWidthStr;

pub mod output;
pub mod sources;
pub use output::{ResultWriter, write_table};
pub use sources::{Place, SOURCES, Source};

use crate::error::OutputError;
use crate::exit::ExitStatus;

/// How a result is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// An aligned table for people.
    Table,
    /// UTF-8 CSV with a BOM, as the run's tables.
    Csv,
    /// A JSON array, one object a line; money and counts as exact JSON numbers.
    Json,
    Parquet,
}

pub use crate::error::QueryError;

/// A finished run, ready to be queried.
pub struct Run {
    pub dir: PathBuf,
    /// The tables present, with their files.
    pub tables: Vec<(Source, PathBuf)>,
}

impl Run {
    /// Checks that `dir` holds a finished run and finds its tables.
    pub fn open(dir: &Path) -> Result<Run, QueryError> {
        if !dir.is_dir() {
            return Err(QueryError::NoRun {
                path: dir.to_owned(),
            });
        }
        if !dir.join("manifest.json").is_file() {
            let months: Vec<String> = std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| e.path().join("manifest.json").is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            let hint = match months.iter().max() {
                Some(month) => format!(
                    "; it looks like an output root: pass one of its months, e.g. {}",
                    dir.join(month).display()
                ),
                None => "; run `yidi run <month-dir> --out <dir>` first".to_owned(),
            };
            return Err(QueryError::NotARun {
                path: dir.to_owned(),
                hint,
            });
        }
        let mut tables = Vec::new();
        let mut missing = Vec::new();
        for &source in SOURCES {
            let path = match source.place {
                Place::Run => dir.join(format!("{}.parquet", source.name)),
                // The hospitals' tables are written in parts, one file per insured province.
                Place::Input if dir.join("inputs").join(source.name).is_dir() => {
                    dir.join("inputs").join(source.name)
                }
                Place::Input => dir.join("inputs").join(format!("{}.parquet", source.name)),
                Place::Root => match dir.parent() {
                    Some(root) => root.join(format!("{}.parquet", source.name)),
                    None => continue,
                },
            };
            if path.exists() {
                tables.push((source, path));
            } else if source.required {
                missing.push(
                    path.strip_prefix(dir)
                        .unwrap_or(&path)
                        .display()
                        .to_string(),
                );
            }
        }
        if !missing.is_empty() {
            return Err(QueryError::Incomplete {
                path: dir.to_owned(),
                missing,
            });
        }
        Ok(Run {
            dir: dir.to_owned(),
            tables,
        })
    }

    /// A Parquet file, or a directory of parts (every `.parquet` file in it, by name).
    fn scan(path: &Path) -> PolarsResult<LazyFrame> {
        if !path.is_dir() {
            return LazyFrame::scan_parquet(
                PlRefPath::try_from_path(path)?,
                ScanArgsParquet::default(),
            );
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
            .collect();
        files.sort();
        let paths = files
            .iter()
            .map(|f| PlRefPath::try_from_path(f))
            .collect::<PolarsResult<_>>()?;
        LazyFrame::scan_parquet_files(paths, ScanArgsParquet::default())
    }

    /// A SQL context with every table registered.
    pub fn context(&self) -> PolarsResult<SQLContext> {
        let context = SQLContext::new();
        for (source, path) in &self.tables {
            context.register(source.name, Run::scan(path)?);
        }
        Ok(context)
    }

    /// Each table's columns and types.
    pub fn schemas(&self) -> PolarsResult<Vec<(Source, Schema)>> {
        self.tables
            .iter()
            .map(|(source, path)| {
                let schema = Run::scan(path)?.collect_schema()?;
                Ok((*source, schema.as_ref().clone()))
            })
            .collect()
    }

    /// The plan of one SQL statement, not yet run.
    pub fn plan(&self, sql: &str) -> Result<LazyFrame, QueryError> {
        let mut context = self.context().map_err(|e| QueryError::Sql(e.to_string()))?;
        context.execute(sql).map_err(|e| self.explain(sql, e))
    }

    /// Runs one SQL statement on the streaming engine, handing its result to `writer` a
    /// batch at a time in order: memory holds a batch, not the result, for plans that
    /// stream (projections, filters, aggregates with few groups).
    pub fn stream(&self, sql: &str, mut writer: ResultWriter) -> anyhow::Result<ResultWriter> {
        let plan = self.plan(sql)?;
        // The callback runs on the engine's threads; the writer and the first write error
        // wait for it here.
        let shared: Arc<Mutex<(Option<ResultWriter>, Option<anyhow::Error>)>> =
            Arc::new(Mutex::new((None, None)));
        let callback = {
            let shared = shared.clone();
            PlanCallback::new(move |batch: DataFrame| -> PolarsResult<bool> {
                let mut guard = shared.lock().expect("a writer, not poisoned");
                let (writer, error) = &mut *guard;
                if error.is_some() {
                    return Ok(true);
                }
                let Some(writer) = writer.as_mut() else {
                    return Ok(true);
                };
                if let Err(e) = writer.push(&batch) {
                    *error = Some(e);
                    return Ok(true);
                }
                Ok(false)
            })
        };
        shared.lock().expect("not poisoned").0 = Some(writer);
        let result = plan
            .sink_batches(callback, true, NonZeroUsize::new(BATCH_ROWS))
            .and_then(|sink| sink.collect_with_engine(Engine::Streaming));
        let (taken, error) = std::mem::take(&mut *shared.lock().expect("not poisoned"));
        if let Some(error) = error {
            return Err(error);
        }
        result.map_err(|e| self.explain(sql, e))?;
        writer = taken.expect("the writer given back");
        Ok(writer)
    }

    /// Turns a polars error into one a person can act on.
    fn explain(&self, sql: &str, error: PolarsError) -> QueryError {
        let message = error.to_string();
        if let Some(name) = between(&message, "relation '", "' was not found") {
            let names: Vec<&str> = self.tables.iter().map(|(s, _)| s.name).collect();
            return QueryError::UnknownTable {
                close: close_matches(&name, names.iter().copied()),
                name,
            };
        }
        if matches!(error, PolarsError::ColumnNotFound(_)) {
            let name = between(&message, "unable to find column \"", "\"")
                .or_else(|| between(&message, "\"", "\""))
                .unwrap_or_else(|| message.clone());
            let columns: Vec<String> = self
                .schemas()
                .map(|schemas| {
                    let mut all: Vec<String> = schemas
                        .iter()
                        .flat_map(|(_, s)| s.iter_names().map(|n| n.to_string()))
                        .collect();
                    all.sort();
                    all.dedup();
                    all
                })
                .unwrap_or_default();
            return QueryError::UnknownColumn {
                close: close_matches(&name, columns.iter().map(String::as_str)),
                name,
            };
        }
        if message.contains("sql parser error") {
            return QueryError::Syntax {
                pointer: pointer(sql, &message),
                message: message
                    .split("sql parser error: ")
                    .nth(1)
                    .unwrap_or(&message)
                    .trim()
                    .to_owned(),
            };
        }
        QueryError::Sql(message)
    }
}

/// The text between the first `start` and the next `end`.
fn between(text: &str, start: &str, end: &str) -> Option<String> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(text[from..to].to_owned())
}

/// Names within a small edit distance of `name`, closest first (at most three).
pub fn close_matches<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Vec<String> {
    let lower = name.to_lowercase();
    let mut scored: Vec<(usize, &str)> = candidates
        .filter_map(|c| {
            let distance = strsim::levenshtein(&lower, &c.to_lowercase());
            let near = distance <= (c.len().max(lower.len()) / 3).max(2);
            let part = c.contains(lower.as_str()) || (c.len() >= 4 && lower.contains(c));
            (near || (part && !lower.is_empty())).then_some((distance, c))
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored
        .into_iter()
        .take(3)
        .map(|(_, c)| c.to_owned())
        .collect()
}

/// The SQL line a parser error names, with a caret under its column.
fn pointer(sql: &str, message: &str) -> String {
    let number = |key: &str| {
        between(&format!("{message} "), key, " ")
            .map(|n| n.trim_end_matches(',').to_owned())
            .and_then(|n| n.parse::<usize>().ok())
    };
    let (Some(line), Some(column)) = (number("Line: "), number("Column: ")) else {
        return String::new();
    };
    let Some(text) = sql.lines().nth(line.saturating_sub(1)) else {
        return String::new();
    };
    let before: String = text.chars().take(column.saturating_sub(1)).collect();
    format!(
        "\n  {text}\n  {}^ line {line}, column {column}",
        " ".repeat(before.width())
    )
}

/// What `yidi query` was asked, checked.
#[derive(Debug, Clone)]
pub struct Options {
    pub run_dir: PathBuf,
    pub sql: Option<String>,
    pub format: Format,
    pub output: Option<PathBuf>,
    pub max_rows: usize,
    pub list_tables: bool,
}

/// `--tables`: every table with what it is and its columns.
pub fn list_tables(run: &Run, out: &mut impl Write) -> anyhow::Result<()> {
    for (source, schema) in run.schemas()? {
        writeln!(out, "{}  — {}", source.name, source.about)?;
        for (name, dtype) in schema.iter() {
            writeln!(out, "    {name:<24} {dtype}")?;
        }
    }
    Ok(())
}

/// Rows of a result handed to its writer at a time: a bound on what a batch holds.
const BATCH_ROWS: usize = 1 << 16;

/// Where a result is written: stdout, or a temporary file beside `--output`, renamed over it
/// once the result is whole (a reader never sees half a file; two queries never share a
/// temporary name).
enum Destination {
    Stdout,
    File {
        path: PathBuf,
        temp: tempfile::NamedTempFile,
    },
}

impl Destination {
    fn open(output: Option<&Path>) -> Result<Destination, OutputError> {
        let Some(path) = output else {
            return Ok(Destination::Stdout);
        };
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".yidi-tmp");
        // The result is an ordinary file (the umask applies), not a private temporary one.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let temp = builder
            .tempfile_in(dir)
            .map_err(|e| OutputError::io(path, e))?;
        Ok(Destination::File {
            path: path.to_owned(),
            temp,
        })
    }

    /// A writer of the result (buffered, but for Parquet, which writes in large pieces).
    fn writer(&self, format: Format) -> Result<output::Out, OutputError> {
        let raw: output::Out = match self {
            Destination::Stdout => Box::new(std::io::stdout()),
            Destination::File { path, temp } => Box::new(
                temp.as_file()
                    .try_clone()
                    .map_err(|e| OutputError::io(path, e))?,
            ),
        };
        Ok(match format {
            Format::Parquet => raw,
            _ => Box::new(std::io::BufWriter::with_capacity(1 << 16, raw)),
        })
    }

    /// Puts a finished result in place.
    fn commit(self) -> Result<(), OutputError> {
        if let Destination::File { path, temp } = self {
            temp.as_file()
                .sync_all()
                .map_err(|e| OutputError::io(&path, e))?;
            temp.persist(&path)
                .map_err(|e| OutputError::io(&path, e.error))?;
        }
        Ok(())
    }
}

pub fn query(options: &Options) -> anyhow::Result<ExitStatus> {
    let run = Run::open(&options.run_dir)?;
    let destination = Destination::open(options.output.as_deref())?;
    let place = |e: anyhow::Error| match &options.output {
        Some(path)
            if !ExitStatus::is_closed_pipe(&e) && e.downcast_ref::<std::io::Error>().is_some() =>
        {
            anyhow::Error::from(OutputError::io(path, format!("{e:#}")))
        }
        _ => e,
    };
    match &options.sql {
        Some(sql) if !options.list_tables => {
            let schema = run
                .plan(sql)?
                .collect_schema()
                .map_err(|e| run.explain(sql, e))?;
            let writer = ResultWriter::new(
                options.format,
                &schema,
                options.max_rows,
                destination.writer(options.format)?,
            )
            .map_err(place)?;
            run.stream(sql, writer)
                .and_then(ResultWriter::finish)
                .map_err(place)?;
        }
        _ => {
            let mut out = destination.writer(Format::Table)?;
            list_tables(&run, &mut out)
                .and_then(|()| Ok(out.flush()?))
                .map_err(place)?;
        }
    }
    destination.commit()?;
    Ok(ExitStatus::Success)
}
