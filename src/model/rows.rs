//! Typed indices of a part's rows: a settlement, a fee line and a filing are each counted
//! in their own type, so a fee line's index cannot index the settlements, and the stages'
//! hand-offs (one value a settlement row, one a fee line) say which rows they follow.
//! The vectors are `typed_index_collections::TiVec`s indexed by these.

pub use typed_index_collections::{TiSlice, TiVec};

macro_rules! row_index {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(pub usize);

        impl From<usize> for $name {
            fn from(i: usize) -> $name {
                $name(i)
            }
        }

        impl From<$name> for usize {
            fn from(i: $name) -> usize {
                i.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

row_index!(
    /// A settlement row of a part: its place in `Model::settlements` (the part's rows in
    /// hospital and file order).
    SetlRow
);
row_index!(
    /// A fee line of a part: its place in `Model::fee_lines`.
    LineRow
);
row_index!(
    /// A filing of a part: its place in `Model::filings`.
    FilingRow
);

/// One value a settlement row of a part.
pub type PerSettlement<T> = TiVec<SetlRow, T>;

/// One value a fee line of a part.
pub type PerLine<T> = TiVec<LineRow, T>;
