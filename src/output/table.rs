//! Writing a frame as `<name>.csv` and `<name>.parquet` (SPEC §9).
//!
//! CSV: UTF-8 with a BOM (Excel on a Chinese Windows then reads it as UTF-8 rather than
//! GBK), comma-separated, quoted where needed, money with exactly 2 decimals, text cells
//! beginning with `=`, `+`, `-` or `@` prefixed with `'` so a spreadsheet never runs them
//! (numbers, negative ones included, are written as numbers). Parquet: fixed-point columns
//! as `Decimal(18, scale)`, so analysts' tools read exact values. `certno` and `psn_name`
//! are masked before either is written.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use polars_arrow::array::MutableBinaryViewArray;

use super::parquet::ParquetSink;
use crate::error::OutputError;
use crate::ingest::schema::PII_COLUMNS;
use crate::mask;
use crate::units;

/// The decimal scale of a fixed-point (scaled integer) column, `None` for other columns.
pub type ScaleOf<'a> = &'a (dyn Fn(&str) -> Option<u32> + Sync);

/// One written file, as the manifest records it.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct OutputFile {
    pub path: String,
    pub sha256: String,
    pub rows: u64,
}

/// Masks the personal-data columns of a frame (SPEC §9).
pub fn masked(frame: &DataFrame) -> PolarsResult<DataFrame> {
    let mut frame = frame.clone();
    for &name in PII_COLUMNS {
        if let Ok(column) = frame.column(name) {
            let mask_into = match name {
                "certno" => mask::certno_into,
                _ => mask::name_into,
            };
            // Each value masked into one buffer, and its text copied from there.
            let mut text = String::new();
            let mut masked = MutableBinaryViewArray::<str>::with_capacity(column.len());
            for value in column.str()?.iter() {
                match value {
                    Some(value) => {
                        mask_into(value, &mut text);
                        masked.push_value(&text);
                    }
                    None => masked.push_null(),
                }
            }
            let masked = StringChunked::with_chunk(name.into(), masked.freeze());
            frame.with_column(masked.into_column())?;
        }
    }
    Ok(frame)
}

/// Prefixes text that a spreadsheet would take for a formula.
pub fn neutralise(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

/// Renders every cell of a column as CSV text (a null as empty text).
fn column_text(column: &Column, scale: Option<u32>) -> PolarsResult<Vec<String>> {
    column_cells(column, scale, true)
}

/// Renders every cell of a column as text: fixed-point integers at their `scale`, decimals
/// at theirs, dates and times as the inputs write them, text `neutralise`d for a
/// spreadsheet or as it is; a null as empty text.
pub fn column_cells(
    column: &Column,
    scale: Option<u32>,
    neutralise_text: bool,
) -> PolarsResult<Vec<String>> {
    let series = column.as_materialized_series();
    let millis_per = |unit: &TimeUnit| match unit {
        TimeUnit::Milliseconds => 1,
        TimeUnit::Microseconds => 1_000,
        TimeUnit::Nanoseconds => 1_000_000,
    };
    let texts = match (series.dtype(), scale) {
        (DataType::String, _) if !neutralise_text => series
            .str()?
            .iter()
            .map(|v| v.unwrap_or_default().to_owned())
            .collect(),
        (DataType::Decimal(..), _) => {
            let decimals = series.decimal()?;
            let scale = decimals.scale();
            decimals
                .physical()
                .iter()
                .map(|v| {
                    v.map(|x| units::format_decimal(x, scale))
                        .unwrap_or_default()
                })
                .collect()
        }
        (DataType::Datetime(unit, _), _) if *unit != TimeUnit::Milliseconds => {
            let per = millis_per(unit);
            series
                .datetime()?
                .physical()
                .iter()
                .map(|v| {
                    v.map(|t| {
                        units::time_from_millis(t.div_euclid(per))
                            .format("%Y-%m-%d %H:%M:%S")
                            .to_string()
                    })
                    .unwrap_or_default()
                })
                .collect()
        }
        (DataType::Int64, Some(scale)) => series
            .i64()?
            .iter()
            .map(|v| v.map(|x| units::format_fixed(x, scale)).unwrap_or_default())
            .collect(),
        (DataType::String, _) => series
            .str()?
            .iter()
            .map(|v| v.map(|t| neutralise(t).into_owned()).unwrap_or_default())
            .collect(),
        (DataType::Date, _) => series
            .date()?
            .physical()
            .iter()
            .map(|v| {
                v.map(|d| units::date_from_days(d).format("%Y-%m-%d").to_string())
                    .unwrap_or_default()
            })
            .collect(),
        (DataType::Datetime(TimeUnit::Milliseconds, _), _) => series
            .datetime()?
            .physical()
            .iter()
            .map(|v| {
                v.map(|t| {
                    units::time_from_millis(t)
                        .format("%Y-%m-%d %H:%M:%S")
                        .to_string()
                })
                .unwrap_or_default()
            })
            .collect(),
        _ => series
            .cast(&DataType::String)?
            .str()?
            .iter()
            .map(|v| v.unwrap_or_default().to_owned())
            .collect(),
    };
    Ok(texts)
}

/// Writes CSV text of a frame: BOM, header, rows.
pub fn write_csv(frame: &DataFrame, scale_of: ScaleOf, out: impl Write) -> PolarsResult<()> {
    let mut csv = CsvRows::new(frame, BufWriter::new(out))?;
    csv.push(frame, scale_of)?;
    csv.finish().map(|_| ())
}

/// CSV text written a frame at a time: BOM and header first, then the rows pushed.
pub struct CsvRows<W: Write> {
    out: W,
}

fn csv_error(e: csv::Error) -> PolarsError {
    PolarsError::ComputeError(e.to_string().into())
}

fn io_error(e: std::io::Error) -> PolarsError {
    // Kept as an I/O error: a closed pipe must still read as one (`yidi query | head`).
    PolarsError::from(e)
}

/// The CSV text of records (each quoted where it needs to be, as one writer would).
fn csv_text<'r>(
    records: impl Iterator<Item = impl IntoIterator<Item = &'r str>>,
) -> PolarsResult<Vec<u8>> {
    let mut writer = csv::WriterBuilder::new().from_writer(Vec::new());
    for record in records {
        writer.write_record(record).map_err(csv_error)?;
    }
    writer
        .into_inner()
        .map_err(|e| PolarsError::ComputeError(e.to_string().into()))
}

/// The CSV text of a frame's rows, fixed-point columns at their `scales`.
fn rows_text(frame: &DataFrame, scales: &[Option<u32>]) -> PolarsResult<Vec<u8>> {
    let columns: Vec<Vec<String>> = frame
        .columns()
        .iter()
        .zip(scales)
        .map(|(c, &scale)| column_text(c, scale))
        .collect::<PolarsResult<_>>()?;
    csv_text((0..frame.height()).map(|row| columns.iter().map(move |c| c[row].as_str())))
}

impl<W: Write> CsvRows<W> {
    /// Starts the text of frames with `like`'s columns.
    pub fn new(like: &DataFrame, mut out: W) -> PolarsResult<CsvRows<W>> {
        out.write_all(b"\xEF\xBB\xBF").map_err(io_error)?;
        let header = csv_text(std::iter::once(
            like.get_column_names().into_iter().map(|n| n.as_str()),
        ))?;
        out.write_all(&header).map_err(io_error)?;
        Ok(CsvRows { out })
    }

    pub fn push(&mut self, frame: &DataFrame, scale_of: ScaleOf) -> PolarsResult<()> {
        use rayon::prelude::*;
        // Slices of rows rendered side by side, a few at a time: the text of every cell of
        // a national month's settlements at once would take gigabytes.
        const SLICE_ROWS: usize = 1 << 14;
        let slices_at_once = 2 * rayon::current_num_threads();
        let scales: Vec<Option<u32>> = frame
            .get_column_names()
            .iter()
            .map(|name| scale_of(name))
            .collect();
        let offsets: Vec<usize> = (0..frame.height()).step_by(SLICE_ROWS).collect();
        for group in offsets.chunks(slices_at_once) {
            let texts = group
                .par_iter()
                .map(|&offset| rows_text(&frame.slice(offset as i64, SLICE_ROWS), &scales))
                .collect::<PolarsResult<Vec<_>>>()?;
            for text in texts {
                self.out.write_all(&text).map_err(io_error)?;
            }
        }
        Ok(())
    }

    /// Flushes the text; the output it was written to.
    pub fn finish(mut self) -> PolarsResult<W> {
        self.out.flush().map_err(io_error)?;
        Ok(self.out)
    }
}

/// A file being written, hashed as it goes (no second read for the manifest). It is not
/// synced here: the staging directory is synced as a whole before it is committed.
///
/// Its buffer is 128 KiB: a run has about a hundred files open at once (the parts' files
/// of each table, the registry's), and at 1 MiB each their buffers were a twelfth of a
/// province month's peak (heaptrack: 99 MB of 1.15 GB). A Parquet page larger than the
/// buffer is written straight through.
pub struct HashedFile {
    file: BufWriter<File>,
    hasher: sha2::Sha256,
    path: std::path::PathBuf,
}

impl HashedFile {
    const BUFFER: usize = 128 << 10;

    pub fn create(path: &Path) -> Result<HashedFile, OutputError> {
        use sha2::Digest;
        let file = File::create(path).map_err(|e| OutputError::io(path, e))?;
        Ok(HashedFile {
            file: BufWriter::with_capacity(HashedFile::BUFFER, file),
            hasher: sha2::Sha256::new(),
            path: path.to_owned(),
        })
    }

    /// Flushes the file; its manifest entry, relative to `root`.
    pub fn finish(mut self, root: &Path, rows: usize) -> Result<OutputFile, OutputError> {
        use sha2::Digest;
        self.file
            .flush()
            .map_err(|e| OutputError::io(&self.path, e))?;
        Ok(OutputFile {
            path: relative_name(root, &self.path),
            sha256: hex::encode(self.hasher.finalize()),
            rows: rows as u64,
        })
    }
}

impl Write for HashedFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        use sha2::Digest;
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

fn relative_name(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    relative.to_string_lossy().replace('\\', "/")
}

/// Writes `<dir>/<name>.csv` and `<dir>/<name>.parquet`, masked.
pub fn write_table(
    dir: &Path,
    name: &str,
    frame: &DataFrame,
    scale_of: ScaleOf,
    parquet: bool,
) -> Result<Vec<OutputFile>, OutputError> {
    let mut sink = TableSink::create(dir, name, frame, scale_of, parquet)?;
    sink.push(frame)?;
    sink.finish()
}

/// `<dir>/<name>.csv` and `<dir>/<name>.parquet` written a frame at a time, masked.
pub struct TableSink<'a> {
    dir: PathBuf,
    csv_path: PathBuf,
    csv: CsvRows<HashedFile>,
    parquet: Option<ParquetSink>,
    scale_of: ScaleOf<'a>,
    rows: usize,
}

impl<'a> TableSink<'a> {
    /// The files of a table of `like`'s columns (the Parquet one when asked).
    pub fn create(
        dir: &Path,
        name: &str,
        like: &DataFrame,
        scale_of: ScaleOf<'a>,
        parquet: bool,
    ) -> Result<TableSink<'a>, OutputError> {
        let csv_path = dir.join(format!("{name}.csv"));
        let csv = CsvRows::new(like, HashedFile::create(&csv_path)?)
            .map_err(|e| OutputError::io(&csv_path, e))?;
        let parquet = if parquet {
            Some(ParquetSink::create(
                &dir.join(format!("{name}.parquet")),
                &like.clear(),
                scale_of,
                ParquetCompression::default(),
                false,
            )?)
        } else {
            None
        };
        Ok(TableSink {
            dir: dir.to_owned(),
            csv_path,
            csv,
            parquet,
            scale_of,
            rows: 0,
        })
    }

    /// Adds rows, masked, to both files.
    pub fn push(&mut self, frame: &DataFrame) -> Result<(), OutputError> {
        let frame = masked(frame).map_err(|e| OutputError::io(&self.csv_path, e))?;
        self.csv
            .push(&frame, self.scale_of)
            .map_err(|e| OutputError::io(&self.csv_path, e))?;
        self.rows += frame.height();
        if let Some(parquet) = &mut self.parquet {
            // A slice at a time: the decimal copy of a 20-million-row table would cost
            // gigabytes.
            let group = ParquetSink::GROUP_ROWS;
            for offset in (0..frame.height()).step_by(group) {
                parquet.push(frame.slice(offset as i64, group))?;
            }
        }
        Ok(())
    }

    /// Finishes both files; their manifest entries.
    pub fn finish(self) -> Result<Vec<OutputFile>, OutputError> {
        let csv = self
            .csv
            .finish()
            .map_err(|e| OutputError::io(&self.csv_path, e))?;
        let mut written = vec![csv.finish(&self.dir, self.rows)?];
        if let Some(parquet) = self.parquet {
            written.push(parquet.finish(&self.dir)?);
        }
        Ok(written)
    }
}

/// Writes only `<dir>/<name>.parquet`, masked.
pub fn write_parquet(
    dir: &Path,
    name: &str,
    frame: &DataFrame,
    scale_of: ScaleOf,
    compression: ParquetCompression,
) -> Result<OutputFile, OutputError> {
    let frame = masked(frame).map_err(|e| OutputError::io(dir.join(name), e))?;
    write_parquet_masked(dir, name, &frame, scale_of, compression)
}

fn write_parquet_masked(
    dir: &Path,
    name: &str,
    frame: &DataFrame,
    scale_of: ScaleOf,
    compression: ParquetCompression,
) -> Result<OutputFile, OutputError> {
    let path = dir.join(format!("{name}.parquet"));
    let mut sink = ParquetSink::create(&path, &frame.clear(), scale_of, compression, false)?;
    // A slice at a time: the decimal copy of a 20-million-row table would cost gigabytes.
    for offset in (0..frame.height()).step_by(ParquetSink::GROUP_ROWS) {
        sink.push(frame.slice(offset as i64, ParquetSink::GROUP_ROWS))?;
    }
    sink.finish(dir)
}

/// The manifest entry of a written file: its path relative to `root`, hash and rows.
pub fn describe(root: &Path, path: &Path, rows: usize) -> Result<OutputFile, OutputError> {
    use sha2::{Digest, Sha256};
    let bytes = std::fs::read(path).map_err(|e| OutputError::io(path, e))?;
    Ok(OutputFile {
        path: relative_name(root, path),
        sha256: hex::encode(Sha256::digest(&bytes)),
        rows: rows as u64,
    })
}
