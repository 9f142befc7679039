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

use polars::prelude::*;
use polars::sql::SQLContext;
use unicode_width::UnicodeWidthStr;

use crate::error::{ConfigError, OutputError};
use crate::exit::ExitStatus;

/// Where a table's Parquet file lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// `<run>/<name>.parquet`.
    Run,
    /// `<run>/inputs/<name>.parquet` (or `<run>/inputs/<name>/`, one file per insured
    /// province, for the hospitals' tables): a typed, masked input table.
    Input,
    /// `<run>/../<name>.parquet`: the output root's run history.
    Root,
}

/// One table a query can name.
#[derive(Debug, Clone, Copy)]
pub struct Source {
    pub name: &'static str,
    pub place: Place,
    /// Whether every finished run has it (optional inputs may be absent).
    pub required: bool,
    pub about: &'static str,
}

const fn source(name: &'static str, place: Place, required: bool, about: &'static str) -> Source {
    Source {
        name,
        place,
        required,
        about,
    }
}

/// Every table a query can name, in the order `--tables` lists them.
pub const SOURCES: &[Source] = &[
    source(
        "findings",
        Place::Run,
        true,
        "one row per finding (SPEC §9)",
    ),
    source(
        "settlements",
        Place::Run,
        true,
        "every accepted setlinfo row with its status and amounts",
    ),
    source(
        "clearing_by_area",
        Place::Run,
        true,
        "clearing by insured area × treatment area × clr_type",
    ),
    source(
        "clearing_by_province",
        Place::Run,
        true,
        "clearing by insured province × treatment province",
    ),
    source(
        "province_net",
        Place::Run,
        true,
        "each province's receivable, payable and net",
    ),
    source(
        "problems_by_hospital",
        Place::Run,
        true,
        "problem amounts (问题金额) per hospital and rule",
    ),
    source(
        "rejects",
        Place::Run,
        true,
        "every input row not accepted, with its reason",
    ),
    source(
        "history",
        Place::Root,
        false,
        "one row per rule for each finished run of the output root",
    ),
    source(
        "setlinfo",
        Place::Input,
        true,
        "input: the hospitals' settlements (with hospital_dir, line)",
    ),
    source(
        "feedetail",
        Place::Input,
        true,
        "input: the hospitals' fee lines (with hospital_dir, line)",
    ),
    source(
        "summary",
        Place::Input,
        false,
        "input: the hospitals' own totals (对总账)",
    ),
    source(
        "filings",
        Place::Input,
        true,
        "input: the filing registry (备案)",
    ),
    source(
        "hospitals",
        Place::Input,
        true,
        "input: networked institutions",
    ),
    source(
        "catalogue",
        Place::Input,
        true,
        "input: treatment-province catalogues (就医地目录)",
    ),
    source(
        "policy",
        Place::Input,
        true,
        "input: insured-place payment policy (参保地政策)",
    ),
    source(
        "regions",
        Place::Input,
        true,
        "input: administrative divisions",
    ),
    source(
        "opsp_diseases",
        Place::Input,
        true,
        "input: chronic outpatient diseases by insured province",
    ),
    source(
        "enrollment",
        Place::Input,
        false,
        "input: insurance status of persons",
    ),
    source(
        "ytd",
        Place::Input,
        false,
        "input: year-to-date deductible used and fund paid",
    ),
];

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

/// A query that cannot run as written (exit 2), or a run that cannot be queried (exit 3).
#[derive(Debug, thiserror::Error)]
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

impl QueryError {
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            QueryError::NoRun { .. }
            | QueryError::NotARun { .. }
            | QueryError::Incomplete { .. } => ExitStatus::Input,
            _ => ExitStatus::Usage,
        }
    }
}

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

    /// Runs one SQL statement.
    pub fn query(&self, sql: &str) -> Result<DataFrame, QueryError> {
        let mut context = self.context().map_err(|e| QueryError::Sql(e.to_string()))?;
        context
            .execute(sql)
            .and_then(|plan| plan.collect())
            .map_err(|e| self.explain(sql, e))
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

/// The text of one cell: money with its scale, dates and times as the inputs write them.
pub fn cell_text(value: &AnyValue<'_>) -> String {
    match value {
        AnyValue::Null => String::new(),
        AnyValue::String(s) => (*s).to_owned(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::Decimal(v, _, scale) => format_decimal(*v, *scale),
        AnyValue::Date(days) => crate::units::date_from_days(*days)
            .format("%Y-%m-%d")
            .to_string(),
        AnyValue::Datetime(t, unit, _) => {
            let millis = match unit {
                TimeUnit::Milliseconds => *t,
                TimeUnit::Microseconds => t.div_euclid(1_000),
                TimeUnit::Nanoseconds => t.div_euclid(1_000_000),
            };
            crate::units::time_from_millis(millis)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        }
        other => other.to_string(),
    }
}

fn format_decimal(value: i128, scale: usize) -> String {
    let digits = value.unsigned_abs().to_string();
    let sign = if value < 0 { "-" } else { "" };
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{sign}{int}.{frac}")
}

fn is_numeric(dtype: &DataType) -> bool {
    dtype.is_primitive_numeric() || matches!(dtype, DataType::Decimal(..))
}

/// The frame's cells as text, column by column.
fn texts(frame: &DataFrame, rows: usize) -> PolarsResult<Vec<Vec<String>>> {
    frame
        .columns()
        .iter()
        .map(|column| {
            let series = column.as_materialized_series();
            (0..rows.min(series.len()))
                .map(|i| series.get(i).map(|v| cell_text(&v)))
                .collect()
        })
        .collect()
}

/// An aligned table of at most `max_rows` rows, with a footer giving the row count.
pub fn write_table(frame: &DataFrame, max_rows: usize, out: &mut impl Write) -> anyhow::Result<()> {
    let shown = frame.height().min(max_rows);
    let cells = texts(frame, shown)?;
    let names: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let widths: Vec<usize> = names
        .iter()
        .zip(&cells)
        .map(|(name, column)| {
            column
                .iter()
                .map(|c| c.width())
                .chain([name.width()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let right: Vec<bool> = frame
        .columns()
        .iter()
        .map(|c| is_numeric(c.dtype()))
        .collect();
    let pad = |text: &str, width: usize, right: bool| {
        let fill = " ".repeat(width.saturating_sub(text.width()));
        if right {
            format!("{fill}{text}")
        } else {
            format!("{text}{fill}")
        }
    };
    let line = |row: Vec<String>| row.join(" │ ").trim_end().to_owned();
    writeln!(
        out,
        "{}",
        line(
            names
                .iter()
                .zip(&widths)
                .zip(&right)
                .map(|((n, &w), &r)| pad(n, w, r))
                .collect()
        )
    )?;
    writeln!(
        out,
        "{}",
        widths
            .iter()
            .map(|&w| "─".repeat(w))
            .collect::<Vec<_>>()
            .join("─┼─")
    )?;
    for row in 0..shown {
        writeln!(
            out,
            "{}",
            line(
                cells
                    .iter()
                    .zip(&widths)
                    .zip(&right)
                    .map(|((c, &w), &r)| pad(&c[row], w, r))
                    .collect()
            )
        )?;
    }
    let rows = frame.height();
    if shown < rows {
        writeln!(
            out,
            "({rows} rows, the first {shown} shown; --max-rows N shows more, --format csv all)"
        )?;
    } else {
        writeln!(out, "({rows} row{})", if rows == 1 { "" } else { "s" })?;
    }
    Ok(())
}

/// UTF-8 CSV with a BOM, formula-like text neutralised, as the run's own tables.
pub fn write_csv(frame: &DataFrame, out: impl Write) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(out);
    out.write_all(b"\xEF\xBB\xBF")?;
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(frame.get_column_names().iter().map(|n| n.as_str()))?;
    let cells = texts(frame, frame.height())?;
    let numeric: Vec<bool> = frame
        .columns()
        .iter()
        .map(|c| is_numeric(c.dtype()))
        .collect();
    for row in 0..frame.height() {
        writer.write_record(cells.iter().zip(&numeric).map(|(c, &n)| {
            if n {
                c[row].clone()
            } else {
                crate::output::table::neutralise(&c[row]).into_owned()
            }
        }))?;
    }
    writer.flush()?;
    Ok(())
}

/// A JSON array of objects, one a line. Numbers (money included) are written as their exact
/// decimal text, never through a binary float.
pub fn write_json(frame: &DataFrame, out: impl Write) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(out);
    let names: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|n| serde_json::to_string(n.as_str()))
        .collect::<Result<_, _>>()?;
    let cells = texts(frame, frame.height())?;
    let kinds: Vec<&DataType> = frame.columns().iter().map(|c| c.dtype()).collect();
    writeln!(out, "[")?;
    for row in 0..frame.height() {
        let fields: Vec<String> = names
            .iter()
            .zip(&cells)
            .zip(&kinds)
            .map(|((name, column), kind)| {
                let text = &column[row];
                let number = is_numeric(kind) && !text.contains(['N', 'n', 'i']);
                let value = if text.is_empty() && !matches!(kind, DataType::String) {
                    "null".to_owned()
                } else if number || matches!(kind, DataType::Boolean) {
                    text.clone()
                } else {
                    serde_json::to_string(text).unwrap_or_default()
                };
                format!("{name}:{value}")
            })
            .collect();
        let comma = if row + 1 < frame.height() { "," } else { "" };
        writeln!(out, "{{{}}}{comma}", fields.join(","))?;
    }
    writeln!(out, "]")?;
    out.flush()?;
    Ok(())
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

impl Options {
    pub fn from_args(args: &crate::cli::QueryArgs) -> Result<Options, ConfigError> {
        let sql = match (&args.sql, &args.sql_file) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::Usage(
                    "give the SQL either as an argument or with --sql-file, not both".into(),
                ));
            }
            (Some(sql), None) => Some(sql.clone()),
            (None, Some(file)) => {
                Some(
                    std::fs::read_to_string(file).map_err(|source| ConfigError::Read {
                        path: file.clone(),
                        source,
                    })?,
                )
            }
            (None, None) if args.tables => None,
            (None, None) => {
                return Err(ConfigError::Usage(
                    "no SQL given: pass it as an argument, with --sql-file FILE, or ask --tables"
                        .into(),
                ));
            }
        };
        if args.format == Format::Parquet
            && args.output.is_none()
            && std::io::IsTerminal::is_terminal(&std::io::stdout())
        {
            return Err(ConfigError::Usage(
                "--format parquet writes binary data: pass --output FILE or redirect stdout".into(),
            ));
        }
        Ok(Options {
            run_dir: args.run_dir.clone(),
            sql,
            format: args.format,
            output: args.output.clone(),
            max_rows: args.max_rows,
            list_tables: args.tables,
        })
    }
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

/// Writes `frame` in `format` to `out`.
pub fn write(
    frame: &mut DataFrame,
    format: Format,
    max_rows: usize,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    match format {
        Format::Table => write_table(frame, max_rows, out),
        Format::Csv => write_csv(frame, out),
        Format::Json => write_json(frame, out),
        Format::Parquet => {
            ParquetWriter::new(out).finish(frame)?;
            Ok(())
        }
    }
}

pub fn query(options: &Options) -> anyhow::Result<ExitStatus> {
    let run = Run::open(&options.run_dir)?;
    let mut buffer: Vec<u8> = Vec::new();
    match &options.sql {
        Some(sql) if !options.list_tables => {
            let mut frame = run.query(sql)?;
            write(&mut frame, options.format, options.max_rows, &mut buffer)?;
        }
        _ => list_tables(&run, &mut buffer)?,
    }
    match &options.output {
        Some(path) => {
            // Written beside and renamed, so a reader never sees half a file.
            let temp = path.with_extension("yidi-tmp");
            std::fs::write(&temp, &buffer)
                .and_then(|()| std::fs::rename(&temp, path))
                .map_err(|e| OutputError::io(path, e))?;
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(&buffer)
                .and_then(|()| stdout.flush())
                .map_err(|e| OutputError::io("stdout", e))?;
        }
    }
    Ok(ExitStatus::Success)
}
