//! The `settlements` table put together from the parts in its key order (SPEC §9:
//! `fixmedins_code`, `setl_id`, `line`) without a national month's 20 million rows in
//! memory at once.
//!
//! The parts are by insured province and the key begins with the hospital, so every part
//! has rows everywhere in the key order. The hospital codes are cut into ranges of about
//! [`RANGE_ROWS`] rows each (from the rows each hospital exported); each part's rows are cut
//! by range as the part is checked, and the pieces are held in memory (a month of at most
//! [`HELD_ROWS`] rows) or written to files of the staging area (a larger one). The table is
//! then read back a range at a time, each range's pieces stacked and sorted: a range holds
//! every row of its hospitals, so the ranges in order are the table in order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::OutputError;

/// The staging directory's folder of the ranges written to disk, removed before the
/// results are committed.
pub const RANGES_DIR: &str = ".settlement-ranges";

/// Rows of a range, about (a range is whole hospitals, so one large hospital may make it
/// larger).
pub const RANGE_ROWS: usize = 1 << 21;

/// A month with at most this many rows keeps its ranges in memory.
pub const HELD_ROWS: usize = 4 << 20;

/// How large the ranges are, and up to what size of month they are held in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    /// Rows of a range, about.
    pub range_rows: usize,
    /// A month with at most this many rows keeps its ranges in memory.
    pub held_rows: usize,
}

impl Default for Sizes {
    fn default() -> Sizes {
        Sizes {
            range_rows: RANGE_ROWS,
            held_rows: HELD_ROWS,
        }
    }
}

/// The key the table is sorted by.
const KEY: [&str; 3] = ["fixmedins_code", "setl_id", "line"];

/// A table's rows cut by ranges of its first key column, held or on disk.
pub struct KeyRanges {
    /// The first code of every range but the first, ascending.
    bounds: Vec<PlSmallStr>,
    /// Where the pieces are written; `None` when they are held.
    dir: Option<PathBuf>,
    /// Each range's pieces held in memory.
    held: Vec<Vec<DataFrame>>,
    /// Each range's pieces written to disk.
    files: Vec<Vec<PathBuf>>,
    /// The table's columns, from the first frame pushed.
    empty: Option<DataFrame>,
    rows: usize,
}

impl KeyRanges {
    /// Ranges of about `sizes.range_rows` rows, given the rows of each first-key value;
    /// held in memory when there are at most `sizes.held_rows` rows in all, else written
    /// under `<root>/`[`RANGES_DIR`].
    pub fn new(
        rows_by_code: &BTreeMap<PlSmallStr, usize>,
        sizes: Sizes,
        root: &Path,
    ) -> Result<KeyRanges, OutputError> {
        let Sizes {
            range_rows,
            held_rows,
        } = sizes;
        let mut bounds = Vec::new();
        let mut filled = 0;
        for (code, &rows) in rows_by_code {
            if filled > 0 && filled + rows > range_rows {
                bounds.push(code.clone());
                filled = 0;
            }
            filled += rows;
        }
        let total: usize = rows_by_code.values().sum();
        let dir = if total > held_rows {
            let dir = root.join(RANGES_DIR);
            std::fs::create_dir_all(&dir).map_err(|e| OutputError::io(&dir, e))?;
            Some(dir)
        } else {
            None
        };
        let ranges = bounds.len() + 1;
        Ok(KeyRanges {
            bounds,
            dir,
            held: vec![Vec::new(); ranges],
            files: vec![Vec::new(); ranges],
            empty: None,
            rows: 0,
        })
    }

    /// One range, held in memory: for a month checked whole.
    pub fn held() -> KeyRanges {
        KeyRanges {
            bounds: Vec::new(),
            dir: None,
            held: vec![Vec::new()],
            files: vec![Vec::new()],
            empty: None,
            rows: 0,
        }
    }

    pub fn ranges(&self) -> usize {
        self.bounds.len() + 1
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Whether the pieces are written to disk.
    pub fn on_disk(&self) -> bool {
        self.dir.is_some()
    }

    fn range_of(&self, code: &str) -> usize {
        self.bounds.partition_point(|bound| bound.as_str() <= code)
    }

    /// Adds a frame of rows (of one part), cut by range.
    pub fn push(&mut self, frame: DataFrame) -> Result<(), OutputError> {
        let err = |e: PolarsError| OutputError::io(RANGES_DIR, e);
        if self.empty.is_none() {
            self.empty = Some(frame.clear());
        }
        if frame.height() == 0 {
            return Ok(());
        }
        self.rows += frame.height();
        let codes = frame.column(KEY[0]).and_then(|c| c.str()).map_err(err)?;
        let mut rows: Vec<Vec<IdxSize>> = vec![Vec::new(); self.ranges()];
        // A part's rows come sorted by hospital: the last row's range is tried first.
        let mut last: Option<(&str, usize)> = None;
        for (i, code) in codes.iter().enumerate() {
            let code = code.unwrap_or_default();
            let k = match last {
                Some((previous, k)) if previous == code => k,
                _ => {
                    let k = self.range_of(code);
                    last = Some((code, k));
                    k
                }
            };
            rows[k].push(i as IdxSize);
        }
        for (k, rows) in rows.into_iter().enumerate() {
            if rows.is_empty() {
                continue;
            }
            let piece = if rows.len() == frame.height() {
                frame.clone()
            } else {
                frame
                    .take(&IdxCa::from_vec(PlSmallStr::EMPTY, rows))
                    .map_err(err)?
            };
            match &self.dir {
                None => self.held[k].push(piece),
                Some(dir) => {
                    let path = dir.join(format!("{k:05}-{:05}.parquet", self.files[k].len()));
                    write_piece(&path, piece)?;
                    self.files[k].push(path);
                }
            }
        }
        Ok(())
    }

    /// The rows of range `k`, sorted by the key; the range is emptied.
    pub fn take(&mut self, k: usize) -> Result<DataFrame, OutputError> {
        let mut pieces = std::mem::take(&mut self.held[k]);
        let files = std::mem::take(&mut self.files[k]);
        {
            use rayon::prelude::*;
            let read = files
                .par_iter()
                .map(|path| read_piece(path))
                .collect::<Result<Vec<_>, _>>()?;
            pieces.extend(read);
        }
        for path in &files {
            std::fs::remove_file(path).map_err(|e| OutputError::io(path, e))?;
        }
        let several = pieces.len() > 1;
        let err = |e: PolarsError| OutputError::io(RANGES_DIR, e);
        let mut pieces = pieces.into_iter();
        let Some(mut frame) = pieces.next() else {
            return Ok(self.empty.clone().unwrap_or_default());
        };
        for piece in pieces {
            frame.vstack_mut_owned(piece).map_err(err)?;
        }
        if several {
            // A part's pieces come sorted; pieces of several parts interleave.
            frame = frame
                .sort(
                    KEY,
                    SortMultipleOptions::default().with_maintain_order(true),
                )
                .map_err(err)?;
        }
        frame.rechunk_mut();
        Ok(frame)
    }

    /// Every range's rows, in key order, as one frame (for a month held in memory); the
    /// ranges are emptied.
    pub fn take_all(&mut self) -> Result<DataFrame, OutputError> {
        let mut all = self.take(0)?;
        for k in 1..self.ranges() {
            all.vstack_mut_owned(self.take(k)?)
                .map_err(|e| OutputError::io(RANGES_DIR, e))?;
        }
        all.rechunk_mut();
        Ok(all)
    }

    /// Removes the ranges' folder, if any (once every range was taken).
    pub fn remove(&mut self) -> Result<(), OutputError> {
        match self.dir.take() {
            Some(dir) => std::fs::remove_dir_all(&dir).map_err(|e| OutputError::io(&dir, e)),
            None => Ok(()),
        }
    }
}

/// Pieces wait uncompressed: they are read back once, minutes later.
fn write_piece(path: &Path, mut piece: DataFrame) -> Result<(), OutputError> {
    let file = std::fs::File::create(path).map_err(|e| OutputError::io(path, e))?;
    ParquetWriter::new(std::io::BufWriter::with_capacity(1 << 20, file))
        .with_compression(ParquetCompression::Uncompressed)
        .with_statistics(StatisticsOptions::empty())
        .finish(&mut piece)
        .map(|_| ())
        .map_err(|e| OutputError::io(path, e))
}

fn read_piece(path: &Path) -> Result<DataFrame, OutputError> {
    let file = std::fs::File::open(path).map_err(|e| OutputError::io(path, e))?;
    ParquetReader::new(file)
        .finish()
        .map_err(|e| OutputError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(rows: &[(&str, &str, i64)]) -> DataFrame {
        DataFrame::new(
            rows.len(),
            vec![
                rows.iter()
                    .map(|r| Some(r.0))
                    .collect::<StringChunked>()
                    .with_name("fixmedins_code".into())
                    .into_column(),
                rows.iter()
                    .map(|r| Some(r.1))
                    .collect::<StringChunked>()
                    .with_name("setl_id".into())
                    .into_column(),
                Int64Chunked::from_vec("line".into(), rows.iter().map(|r| r.2).collect())
                    .into_column(),
            ],
        )
        .unwrap()
    }

    fn keys(frame: &DataFrame) -> Vec<(String, String, i64)> {
        let code = frame.column("fixmedins_code").unwrap().str().unwrap();
        let id = frame.column("setl_id").unwrap().str().unwrap();
        let line = frame.column("line").unwrap().i64().unwrap();
        (0..frame.height())
            .map(|i| {
                (
                    code.get(i).unwrap().to_owned(),
                    id.get(i).unwrap().to_owned(),
                    line.get(i).unwrap(),
                )
            })
            .collect()
    }

    /// Parts (each sorted) with rows of every hospital; the ranges give them back in key
    /// order, held or written to disk alike.
    #[test]
    fn the_ranges_in_order_are_the_table_in_key_order() {
        let parts = [
            frame(&[
                ("H1", "a", 2),
                ("H2", "b", 3),
                ("H4", "c", 4),
                ("H4", "d", 5),
            ]),
            frame(&[("H1", "e", 9), ("H3", "f", 2), ("H4", "c", 1)]),
            frame(&[]),
            frame(&[("H2", "a", 7), ("H5", "z", 8)]),
        ];
        let mut all: Vec<_> = parts.iter().flat_map(keys).collect();
        all.sort();
        let counts: BTreeMap<PlSmallStr, usize> = [("H1", 2), ("H2", 2), ("H3", 1), ("H4", 3)]
            .into_iter()
            .map(|(c, n)| (PlSmallStr::from(c), n))
            .collect();
        let root = tempfile::tempdir().unwrap();
        for held_rows in [usize::MAX, 0] {
            let sizes = Sizes {
                range_rows: 3,
                held_rows,
            };
            let mut ranges = KeyRanges::new(&counts, sizes, root.path()).unwrap();
            assert_eq!(ranges.ranges(), 3, "H1 | H2 H3 | H4 (and H5, not counted)");
            assert_eq!(ranges.on_disk(), held_rows == 0);
            for part in &parts {
                ranges.push(part.clone()).unwrap();
            }
            assert_eq!(ranges.rows(), all.len());
            let mut got = Vec::new();
            let mut sizes = Vec::new();
            for k in 0..ranges.ranges() {
                let range = ranges.take(k).unwrap();
                sizes.push(range.height());
                got.extend(keys(&range));
            }
            assert_eq!(got, all);
            assert_eq!(sizes, [2, 3, 4]);
            ranges.remove().unwrap();
            assert!(!root.path().join(RANGES_DIR).exists());
        }
    }

    #[test]
    fn no_rows_give_the_empty_table() {
        let root = tempfile::tempdir().unwrap();
        let sizes = Sizes {
            range_rows: 3,
            held_rows: 0,
        };
        let mut ranges = KeyRanges::new(&BTreeMap::new(), sizes, root.path()).unwrap();
        ranges.push(frame(&[])).unwrap();
        let empty = ranges.take_all().unwrap();
        assert_eq!(empty.height(), 0);
        assert_eq!(empty.width(), 3);
    }
}
