//! Parquet inputs with the same columns as the CSV files.
//!
//! Each value is rendered as the text a CSV export would hold and goes through the same
//! [`RowParser`], so a Parquet file and its CSV twin give identical frames and rejects.
//! Row `n` (from 1) counts as line `n + 1`, as if the header were line 1. Floating-point
//! columns are rendered by their shortest round-trip text: `12.5` stays exact, and a value
//! that only approximates a fen (`0.30000000000000004`) is rejected, never rounded.

use polars::prelude::*;

use super::encoding::Encoding;
use super::reader::{Parsed, RowParser, RowRules};
use super::schema::Table;
use crate::error::InputError;
use crate::units;

pub fn parse_parquet(
    table: Table,
    file: &str,
    bytes: &[u8],
    rules: RowRules<'_>,
) -> Result<Parsed, InputError> {
    // A damaged file must not take the month down with it: a panic in the decoder is one
    // more way for the file not to be readable.
    let read =
        std::panic::catch_unwind(|| ParquetReader::new(std::io::Cursor::new(bytes)).finish());
    let frame = match read {
        Ok(Ok(frame)) => frame,
        Ok(Err(e)) => {
            return Err(InputError::Parquet {
                file: file.to_owned(),
                message: e.to_string(),
            });
        }
        Err(_) => {
            return Err(InputError::Parquet {
                file: file.to_owned(),
                message: "the Parquet decoder failed on its contents".to_owned(),
            });
        }
    };
    let header: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let columns = frame
        .columns()
        .iter()
        .map(|c| column_texts(file, c))
        .collect::<Result<Vec<_>, _>>()?;
    let mut parser = RowParser::new(table, file, Encoding::Parquet, &header, rules)?;
    let mut record = csv::ByteRecord::new();
    for row in 0..frame.height() {
        record.clear();
        for column in &columns {
            record.push_field(column[row].as_deref().unwrap_or("").as_bytes());
        }
        parser.push(row as u64 + 2, &record);
    }
    Ok(parser.finish())
}

/// The text of every value of a column, as a CSV export would write it.
fn column_texts(file: &str, column: &Column) -> Result<Vec<Option<String>>, InputError> {
    let series = column.as_materialized_series();
    let unsupported = || InputError::ParquetType {
        file: file.to_owned(),
        column: column.name().to_string(),
        dtype: column.dtype().to_string(),
    };
    let texts = match series.dtype() {
        DataType::String => series
            .str()
            .map_err(|_| unsupported())?
            .iter()
            .map(|v| v.map(str::to_owned))
            .collect(),
        DataType::Boolean => series
            .bool()
            .map_err(|_| unsupported())?
            .iter()
            .map(|v| v.map(|b| if b { "1" } else { "0" }.to_owned()))
            .collect(),
        DataType::Float32 | DataType::Float64 => series
            .cast(&DataType::Float64)
            .map_err(|_| unsupported())?
            .f64()
            .map_err(|_| unsupported())?
            .iter()
            .map(|v| v.map(|x| x.to_string()))
            .collect(),
        DataType::Date => series
            .date()
            .map_err(|_| unsupported())?
            .physical()
            .iter()
            .map(|v| v.map(|d| units::date_from_days(d).format("%Y-%m-%d").to_string()))
            .collect(),
        DataType::Datetime(unit, _) => {
            let per_milli: i64 = match unit {
                TimeUnit::Nanoseconds => 1_000_000,
                TimeUnit::Microseconds => 1_000,
                TimeUnit::Milliseconds => 1,
            };
            series
                .datetime()
                .map_err(|_| unsupported())?
                .physical()
                .iter()
                .map(|v| {
                    v.map(|t| {
                        let time = units::time_from_millis(t.div_euclid(per_milli));
                        if t.rem_euclid(per_milli) == 0 {
                            time.format("%Y-%m-%d %H:%M:%S%.f").to_string()
                        } else {
                            // Below a millisecond: keep it visible so the row is rejected.
                            format!(
                                "{}+{}",
                                time.format("%Y-%m-%d %H:%M:%S%.f"),
                                t.rem_euclid(per_milli)
                            )
                        }
                    })
                })
                .collect()
        }
        DataType::Null => vec![None; series.len()],
        dtype if dtype.is_integer() || dtype.is_decimal() => series
            .cast(&DataType::String)
            .map_err(|_| unsupported())?
            .str()
            .map_err(|_| unsupported())?
            .iter()
            .map(|v| v.map(str::to_owned))
            .collect(),
        _ => return Err(unsupported()),
    };
    Ok(texts)
}
