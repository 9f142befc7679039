//! Writing a query's result as it comes, a batch of rows at a time (SPEC §10: `yidi
//! query` streams): CSV, JSON and Parquet hold no more than a batch; the aligned table
//! keeps its first `--max-rows` rows and counts the rest.

use std::io::Write;

use polars::prelude::*;
use unicode_width::UnicodeWidthStr;

use super::Format;

/// Where a result goes: stdout, or the temporary file behind `--output`.
pub type Out = Box<dyn Write + Send>;

/// A result being written in one format.
pub struct ResultWriter {
    state: State,
}

enum State {
    Table {
        out: Out,
        max_rows: usize,
        head: DataFrame,
        rows: usize,
    },
    Csv {
        writer: csv::Writer<Out>,
        numeric: Vec<bool>,
    },
    Json {
        out: Out,
        names: Vec<String>,
        kinds: Vec<DataType>,
        rows: usize,
    },
    Parquet(Box<polars::io::parquet::write::BatchedWriter<Out>>),
}

impl ResultWriter {
    /// Starts a result of `schema` (a CSV's header, a JSON array's bracket).
    pub fn new(format: Format, schema: &Schema, max_rows: usize, out: Out) -> anyhow::Result<Self> {
        let numeric: Vec<bool> = schema.iter_values().map(is_numeric).collect();
        let state = match format {
            Format::Table => State::Table {
                out,
                max_rows,
                head: DataFrame::empty_with_schema(schema),
                rows: 0,
            },
            Format::Csv => {
                let mut out = out;
                out.write_all(b"\xEF\xBB\xBF")?;
                let mut writer = csv::Writer::from_writer(out);
                writer.write_record(schema.iter_names().map(|n| n.as_str()))?;
                State::Csv { writer, numeric }
            }
            Format::Json => {
                let mut out = out;
                writeln!(out, "[")?;
                State::Json {
                    out,
                    names: schema
                        .iter_names()
                        .map(|n| serde_json::to_string(n.as_str()))
                        .collect::<Result<_, _>>()?,
                    kinds: schema.iter_values().cloned().collect(),
                    rows: 0,
                }
            }
            Format::Parquet => State::Parquet(Box::new(ParquetWriter::new(out).batched(schema)?)),
        };
        Ok(ResultWriter { state })
    }

    /// Writes the next rows of the result.
    pub fn push(&mut self, batch: &DataFrame) -> anyhow::Result<()> {
        match &mut self.state {
            State::Table {
                max_rows,
                head,
                rows,
                ..
            } => {
                if head.height() < *max_rows {
                    head.vstack_mut(&batch.head(Some(*max_rows - head.height())))?;
                }
                *rows += batch.height();
            }
            State::Csv { writer, numeric } => {
                let cells = texts(batch, batch.height())?;
                for row in 0..batch.height() {
                    writer.write_record(cells.iter().zip(numeric.iter()).map(|(c, &n)| {
                        use std::borrow::Cow;
                        match n {
                            true => Cow::Borrowed(c[row].as_bytes()),
                            false => match crate::output::table::neutralise(&c[row]) {
                                Cow::Borrowed(text) => Cow::Borrowed(text.as_bytes()),
                                Cow::Owned(text) => Cow::Owned(text.into_bytes()),
                            },
                        }
                    }))?;
                }
            }
            State::Json {
                out,
                names,
                kinds,
                rows,
            } => {
                let cells = texts(batch, batch.height())?;
                for row in 0..batch.height() {
                    let fields: Vec<String> = names
                        .iter()
                        .zip(&cells)
                        .zip(kinds.iter())
                        .map(|((name, column), kind)| {
                            format!("{name}:{}", json_value(&column[row], kind))
                        })
                        .collect();
                    let comma = if *rows > 0 { ",\n" } else { "" };
                    write!(out, "{comma}{{{}}}", fields.join(","))?;
                    *rows += 1;
                }
            }
            State::Parquet(writer) => writer.write_batch(batch)?,
        }
        Ok(())
    }

    /// Ends the result (the table and its footer, the closing bracket) and flushes it.
    pub fn finish(self) -> anyhow::Result<()> {
        match self.state {
            State::Table {
                mut out,
                max_rows,
                head,
                rows,
            } => {
                write_table(&head, rows, max_rows, &mut out)?;
                out.flush()?;
            }
            State::Csv { mut writer, .. } => writer.flush()?,
            State::Json { mut out, rows, .. } => {
                if rows > 0 {
                    writeln!(out)?;
                }
                writeln!(out, "]")?;
                out.flush()?;
            }
            State::Parquet(writer) => {
                writer.finish()?;
            }
        }
        Ok(())
    }
}

/// A cell as a JSON value: numbers (money included) as their exact decimal text, never
/// through a binary float.
fn json_value(text: &str, kind: &DataType) -> String {
    let number = is_numeric(kind) && !text.contains(['N', 'n', 'i']);
    if text.is_empty() && !matches!(kind, DataType::String) {
        "null".to_owned()
    } else if number || matches!(kind, DataType::Boolean) {
        text.to_owned()
    } else {
        serde_json::to_string(text).unwrap_or_default()
    }
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

/// An aligned table of the first `max_rows` rows of `frame`, with a footer giving the
/// result's row count, `rows` (the frame may hold only the first rows).
pub fn write_table(
    frame: &DataFrame,
    rows: usize,
    max_rows: usize,
    out: &mut impl Write,
) -> anyhow::Result<()> {
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
