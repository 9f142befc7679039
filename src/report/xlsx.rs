//! `report.xlsx`: one sheet per table, each header in Chinese and English, money as numbers
//! shown with 2 decimals, at most 100 000 rows a sheet. (A spreadsheet number is a binary
//! double: the exact figures are the CSV and Parquet tables; the workbook is for reading.)

use std::path::Path;

use polars::prelude::*;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::labels;
use crate::error::OutputError;
use crate::output::table::ScaleOf;

/// Rows shown per sheet: the workbook is for reading (a province's month has millions of
/// findings, and writing them all would cost more than the rest of the run); the CSV and
/// Parquet tables hold every row, and a notes sheet says where a sheet was cut.
pub const MAX_ROWS: usize = 100_000;

fn sheet_error(path: &Path, error: XlsxError) -> OutputError {
    OutputError::io(path, error)
}

enum Cell {
    Money(f64),
    /// A count, grouped by thousands.
    Count(f64),
    Number(f64),
    Text(String),
    Empty,
}

/// The first `rows` cells of a column: fixed-point columns as numbers in yuan.
fn cells(column: &Column, scale: Option<u32>, rows: usize) -> PolarsResult<Vec<Cell>> {
    let series = column.as_materialized_series().slice(0, rows);
    Ok(match (series.dtype(), scale) {
        (DataType::Int64, Some(scale)) => {
            let divisor = 10f64.powi(scale as i32);
            series
                .i64()?
                .iter()
                .take(rows)
                .map(|v| v.map_or(Cell::Empty, |v| Cell::Money(v as f64 / divisor)))
                .collect()
        }
        (DataType::Int64, None) if column.name().ends_with("cnt") => series
            .i64()?
            .iter()
            .take(rows)
            .map(|v| v.map_or(Cell::Empty, |v| Cell::Count(v as f64)))
            .collect(),
        (DataType::Int64, None) => series
            .i64()?
            .iter()
            .take(rows)
            .map(|v| v.map_or(Cell::Empty, |v| Cell::Number(v as f64)))
            .collect(),
        _ => series
            .cast(&DataType::String)?
            .str()?
            .iter()
            .take(rows)
            .map(|v| v.map_or(Cell::Empty, |v| Cell::Text(excel_text(v))))
            .collect(),
    })
}

/// Excel holds at most this many UTF-16 code units in a cell.
pub const EXCEL_MAX_UNITS: usize = 32_767;

/// A text as a cell can hold it: cut at Excel's limit, ending with `…` where it was cut
/// (SPEC §9; the CSV and Parquet tables keep every character).
pub fn excel_text(text: &str) -> String {
    // Each UTF-16 unit is at least one byte of UTF-8: a short text needs no count.
    if text.len() <= EXCEL_MAX_UNITS || text.encode_utf16().count() <= EXCEL_MAX_UNITS {
        return text.to_owned();
    }
    let mut units = 0;
    let mut cut = 0;
    for (at, c) in text.char_indices() {
        // Room is kept for the `…` (one unit).
        if units + c.len_utf16() > EXCEL_MAX_UNITS - 1 {
            break;
        }
        units += c.len_utf16();
        cut = at + c.len_utf8();
    }
    format!("{}…", &text[..cut])
}

/// One sheet: a table, or its first rows.
pub struct Sheet<'a> {
    pub name: &'a str,
    /// The table's rows (at least its first [`MAX_ROWS`]).
    pub frame: &'a DataFrame,
    pub scale: ScaleOf<'a>,
    /// The table's rows in all.
    pub rows: usize,
}

impl<'a> Sheet<'a> {
    /// A sheet of the whole of `frame`.
    pub fn of(name: &'a str, frame: &'a DataFrame, scale: ScaleOf<'a>) -> Sheet<'a> {
        Sheet {
            name,
            frame,
            scale,
            rows: frame.height(),
        }
    }
}

/// The cell formats the sheets share.
struct Formats {
    header: Format,
    money: Format,
    grouped: Format,
}

/// Writes the sheets to `path`. Each sheet is written to a file of its own as its rows are
/// added (rust_xlsxwriter's constant-memory sheets), so the sheets are filled side by side;
/// the workbook then puts the files together.
pub fn write(path: &Path, sheets: &[Sheet]) -> Result<(), OutputError> {
    use rayon::prelude::*;
    let mut workbook = Workbook::new();
    // The level Excel itself saves with: about 30% less time compressing the sheets than
    // the default 6, for a file about 5% larger (rust_xlsxwriter's performance notes).
    workbook.set_zip_compression_level(3);
    let formats = Formats {
        header: Format::new().set_bold().set_text_wrap(),
        // Money and counts grouped by thousands, right-aligned as numbers are.
        money: Format::new().set_num_format("#,##0.00"),
        grouped: Format::new().set_num_format("#,##0"),
    };
    for sheet in sheets {
        let title = format!("{} {}", labels::table_zh(sheet.name), sheet.name);
        workbook
            .add_worksheet_with_constant_memory()
            .map_err(|e| sheet_error(path, e))?
            .set_name(title.chars().take(31).collect::<String>())
            .map_err(|e| sheet_error(path, e))?;
    }
    let notes: Vec<String> = workbook
        .worksheets_mut()
        .par_iter_mut()
        .zip(sheets.par_iter())
        .map(|(worksheet, sheet)| fill(path, worksheet, sheet, &formats))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect();
    if !notes.is_empty() {
        let sheet = workbook.add_worksheet();
        sheet
            .set_name("说明 notes")
            .map_err(|e| sheet_error(path, e))?;
        for (r, note) in notes.iter().enumerate() {
            sheet
                .write_string(r as u32, 0, note)
                .map_err(|e| sheet_error(path, e))?;
        }
    }
    workbook.save(path).map_err(|e| sheet_error(path, e))
}

/// Writes one sheet's header and rows; the note to show where it was cut, if it was.
fn fill(
    path: &Path,
    worksheet: &mut Worksheet,
    sheet: &Sheet,
    formats: &Formats,
) -> Result<Option<String>, OutputError> {
    let Sheet {
        name,
        frame,
        scale: scale_of,
        rows: total,
    } = sheet;
    let columns = frame.columns();
    for (c, column) in columns.iter().enumerate() {
        let name = column.name().as_str();
        let text = format!("{}\n{}", labels::zh(name), name);
        worksheet
            .write_string_with_format(0, c as u16, text, &formats.header)
            .map_err(|e| sheet_error(path, e))?;
        worksheet
            .set_column_width(
                c as u16,
                if name == "detail" || name == "reason" {
                    60
                } else {
                    16
                },
            )
            .map_err(|e| sheet_error(path, e))?;
    }
    worksheet
        .set_freeze_panes(1, 0)
        .map_err(|e| sheet_error(path, e))?;
    let rows = frame.height().min(*total).min(MAX_ROWS);
    // Constant-memory sheets are written row by row.
    let cells: Vec<Vec<Cell>> = columns
        .iter()
        .map(|column| cells(column, scale_of(column.name()), rows))
        .collect::<PolarsResult<_>>()
        .map_err(|e| OutputError::io(path, e))?;
    for r in 0..rows {
        for (c, column) in cells.iter().enumerate() {
            let (row, col) = (r as u32 + 1, c as u16);
            match &column[r] {
                Cell::Money(v) => worksheet.write_number_with_format(row, col, *v, &formats.money),
                Cell::Count(v) => {
                    worksheet.write_number_with_format(row, col, *v, &formats.grouped)
                }
                Cell::Number(v) => worksheet.write_number(row, col, *v),
                Cell::Text(v) => worksheet.write_string(row, col, v),
                Cell::Empty => continue,
            }
            .map_err(|e| sheet_error(path, e))?;
        }
    }
    Ok((rows < *total).then(|| {
        format!("{name}: {total} rows, the first {rows} shown; the CSV and Parquet tables hold all")
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_text_is_cut_at_excels_limit_with_an_ellipsis() {
        assert_eq!(excel_text("短"), "短");
        let exact = "a".repeat(EXCEL_MAX_UNITS);
        assert_eq!(excel_text(&exact), exact);
        let long = "名".repeat(EXCEL_MAX_UNITS + 5);
        let cut = excel_text(&long);
        assert_eq!(cut.encode_utf16().count(), EXCEL_MAX_UNITS);
        assert!(cut.ends_with("名…"));
        // A character of two units is not split.
        let wide = "😀".repeat(EXCEL_MAX_UNITS);
        let cut = excel_text(&wide);
        assert!(cut.encode_utf16().count() <= EXCEL_MAX_UNITS);
        assert!(cut.ends_with("😀…"));
    }
}
