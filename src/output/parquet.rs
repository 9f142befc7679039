//! Writing a Parquet file a row group at a time, hashed as it is written, with each
//! column's encoding chosen from what it holds.
//!
//! polars' own writer tries a dictionary on every column of every row group: it estimates
//! each column's distinct values (a HyperLogLog pass) and, below three in four, hashes
//! every value into a dictionary. Over the `inputs/` of a province month that was about
//! half the time of reading it. Here a column is dictionary-encoded only where its values
//! are few by nature (the codes, the hospital directory, the dates of a month), or where a
//! row group's values repeat (a fee line's settlement: [`repeating_dictionary`]), and the
//! dictionary of a string column is found by each value's 16-byte view and by runs of one
//! value ([`dictionary_of`]), not by hashing each row's text; other
//! strings (identifiers, names) are written plain, and amounts, times and line numbers as
//! bit-packed differences (`DELTA_BINARY_PACKED`, which every Parquet reader reads).
//! Fixed-point columns (scaled `Int64`) are written as they are held, as the 64-bit
//! integers of a `Decimal(18, scale)`: the values a cast to decimals would give, without
//! the cast. A column is compressed only where that pays ([`codec`]).
//!
//! A file that only this run reads back (a spill: [`ParquetSink::spill`]) is written plain
//! (no dictionary is looked for) and without statistics, compressed where it pays.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use polars_arrow::array::{
    Array, DictionaryArray, MutableBinaryViewArray, PrimitiveArray, Utf8ViewArray,
};
use polars_arrow::datatypes::ArrowDataType;
use polars_parquet::read::ParquetError;
use polars_parquet::write::{
    CompressionOptions, DynIter, Encoding, FileWriter, ParquetType, StatisticsOptions, Version,
    WriteOptions, array_to_columns,
};

use super::table::{HashedFile, OutputFile, ScaleOf, masked};
use crate::error::OutputError;

mod codec;
use codec::Codecs;

/// String columns whose values are few whatever the month (codes, the hospital directory):
/// a dictionary makes them small, and hashing them is cheap. Every other string column
/// (identifiers, names, free text) is written plain.
const FEW_VALUES: &[&str] = &[
    "hospital_dir",
    "fixmedins_code",
    "insutype",
    "insuplc_admdvs",
    "insu_admdvs",
    "mdtrtarea_admvs",
    "fix_blng_admdvs",
    "rloc_admdvs",
    "med_type",
    "clr_type",
    "emg_flag",
    "refd_setl_flag",
    "dise_codg",
    "opsp_dise_code",
    "med_list_codg",
    "medins_list_codg",
    "med_chrgitm_type",
    "chrgitm_lv",
    "list_type",
    "rloc_rea",
    "vali_flag",
    "psn_insu_stas",
    "med_grp",
    "rule",
    "level",
    "family",
    "status",
    "kind",
];

/// The encoding of a column: see the module's documentation.
fn encoding(name: &str, dtype: &DataType, scaled: bool) -> Encoding {
    match dtype {
        DataType::String if FEW_VALUES.contains(&name) => Encoding::RleDictionary,
        // A month's dates span a few hundred days: polars finds their dictionary with a
        // bitmap, no hashing.
        DataType::Date => Encoding::RleDictionary,
        DataType::Boolean => Encoding::Plain,
        // Amounts, line numbers and times as bit-packed differences: a quarter smaller
        // than plain on a province month's inputs, in the same time.
        DataType::Int64 | DataType::Datetime(..) => Encoding::DeltaBinaryPacked,
        DataType::Decimal(precision, _) if scaled && *precision <= 18 => {
            Encoding::DeltaBinaryPacked
        }
        DataType::String => Encoding::Plain,
        // Small integers and anything else: polars' default.
        _ => Encoding::RleDictionary,
    }
}

/// A Parquet file written a batch at a time (masked when asked, fixed-point columns as
/// Decimals), hashed as it is written. Rows pushed are buffered into row groups of about
/// `group_rows`.
pub struct ParquetSink {
    path: PathBuf,
    writer: FileWriter<HashedFile>,
    /// The file's columns, and each one's encoding.
    fields: Vec<ParquetType>,
    encodings: Vec<Encoding>,
    /// A spill: no dictionary is looked for.
    spill: bool,
    codecs: Codecs,
    options: WriteOptions,
    mask: bool,
    group_rows: usize,
    pending: Vec<DataFrame>,
    /// The first `owned` frames waiting own their strings' bytes ([`ParquetSink::own_pending`]).
    owned: usize,
    pending_rows: usize,
    /// Estimated bytes of the rows waiting.
    pending_bytes: usize,
    rows: usize,
}

impl ParquetSink {
    /// Rows of a row group when a whole frame is written at once.
    pub const GROUP_ROWS: usize = 1 << 20;

    /// A new file at `path` for frames of `empty`'s schema.
    pub fn create(
        path: &Path,
        empty: &DataFrame,
        scale_of: ScaleOf,
        compression: ParquetCompression,
        mask: bool,
    ) -> Result<ParquetSink, OutputError> {
        Self::new(path, empty, scale_of, compression, mask, false)
    }

    /// A new file at `path` for frames of `empty`'s schema that only this run reads back
    /// (unmasked): plain, without statistics, LZ4 where it pays (a national month's
    /// registry is 57 million filings: uncompressed, its parts took four times the disk).
    pub fn spill(
        path: &Path,
        empty: &DataFrame,
        scale_of: ScaleOf,
    ) -> Result<ParquetSink, OutputError> {
        Self::new(
            path,
            empty,
            scale_of,
            ParquetCompression::Lz4Raw,
            false,
            true,
        )
    }

    /// A file for queries, or a spill.
    fn new(
        path: &Path,
        empty: &DataFrame,
        scale_of: ScaleOf,
        compression: ParquetCompression,
        mask: bool,
        spill: bool,
    ) -> Result<ParquetSink, OutputError> {
        let err = |e: PolarsError| OutputError::io(path, e);
        // The file's schema: a fixed-point column is a Decimal(18, scale).
        let mut schema = empty.schema().as_ref().clone();
        for (name, dtype) in schema.iter_mut() {
            if let (DataType::Int64, Some(scale)) = (&*dtype, scale_of(name)) {
                *dtype = DataType::Decimal(18, scale as usize);
            }
        }
        let arrow = schema.to_arrow(CompatLevel::newest());
        let encodings = empty
            .columns()
            .iter()
            .map(|c| match spill {
                true => Encoding::Plain,
                false => encoding(c.name(), c.dtype(), scale_of(c.name()).is_some()),
            })
            .collect();
        let compression = CompressionOptions::from(compression);
        let options = WriteOptions {
            statistics: match spill {
                true => StatisticsOptions::empty(),
                false => StatisticsOptions::default(),
            },
            compression,
            version: Version::V1,
            data_page_size: None,
        };
        let writer = FileWriter::try_new(HashedFile::create(path)?, arrow, options).map_err(err)?;
        let fields = writer.parquet_schema().fields().to_vec();
        Ok(ParquetSink {
            path: path.to_owned(),
            writer,
            codecs: Codecs::new(fields.len(), compression),
            fields,
            encodings,
            spill,
            options,
            mask,
            group_rows: Self::GROUP_ROWS,
            pending: Vec::new(),
            owned: 0,
            pending_rows: 0,
            pending_bytes: 0,
            rows: 0,
        })
    }

    /// Row groups of about `rows` rows (small groups keep less waiting in memory).
    pub fn with_group_rows(mut self, rows: usize) -> ParquetSink {
        self.group_rows = rows.max(1);
        self
    }

    pub fn rows(&self) -> usize {
        self.rows + self.pending_rows
    }

    /// Rows waiting for their row group.
    pub fn pending_rows(&self) -> usize {
        self.pending_rows
    }

    /// Estimated bytes of the rows waiting for their row group.
    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    /// Adds rows; a row group is written once enough are waiting.
    pub fn push(&mut self, frame: DataFrame) -> Result<(), OutputError> {
        if frame.height() == 0 {
            return Ok(());
        }
        self.pending_rows += frame.height();
        self.pending_bytes += frame.estimated_size();
        self.pending.push(frame);
        if self.pending_rows >= self.group_rows {
            self.flush()?;
        }
        Ok(())
    }

    /// Copies the rows waiting out of the string buffers they share with other frames
    /// (a gather shares them), so that those can be let go while the rows wait.
    pub fn own_pending(&mut self) {
        for frame in &mut self.pending[self.owned..] {
            *frame = owning_strings(frame);
        }
        self.owned = self.pending.len();
    }

    /// Writes the rows waiting as a row group.
    pub fn flush(&mut self) -> Result<(), OutputError> {
        self.owned = 0;
        let path = self.path.clone();
        let err = |e: PolarsError| OutputError::io(&path, e);
        let mut frames = std::mem::take(&mut self.pending).into_iter();
        let Some(mut group) = frames.next() else {
            return Ok(());
        };
        for frame in frames {
            group.vstack_mut_owned(frame).map_err(err)?;
        }
        if self.mask {
            group = masked(&group).map_err(err)?;
        }
        group.rechunk_mut();
        self.write_group(&group).map_err(err)?;
        self.rows += self.pending_rows;
        self.pending_rows = 0;
        self.pending_bytes = 0;
        Ok(())
    }

    /// Writes a frame of one chunk a column as a row group.
    fn write_group(&mut self, group: &DataFrame) -> PolarsResult<()> {
        let options = self.options;
        for batch in group.iter_chunks(CompatLevel::newest(), false) {
            if batch.is_empty() {
                continue;
            }
            let mut columns = Vec::with_capacity(self.fields.len());
            for (k, ((array, field), &encoding)) in batch
                .columns()
                .iter()
                .zip(&self.fields)
                .zip(&self.encodings)
                .enumerate()
            {
                let dictionary = match (encoding, array.as_any().downcast_ref::<Utf8ViewArray>()) {
                    (Encoding::RleDictionary, Some(text)) => Some(dictionary_of(text)?),
                    (Encoding::Plain, Some(text)) if !self.spill => repeating_dictionary(text)?,
                    _ => None,
                };
                let (array, encoding) = match &dictionary {
                    Some(dictionary) => (dictionary as &dyn Array, Encoding::RleDictionary),
                    None => (array.as_ref(), encoding),
                };
                // A flat column is one leaf.
                for pages in array_to_columns(array, field.clone(), options, &[encoding])? {
                    let pages = pages.map(|page| {
                        page.map_err(|e| ParquetError::FeatureNotSupported(e.to_string()))
                    });
                    columns.push(Ok(self.codecs.pages(k, pages)));
                }
            }
            self.writer
                .write(batch.len() as u64, DynIter::new(columns.into_iter()))?;
            self.codecs.written();
        }
        Ok(())
    }

    /// Writes what is waiting and the footer; the file's manifest entry, relative to `root`.
    pub fn finish(mut self, root: &Path) -> Result<OutputFile, OutputError> {
        self.flush()?;
        self.writer
            .end(None)
            .map_err(|e| OutputError::io(&self.path, e))?;
        let rows = self.rows;
        self.writer.into_inner().finish(root, rows)
    }
}

/// A string column not few-valued by nature, as a dictionary where its values repeat in
/// this row group: at most one distinct value for two rows in all of them, once its first
/// rows showed some repeat. A fee line's settlement and its serial within the settlement
/// repeat; a settlement's identifiers and names do not, and are written plain (the first
/// rows tell).
fn repeating_dictionary(array: &Utf8ViewArray) -> PolarsResult<Option<DictionaryArray<u32>>> {
    // Enough rows to see a settlement's lines repeat it; a column of identifiers is found
    // out at the cost of 512 lookups a row group (4 096 cost a fifth of a province month's
    // dictionary time, in the registry's and the settlements' small row groups).
    const FIRST_ROWS: usize = 512;
    let distinct = |dictionary: &DictionaryArray<u32>| dictionary.values().len();
    let first = dictionary_of(&array.clone().sliced(0, array.len().min(FIRST_ROWS)))?;
    // Some repeat, not yet one value for two rows: the serials of a stay of 300 lines
    // fill the first rows with 300 values, while the row group's 50 000 rows hold 440 (a
    // province month's fee lines had their serials written plain in 474 of 733 row groups
    // when the first rows had to show one value for two rows: 86 MB before compression,
    // 19 MB since).
    if 4 * distinct(&first) > 3 * first.len() {
        return Ok(None);
    }
    let dictionary = dictionary_of(array)?;
    Ok((2 * distinct(&dictionary) <= dictionary.len()).then_some(dictionary))
}

/// A few-valued string column as a dictionary (its distinct values in the order they first
/// appear, as polars' writer would find them) and a key a row, each row found by its view
/// first ([`crate::model::keys_by_view`]): only the first row of each view is looked up by
/// its text. A null keeps key 0 and its validity, and adds no value.
fn dictionary_of(array: &Utf8ViewArray) -> PolarsResult<DictionaryArray<u32>> {
    let mut known: PlHashMap<&str, u32> = PlHashMap::default();
    let mut values = MutableBinaryViewArray::<str>::new();
    let mut keys = Vec::with_capacity(array.len());
    crate::model::keys_by_view(array, &mut keys, |value| match value {
        None => 0,
        Some(value) => *known.entry(value).or_insert_with(|| {
            values.push_value(value);
            values.len() as u32 - 1
        }),
    });
    let keys = PrimitiveArray::new(
        ArrowDataType::UInt32,
        keys.into(),
        array.validity().cloned(),
    );
    DictionaryArray::try_from_keys(keys, values.freeze().boxed(), false)
}

/// `frame` with each string column holding only its own values' bytes (a gather shares the
/// buffers of the frame it gathered from, whatever it took of them). A chunk whose buffers
/// hold no more than its values is kept as it is: owning twice copies nothing.
pub fn owning_strings(frame: &DataFrame) -> DataFrame {
    let columns = frame
        .columns()
        .iter()
        .map(|c| match c.str() {
            Ok(text) => StringChunked::from_chunk_iter(
                c.name().clone(),
                text.downcast_iter().map(|chunk| {
                    if chunk.total_buffer_len() > chunk.total_bytes_len() {
                        chunk.clone().gc()
                    } else {
                        chunk.clone()
                    }
                }),
            )
            .into_column(),
            Err(_) => c.clone(),
        })
        .collect();
    DataFrame::new(frame.height(), columns).expect("the frame's own columns")
}

/// A frame like a part's, written as a part is: for the tests of writing and reading back.
#[cfg(test)]
pub(crate) mod fixture {
    use super::*;

    /// The fixed-point columns of [`frame`]: `hifp_pay`, in fen.
    pub fn scale(name: &str) -> Option<u32> {
        (name == "hifp_pay").then_some(2)
    }

    /// `n` rows of a hospital directory, identifiers, an amount (with nulls), `certno`, a
    /// few-valued code (values held in their views and longer ones, nulls), a date and a
    /// time (with nulls).
    pub fn frame(n: usize) -> DataFrame {
        DataFrame::new(
            n,
            vec![
                Column::new("hospital_dir".into(), vec!["H1"; n]),
                Column::new(
                    "setl_id".into(),
                    (0..n).map(|i| format!("S{i:012}")).collect::<Vec<_>>(),
                ),
                Column::new(
                    "hifp_pay".into(),
                    (0..n as i64)
                        .map(|i| (i % 7 != 0).then_some(i * 1001 - 50_000))
                        .collect::<Vec<_>>(),
                ),
                Column::new("certno".into(), vec!["110101199001011234"; n]),
                // A few-valued column: values held in their views and longer ones, nulls.
                Column::new(
                    "med_list_codg".into(),
                    (0..n)
                        .map(|i| {
                            let codes = [Some("XA01AAA0123010100001"), Some("C1"), None];
                            codes[i % 3].map(|c| format!("{c}{}", i % 5))
                        })
                        .collect::<Vec<_>>(),
                ),
                Column::new(
                    "begndate".into(),
                    (0..n as i32).map(|i| 20_000 + i % 30).collect::<Vec<_>>(),
                )
                .cast(&DataType::Date)
                .unwrap(),
                Column::new(
                    "setl_time".into(),
                    (0..n as i64)
                        .map(|i| (i % 5 != 0).then_some(1_700_000_000_000 + i * 60_000))
                        .collect::<Vec<_>>(),
                )
                .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
                .unwrap(),
            ],
        )
        .unwrap()
    }

    /// `frame` written to `path` in row groups of about 300 rows, pushed 128 at a time.
    pub fn write(frame: &DataFrame, path: &Path, mask: bool) -> OutputFile {
        let mut sink = ParquetSink::create(
            path,
            &frame.clear(),
            &scale,
            ParquetCompression::Lz4Raw,
            mask,
        )
        .unwrap()
        .with_group_rows(300);
        for offset in (0..frame.height()).step_by(128) {
            sink.push(frame.slice(offset as i64, 128)).unwrap();
        }
        sink.finish(path.parent().unwrap()).unwrap()
    }
}

#[cfg(test)]
mod tests;
