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
    Csv(crate::output::table::CsvRows<Out>),
    Json {
        out: Out,
        names: Vec<String>,
        kinds: Vec<DataType>,
        /// Pieces of text written so far (a comma goes before each but the first).
        pieces: usize,
    },
    Parquet(Box<polars::io::parquet::write::BatchedWriter<Out>>),
}

impl ResultWriter {
    /// Starts a result of `schema` (a CSV's header, a JSON array's bracket).
    pub fn new(format: Format, schema: &Schema, max_rows: usize, out: Out) -> anyhow::Result<Self> {
        let state = match format {
            Format::Table => State::Table {
                out,
                max_rows,
                head: DataFrame::empty_with_schema(schema),
                rows: 0,
            },
            Format::Csv => State::Csv(crate::output::table::CsvRows::new(
                &DataFrame::empty_with_schema(schema),
                out,
            )?),
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
                    pieces: 0,
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
            // The run's own CSV text: numbers as numbers, text neutralised for a spreadsheet.
            State::Csv(rows) => rows.push(batch, &|_| None)?,
            State::Json {
                out,
                names,
                kinds,
                pieces,
            } => {
                use rayon::prelude::*;
                // Slices of rows rendered side by side, a few at a time, as the CSV text is:
                // the text of a whole batch's cells at once would not be bounded.
                let offsets: Vec<usize> = (0..batch.height()).step_by(SLICE_ROWS).collect();
                for group in offsets.chunks(2 * rayon::current_num_threads()) {
                    let texts = group
                        .par_iter()
                        .map(|&offset| {
                            json_lines(&batch.slice(offset as i64, SLICE_ROWS), names, kinds)
                        })
                        .collect::<PolarsResult<Vec<_>>>()?;
                    for text in texts.iter().filter(|t| !t.is_empty()) {
                        if *pieces > 0 {
                            out.write_all(b",\n")?;
                        }
                        out.write_all(text)?;
                        *pieces += 1;
                    }
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
            State::Csv(rows) => {
                rows.finish()?;
            }
            State::Json {
                mut out, pieces, ..
            } => {
                if pieces > 0 {
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

/// Rows of a batch rendered at once, side by side.
const SLICE_ROWS: usize = 1 << 14;

/// The JSON objects of a slice of rows, one a line, joined by `,\n` (no comma after the last).
fn json_lines(slice: &DataFrame, names: &[String], kinds: &[DataType]) -> PolarsResult<Vec<u8>> {
    let cells = texts(slice, slice.height())?;
    let mut text = String::new();
    for row in 0..slice.height() {
        if row > 0 {
            text.push_str(",\n");
        }
        text.push('{');
        for (k, ((name, column), kind)) in names.iter().zip(&cells).zip(kinds).enumerate() {
            if k > 0 {
                text.push(',');
            }
            text.push_str(name);
            text.push(':');
            text.push_str(&json_value(&column[row], kind));
        }
        text.push('}');
    }
    Ok(text.into_bytes())
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

fn is_numeric(dtype: &DataType) -> bool {
    dtype.is_primitive_numeric() || matches!(dtype, DataType::Decimal(..))
}

/// The frame's cells as text, column by column.
fn texts(frame: &DataFrame, rows: usize) -> PolarsResult<Vec<Vec<String>>> {
    let head = frame.head(Some(rows));
    head.columns()
        .iter()
        .map(|column| crate::output::table::column_cells(column, None, false))
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
