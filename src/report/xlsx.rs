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
    // The sheets share the workbook's table of formats; a format first met by two sheets
    // at once could be given two indices (rust_xlsxwriter adds it after a failed look-up,
    // without looking again), so each is added before the sheets are filled.
    for format in [&formats.header, &formats.money, &formats.grouped] {
        workbook.register_format(format);
    }
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
    // In Chinese and in English, as the sheets' names and headers are.
    Ok((rows < *total).then(|| {
        format!(
            "{} {name}：共 {total} 行，只显示前 {rows} 行，全部数据见 CSV 与 Parquet 表。\
             ({name}: {total} rows, the first {rows} shown; the CSV and Parquet tables hold all.)",
            labels::table_zh(name)
        )
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

    /// Sheets filled side by side share one table of formats: in every sheet, a money
    /// cell's style is the `#,##0.00` number format and a count's `#,##0`; a sheet cut at
    /// [`MAX_ROWS`] is named in the notes sheet.
    #[test]
    fn sheets_filled_side_by_side_share_their_formats() {
        use std::io::Read;
        let frame = df!(
            "code" => ["A", "B", "C"],
            "amount" => [1234i64, -5, 100_000],
            "setl_cnt" => [1i64, 2, 3_000],
        )
        .unwrap();
        let scale = |name: &str| (name == "amount").then_some(2);
        let names = ["findings", "settlements", "clearing_by_area", "ledger"];
        let mut sheets: Vec<Sheet> = names
            .iter()
            .map(|name| Sheet::of(name, &frame, &scale))
            .collect();
        sheets[1].rows = MAX_ROWS + 1;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.xlsx");
        write(&path, &sheets).unwrap();

        let mut archive = ::zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
        let mut text = |name: &str| {
            let mut xml = String::new();
            let mut file = archive.by_name(name).unwrap();
            file.read_to_string(&mut xml).unwrap();
            xml
        };
        let styles = text("xl/styles.xml");
        // Each cell style (`<xf>` in `cellXfs`, by position) and its number format's code.
        let number_formats: Vec<(String, String)> = styles
            .split("<numFmt ")
            .skip(1)
            .map(|rest| {
                let id = rest.split("numFmtId=\"").nth(1).unwrap();
                let code = rest.split("formatCode=\"").nth(1).unwrap();
                let field = |s: &str| s[..s.find('"').unwrap()].to_owned();
                (field(id), field(code))
            })
            .collect();
        let xfs = styles.split("<cellXfs").nth(1).unwrap();
        let xfs = &xfs[..xfs.find("</cellXfs>").unwrap()];
        let style_code = |s: usize| {
            let xf = xfs.split("<xf ").nth(s + 1).unwrap();
            let id = xf.split("numFmtId=\"").nth(1).unwrap();
            let id = &id[..id.find('"').unwrap()];
            number_formats
                .iter()
                .find(|(known, _)| known == id)
                .map(|(_, code)| code.clone())
                .unwrap_or_default()
        };
        for n in 1..=names.len() {
            let sheet = text(&format!("xl/worksheets/sheet{n}.xml"));
            for (column, code) in [("B", "#,##0.00"), ("C", "#,##0")] {
                for row in 2..=4 {
                    let cell = format!("<c r=\"{column}{row}\" s=\"");
                    let at = sheet.find(&cell).unwrap_or_else(|| panic!("{cell} in {n}"));
                    let s = &sheet[at + cell.len()..];
                    let s: usize = s[..s.find('"').unwrap()].parse().unwrap();
                    assert_eq!(style_code(s), code, "sheet {n}, {column}{row}");
                }
            }
        }
        // The notes sheet (a sheet of the workbook's shared strings) after the tables'.
        let workbook = text("xl/workbook.xml");
        assert_eq!(workbook.matches("<sheet ").count(), names.len() + 1);
        let notes = text("xl/sharedStrings.xml");
        assert!(
            notes.contains(
                "结算清算状态 settlements：共 100001 行，只显示前 3 行，全部数据见 CSV 与 Parquet 表。\
                 (settlements: 100001 rows, the first 3 shown; the CSV and Parquet tables hold all.)"
            ),
            "{notes}"
        );
    }
}
