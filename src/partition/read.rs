//! Reading a part back: its Parquet files decoded column by column, each fixed-point
//! column straight into the scaled integers the checks use.
//!
//! The files hold money and ratios as `Decimal(18, scale)` for analysts. polars reads such
//! a column into its 128-bit decimals a value at a time, and a cast then made 64-bit
//! integers of them again: on a province month that was about a third of the time of
//! reading the fee lines of the 31 parts back (1.9 s, now 1.3–1.5 s). Here the file's
//! 64-bit integers are decoded as integers, by polars' own page decoders, one column (of
//! every row group) a task.

use std::io::Cursor;
use std::path::Path;

use polars::prelude::*;
use polars_arrow::datatypes::{ArrowDataType, Field};
use polars_parquet::read::{BasicDecompressor, PageReader, column_iter_to_arrays, infer_schema};

use super::{Table, part_path};
use crate::error::OutputError;

/// A part's settlement rows and fee lines, to be checked: read back with their fixed-point
/// columns as the scaled integers the checks use, the fee lines with the columns the checks
/// read alone (the three others are a tenth of their bytes in a province month's files).
pub fn read_part(root: &Path, part: &str) -> Result<(DataFrame, DataFrame), OutputError> {
    let checked: Vec<String> = crate::model::FeeLines::columns()
        .map(str::to_owned)
        .collect();
    let (setlinfo, feedetail) = rayon::join(
        || read_columns(root, Table::Setlinfo, part, None),
        || read_columns(root, Table::Feedetail, part, Some(checked)),
    );
    Ok((setlinfo?, feedetail?))
}

/// One table of a part (settlement rows or fee lines), every column, with its fixed-point
/// columns as scaled integers.
pub fn read_part_table(root: &Path, table: Table, part: &str) -> Result<DataFrame, OutputError> {
    read_columns(root, table, part, None)
}

/// One table of a part, its `columns` in the order asked for (`None`: all, in the file's
/// order). A part with no file has no rows.
fn read_columns(
    root: &Path,
    table: Table,
    part: &str,
    columns: Option<Vec<String>>,
) -> Result<DataFrame, OutputError> {
    let path = part_path(root, table, part);
    let err = |e: PolarsError| OutputError::io(&path, e);
    if !path.is_file() {
        let empty = crate::ingest::empty_hospital_frame(table);
        return match columns {
            Some(columns) => empty.select(columns).map_err(err),
            None => Ok(empty),
        };
    }
    let bytes = std::fs::read(&path).map_err(|e| OutputError::io(&path, e))?;
    read_scaled(bytes, columns.as_deref()).map_err(err)
}

/// The `columns` (`None`: all) of a Parquet file's `bytes`, a Decimal column as the Int64 of
/// its unscaled values (as ingestion types fixed-point columns).
pub fn read_scaled(bytes: Vec<u8>, columns: Option<&[String]>) -> PolarsResult<DataFrame> {
    use rayon::prelude::*;
    let file = polars_buffer::Buffer::from_vec(bytes);
    let metadata = polars_parquet::read::read_metadata(&mut Cursor::new(file.as_slice()))?;
    let schema = infer_schema(&metadata)?;
    let wanted: Vec<(usize, &Field)> = match columns {
        None => schema.iter_values().enumerate().collect(),
        Some(names) => names
            .iter()
            .map(|name| {
                schema
                    .get_full(name.as_str())
                    .map(|(i, _, field)| (i, field))
                    .ok_or_else(|| polars_err!(ColumnNotFound: "{name} is not in the file"))
            })
            .collect::<PolarsResult<_>>()?,
    };
    let height: usize = metadata.row_groups.iter().map(|g| g.num_rows()).sum();
    let columns = wanted
        .into_par_iter()
        .map(|(i, field)| {
            let field = match field.dtype() {
                ArrowDataType::Decimal(..) => {
                    Field::new(field.name.clone(), ArrowDataType::Int64, field.is_nullable)
                }
                _ => field.clone(),
            };
            let mut arrays = Vec::with_capacity(metadata.row_groups.len());
            for group in &metadata.row_groups {
                let chunk = group.parquet_columns().get(i).ok_or_else(
                    || polars_err!(ComputeError: "a row group without column {}", field.name),
                )?;
                let range = chunk.byte_range();
                let bytes = file
                    .clone()
                    .sliced(range.start as usize..range.end as usize);
                let pages = PageReader::new(Cursor::new(bytes), chunk, vec![], usize::MAX);
                let (decoded, _) = column_iter_to_arrays(
                    vec![BasicDecompressor::new(pages, vec![])],
                    vec![&chunk.descriptor().descriptor.primitive_type],
                    field.clone(),
                    None,
                )?;
                arrays.extend(decoded);
            }
            let series = if arrays.is_empty() {
                let dtype = DataType::from_arrow_field(&field);
                Series::new_empty(field.name.clone(), &dtype)
            } else {
                Series::try_from((&field, arrays))?
            };
            Ok(series.into_column())
        })
        .collect::<PolarsResult<Vec<_>>>()?;
    DataFrame::new(height, columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::parquet::fixture;

    fn written(frame: &DataFrame, dir: &Path) -> Vec<u8> {
        let path = dir.join("t.parquet");
        fixture::write(frame, &path, false);
        std::fs::read(&path).unwrap()
    }

    /// A part's file reads back as it was pushed, over several row groups: its fixed-point
    /// column (a Decimal in the file) as the scaled integers, with its nulls; codes,
    /// identifiers, dates and times as they were.
    #[test]
    fn a_part_file_reads_back_with_its_fixed_point_columns_as_integers() {
        let dir = tempfile::tempdir().unwrap();
        let frame = fixture::frame(1000);
        let bytes = written(&frame, dir.path());
        let file = polars_parquet::read::read_metadata(&mut Cursor::new(&bytes)).unwrap();
        assert_eq!(file.row_groups.len(), 3);
        let pay = infer_schema(&file).unwrap();
        assert!(matches!(
            pay.get("hifp_pay").unwrap().dtype(),
            ArrowDataType::Decimal(18, 2)
        ));
        let back = read_scaled(bytes.clone(), None).unwrap();
        assert_eq!(back.schema(), frame.schema());
        assert!(back.equals_missing(&frame), "{back}");
        // Columns asked for come in the order asked.
        let two = ["setl_time".to_owned(), "hifp_pay".to_owned()];
        let back = read_scaled(bytes.clone(), Some(&two)).unwrap();
        assert!(back.equals_missing(&frame.select(two.clone()).unwrap()));
        let missing = ["no_such_column".to_owned()];
        assert!(read_scaled(bytes, Some(&missing)).is_err());
    }

    #[test]
    fn a_part_file_of_no_rows_reads_back_as_the_empty_columns() {
        let dir = tempfile::tempdir().unwrap();
        let frame = fixture::frame(0);
        let back = read_scaled(written(&frame, dir.path()), None).unwrap();
        assert_eq!(back.height(), 0);
        assert_eq!(back.schema(), frame.schema());
    }
}
