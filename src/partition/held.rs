//! The parts' rows kept in memory beside their files while the month fits the budget: on
//! one machine the parts' stage stays in memory (SPEC §14) and `yidi run` checks each
//! part from there instead of reading its files back. Past the budget, what was held is
//! let go and every part is read back from its files: the files are written either way
//! (they are the `inputs/` analysts query, and a larger month's stage), and the results do
//! not depend on where a part came from.

use std::collections::BTreeMap;

use polars::prelude::*;

/// Rows of each (part, table) in the order they came, while they fit.
#[derive(Default)]
pub struct Held {
    limit: usize,
    bytes: usize,
    /// `None`: nothing is held (never asked, or outgrown).
    pieces: Option<BTreeMap<(PlSmallStr, usize), Vec<DataFrame>>>,
}

/// Where a part's table is to be found.
pub enum Found {
    /// In memory: its pieces in the order they came (none: the part has no rows of that
    /// table); [`stack`] makes them one frame.
    Held(Vec<DataFrame>),
    /// In its file.
    Spilled,
}

/// A held table's pieces as one frame of one chunk a column (as a file's row groups read
/// back give few: the model reads each column in one pass); `None` when there are none.
/// Done outside any lock: it runs on polars' threads.
pub fn stack(pieces: Vec<DataFrame>) -> PolarsResult<Option<DataFrame>> {
    let mut pieces = pieces.into_iter();
    let Some(mut frame) = pieces.next() else {
        return Ok(None);
    };
    for piece in pieces {
        frame.vstack_mut_owned(piece)?;
    }
    frame.rechunk_mut_par();
    Ok(Some(frame))
}

impl Held {
    /// Holds rows up to `limit` bytes; `None` holds nothing (a stage for other machines).
    pub fn up_to(limit: Option<usize>) -> Held {
        Held {
            limit: limit.unwrap_or_default(),
            bytes: 0,
            pieces: limit.map(|_| BTreeMap::new()),
        }
    }

    /// Keeps a piece of table `k` of `part` (its buffers shared, not copied), unless the
    /// held rows outgrow the limit: then nothing is held any more.
    pub fn keep(&mut self, part: &PlSmallStr, k: usize, piece: &DataFrame) {
        let Some(pieces) = &mut self.pieces else {
            return;
        };
        self.bytes += piece.estimated_size();
        if self.bytes > self.limit {
            self.pieces = None;
            return;
        }
        pieces
            .entry((part.clone(), k))
            .or_default()
            .push(piece.clone());
    }

    /// Whether the rows are held (they fit).
    pub fn holds(&self) -> bool {
        self.pieces.is_some()
    }

    /// Table `k` of `part`, taken out (its memory goes as the part is checked). Cheap: a
    /// caller holding a lock on the `Held` stacks the pieces after letting it go.
    pub fn take(&mut self, part: &str, k: usize) -> Found {
        match &mut self.pieces {
            None => Found::Spilled,
            Some(pieces) => Found::Held(
                pieces
                    .remove(&(PlSmallStr::from_str(part), k))
                    .unwrap_or_default(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(values: &[i64]) -> DataFrame {
        df!("x" => values).unwrap()
    }

    fn held(found: Found) -> Option<Vec<Option<i64>>> {
        match found {
            Found::Held(pieces) => Some(stack(pieces).unwrap().map_or_else(Vec::new, |f| {
                f.column("x").unwrap().i64().unwrap().iter().collect()
            })),
            Found::Spilled => None,
        }
    }

    #[test]
    fn pieces_come_back_stacked_in_order_and_once() {
        let mut rows = Held::up_to(Some(1 << 20));
        let p = PlSmallStr::from_static("44");
        rows.keep(&p, 0, &piece(&[1, 2]));
        rows.keep(&p, 1, &piece(&[9]));
        rows.keep(&p, 0, &piece(&[3]));
        assert_eq!(
            held(rows.take("44", 0)),
            Some(vec![Some(1), Some(2), Some(3)])
        );
        assert_eq!(held(rows.take("44", 0)), Some(vec![]));
        assert_eq!(held(rows.take("11", 1)), Some(vec![]));
        assert_eq!(held(rows.take("44", 1)), Some(vec![Some(9)]));
    }

    #[test]
    fn past_the_limit_nothing_is_held_and_every_part_is_read_back() {
        let mut rows = Held::up_to(Some(20));
        let p = PlSmallStr::from_static("44");
        rows.keep(&p, 0, &piece(&[1, 2]));
        assert!(rows.holds());
        rows.keep(&p, 0, &piece(&[3, 4]));
        assert!(!rows.holds());
        assert_eq!(held(rows.take("44", 0)), None);
        assert!(!Held::up_to(None).holds());
    }
}
