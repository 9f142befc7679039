//! Compression where it pays. LZ4 makes identifiers and a code's dictionary several times
//! smaller, but hardly touches the bit-packed differences of prices and times: on a
//! province month's fee lines `pric` went from 85.0 MB to 85.3 MB and `fee_ocur_time`
//! from 84.5 to 84.4, while `fulamt_ownpay_amt` (mostly zero) went from 55.8 to 21.8.
//! Compressing a column that does not shrink costs the writer, and every reader after it,
//! time for nothing. So each column of a file is compressed in its first row group and its
//! pages weighed: one that shrank by less than a tenth, with no dictionary worth keeping
//! small, is written uncompressed, and weighed again every [`WEIGH_EVERY`] row groups (a
//! column can change along a file). Every Parquet reader reads a file whose column chunks
//! differ in codec.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use polars::prelude::*;
use polars_parquet::read::ParquetError;
use polars_parquet::write::{
    CompressedPage, CompressionOptions, Compressor, DynStreamingIterator,
    FallibleStreamingIterator, Page,
};

/// An uncompressed column is weighed again after this many row groups.
pub const WEIGH_EVERY: usize = 16;

/// The pages of one column chunk, weighed as they are compressed.
#[derive(Default)]
struct Weight {
    /// Data pages' bytes before and after compression.
    raw: AtomicUsize,
    packed: AtomicUsize,
    /// Dictionary pages' bytes before compression.
    dictionary: AtomicUsize,
}

impl Weight {
    /// Compression paid: the data pages shrank by a tenth, or a dictionary a tenth their
    /// size was compressed with them (its text shrinks even where its keys do not).
    fn pays(&self) -> bool {
        let (raw, packed) = (self.raw.load(Relaxed), self.packed.load(Relaxed));
        10 * packed <= 9 * raw || 10 * self.dictionary.load(Relaxed) >= raw
    }
}

/// Each column's compression along one file.
pub struct Codecs {
    compression: CompressionOptions,
    /// Row groups written.
    groups: usize,
    /// Per column: the row group from which on its pages are compressed (and weighed); a
    /// column that pays is compressed from the next one.
    compress_from: Vec<usize>,
    /// The columns of the row group being written that are weighed.
    weighing: Vec<(usize, Arc<Weight>)>,
}

impl Codecs {
    /// `columns` columns compressed with `compression` where it pays (none with
    /// `Uncompressed`).
    pub fn new(columns: usize, compression: CompressionOptions) -> Codecs {
        Codecs {
            compression,
            groups: 0,
            compress_from: vec![0; columns],
            weighing: Vec::new(),
        }
    }

    /// Column `column`'s pages of the row group being written, compressed or not.
    pub fn pages<'a, I>(
        &mut self,
        column: usize,
        pages: I,
    ) -> DynStreamingIterator<'a, CompressedPage, PolarsError>
    where
        I: Iterator<Item = Result<Page, ParquetError>> + Send + Sync + 'a,
    {
        let weigh = self.compression != CompressionOptions::Uncompressed
            && self.groups >= self.compress_from[column];
        if !weigh {
            let pages = Compressor::new(pages, CompressionOptions::Uncompressed, vec![]);
            return DynStreamingIterator::new(pages.map_err(PolarsError::from));
        }
        let weight = Arc::new(Weight::default());
        self.weighing.push((column, weight.clone()));
        let dictionary = weight.clone();
        let pages = pages.inspect(move |page| {
            if let Ok(Page::Dict(page)) = page {
                dictionary.dictionary.fetch_add(page.buffer.len(), Relaxed);
            }
        });
        let pages = Weighed {
            pages: Compressor::new(pages, self.compression, vec![]),
            weight,
        };
        DynStreamingIterator::new(pages.map_err(PolarsError::from))
    }

    /// After a row group is written: each weighed column's compression from now on.
    pub fn written(&mut self) {
        self.groups += 1;
        for (column, weight) in self.weighing.drain(..) {
            self.compress_from[column] = match weight.pays() {
                true => self.groups,
                false => self.groups + WEIGH_EVERY - 1,
            };
        }
    }
}

/// Compressed pages, each weighed as it goes by.
struct Weighed<I: Iterator<Item = Result<Page, ParquetError>>> {
    pages: Compressor<I>,
    weight: Arc<Weight>,
}

impl<I: Iterator<Item = Result<Page, ParquetError>>> FallibleStreamingIterator for Weighed<I> {
    type Item = CompressedPage;
    type Error = ParquetError;

    fn advance(&mut self) -> Result<(), ParquetError> {
        self.pages.advance()?;
        if let Some(CompressedPage::Data(page)) = self.pages.get() {
            self.weight.raw.fetch_add(page.uncompressed_size(), Relaxed);
            self.weight
                .packed
                .fetch_add(page.compressed_size(), Relaxed);
        }
        Ok(())
    }

    fn get(&self) -> Option<&CompressedPage> {
        self.pages.get()
    }
}
