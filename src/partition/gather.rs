//! Each part's rows of a batch, taken straight from the hospitals' frames.
//!
//! A batch comes as one frame a hospital, each of one or a few chunks a column. Each column
//! is read once, in order, and each run of rows of one part (a settlement's fee lines are
//! listed together and go to one part) is appended to that part's column: reading in order
//! lets the processor fetch ahead, where gathering each part's rows in turn jumped through
//! the whole batch once a part and waited on memory at most rows. A string's bytes are not
//! copied: the parts' columns share the buffers of the batch's chunks, as a gather does
//! (the caller decides when a piece must own them).
//!
//! On a province month this replaced stacking the batch into one chunk a column and
//! gathering each part from it (polars' `take`): `memcpy`, the gathers and concatenation
//! were 11.7% of a profile's samples, and 9.0% with this pass; a run's user time fell by
//! 1–4% (`scripts/BENCHMARKS.md`).

use polars::prelude::*;
use polars_arrow::array::builder::{ShareStrategy, make_builder};
use polars_arrow::array::{Array, PrimitiveArray, Utf8ViewArray, View};
use polars_arrow::bitmap::{Bitmap, MutableBitmap};
use polars_arrow::types::NativeType;
use polars_buffer::Buffer;

use super::RowParts;

/// The rows of `frames` of each part, in their order; `parts.rows` gives the part of each
/// row of the frames taken one after another. The parts sorted by name, each one chunk a
/// column.
pub(super) fn gather_routed(
    frames: &[DataFrame],
    parts: &RowParts,
) -> PolarsResult<Vec<(PlSmallStr, DataFrame)>> {
    use rayon::prelude::*;
    let height: usize = frames.iter().map(|f| f.height()).sum();
    polars_ensure!(
        height == parts.rows.len(),
        ShapeMismatch: "{} rows, and a part for {} of them", height, parts.rows.len()
    );
    let Some(first) = frames.first() else {
        return Ok(Vec::new());
    };
    for frame in &frames[1..] {
        polars_ensure!(
            frame.schema() == first.schema(),
            SchemaMismatch: "the frames of one table differ in their columns"
        );
    }
    // The rows as runs of one part, in order; each part's rows.
    let mut runs: Vec<Run> = Vec::new();
    let mut rows = vec![0; parts.names.len()];
    for run in parts.rows.chunk_by(|a, b| a == b) {
        runs.push(Run {
            part: run[0],
            len: run.len(),
        });
        rows[run[0] as usize] += run.len();
    }
    if runs.is_empty() {
        return Ok(Vec::new());
    }
    if let ([run], [frame]) = (&runs[..], frames) {
        return Ok(vec![(
            parts.names[run.part as usize].clone(),
            frame.clone(),
        )]);
    }
    // The chunks' lengths along the batch, as the first column is cut (none without one).
    let layout: Vec<usize> = match first.width() {
        0 => Vec::new(),
        _ => frames
            .iter()
            .flat_map(|f| f.columns()[0].as_materialized_series().chunks())
            .map(|c| c.len())
            .collect(),
    };
    let slices = match first.width() {
        0 => Vec::new(),
        _ => slices(&layout, &runs),
    };
    let columns: Vec<Vec<Option<Column>>> = first
        .columns()
        .par_iter()
        .enumerate()
        .map(|(k, column)| {
            let chunks: Vec<&ArrayRef> = frames
                .iter()
                .flat_map(|f| f.columns()[k].as_materialized_series().chunks())
                .collect();
            // The columns of a frame are cut alike, most often: their slices are found once.
            let cut_alike = chunks.iter().map(|c| c.len()).eq(layout.iter().copied());
            let own;
            let slices = match cut_alike {
                true => &slices,
                false => {
                    own = slices_of(&chunks, &runs);
                    &own
                }
            };
            scatter_column(&chunks, slices, &rows)
                .into_iter()
                .map(|array| array.map(|array| typed(column, array)).transpose())
                .collect()
        })
        .collect::<PolarsResult<_>>()?;
    let mut pieces: Vec<(PlSmallStr, DataFrame)> = (0..parts.names.len())
        .filter(|&part| rows[part] > 0)
        .map(|part| {
            let gathered = columns
                .iter()
                .map(|c| c[part].clone().expect("a part with rows has each column"))
                .collect();
            Ok((
                parts.names[part].clone(),
                DataFrame::new(rows[part], gathered)?,
            ))
        })
        .collect::<PolarsResult<_>>()?;
    pieces.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(pieces)
}

/// Consecutive rows of one part.
#[derive(Clone, Copy)]
struct Run {
    part: u32,
    len: usize,
}

/// `array`, of `column`'s physical type (a date's days), as a column of its logical type:
/// the cast reinterprets and copies nothing.
fn typed(column: &Column, array: ArrayRef) -> PolarsResult<Column> {
    let series = Series::from_arrow(column.name().clone(), array)?;
    Ok(match series.dtype() == column.dtype() {
        true => series,
        false => series.cast(column.dtype())?,
    }
    .into_column())
}

/// A run's rows within one chunk: its part, its chunk, its first row there and its rows
/// (a batch's rows are far fewer than 2^32).
#[derive(Clone, Copy)]
struct Slice {
    part: u32,
    chunk: u32,
    start: u32,
    len: u32,
}

impl Slice {
    fn part(&self) -> usize {
        self.part as usize
    }

    fn chunk(&self) -> usize {
        self.chunk as usize
    }

    fn rows(&self) -> std::ops::Range<usize> {
        self.start as usize..(self.start + self.len) as usize
    }
}

/// The runs (in order, over the chunks of `layout`'s lengths taken one after another) as
/// slices of the chunks, a run cut where a chunk ends.
fn slices(layout: &[usize], runs: &[Run]) -> Vec<Slice> {
    let mut slices = Vec::with_capacity(runs.len() + layout.len());
    let (mut chunk, mut at) = (0, 0);
    for run in runs {
        let mut left = run.len;
        while left > 0 {
            while at == layout[chunk] {
                chunk += 1;
                at = 0;
            }
            let len = left.min(layout[chunk] - at);
            slices.push(Slice {
                part: run.part,
                chunk: chunk as u32,
                start: at as u32,
                len: len as u32,
            });
            at += len;
            left -= len;
        }
    }
    slices
}

fn slices_of(chunks: &[&ArrayRef], runs: &[Run]) -> Vec<Slice> {
    let layout: Vec<usize> = chunks.iter().map(|c| c.len()).collect();
    slices(&layout, runs)
}

/// Each part's rows of the column whose chunks are `chunks` (`None` for a part with none).
fn scatter_column(chunks: &[&ArrayRef], slices: &[Slice], rows: &[usize]) -> Vec<Option<ArrayRef>> {
    let any = chunks[0].as_any();
    let arrays: Vec<ArrayRef> = if any.is::<Utf8ViewArray>() {
        let chunks: Vec<&Utf8ViewArray> = chunks.iter().map(|c| downcast(c)).collect();
        scatter_text(&chunks, slices, rows)
            .into_iter()
            .map(|a| Box::new(a) as ArrayRef)
            .collect()
    } else if any.is::<PrimitiveArray<i64>>() {
        let chunks: Vec<&PrimitiveArray<i64>> = chunks.iter().map(|c| downcast(c)).collect();
        scatter_primitive(&chunks, slices, rows)
    } else if any.is::<PrimitiveArray<i32>>() {
        let chunks: Vec<&PrimitiveArray<i32>> = chunks.iter().map(|c| downcast(c)).collect();
        scatter_primitive(&chunks, slices, rows)
    } else {
        // Any other type: polars' builders, a slice at a time.
        let mut builders: Vec<_> = rows
            .iter()
            .map(|_| make_builder(chunks[0].dtype()))
            .collect();
        for slice in slices {
            builders[slice.part()].subslice_extend(
                chunks[slice.chunk()].as_ref(),
                slice.start as usize,
                slice.len as usize,
                ShareStrategy::Always,
            );
        }
        builders.iter_mut().map(|b| b.freeze_reset()).collect()
    };
    arrays
        .into_iter()
        .zip(rows)
        .map(|(array, &rows)| (rows > 0).then_some(array))
        .collect()
}

fn downcast<A: Array + 'static>(chunk: &ArrayRef) -> &A {
    chunk
        .as_any()
        .downcast_ref::<A>()
        .expect("the chunks of one column share its type")
}

/// Each part's validity; `None` for every part when no row is null.
fn validities(chunks: &[Option<&Bitmap>], slices: &[Slice], rows: &[usize]) -> Vec<Option<Bitmap>> {
    let nullable = |chunk: usize| chunks[chunk].filter(|v| v.unset_bits() > 0);
    if !(0..chunks.len()).any(|chunk| nullable(chunk).is_some()) {
        return vec![None; rows.len()];
    }
    let mut bits: Vec<MutableBitmap> = rows
        .iter()
        .map(|&n| MutableBitmap::with_capacity(n))
        .collect();
    for slice in slices {
        let bits = &mut bits[slice.part()];
        match nullable(slice.chunk()) {
            Some(validity) => {
                let (bytes, offset, _) = validity.as_slice();
                bits.extend_from_slice(bytes, offset + slice.start as usize, slice.len as usize);
            }
            None => bits.extend_constant(slice.len as usize, true),
        }
    }
    bits.into_iter().map(|b| Some(b.into())).collect()
}

fn scatter_primitive<T: NativeType>(
    chunks: &[&PrimitiveArray<T>],
    slices: &[Slice],
    rows: &[usize],
) -> Vec<ArrayRef> {
    let mut values: Vec<Vec<T>> = rows.iter().map(|&n| Vec::with_capacity(n)).collect();
    let sources: Vec<&[T]> = chunks.iter().map(|c| c.values().as_slice()).collect();
    for slice in slices {
        copy(
            &mut values[slice.part()],
            &sources[slice.chunk()][slice.rows()],
        );
    }
    let validity: Vec<Option<&Bitmap>> = chunks.iter().map(|c| c.validity()).collect();
    values
        .into_iter()
        .zip(validities(&validity, slices, rows))
        .map(|(values, validity)| {
            Box::new(PrimitiveArray::new(
                chunks[0].dtype().clone(),
                values.into(),
                validity,
            )) as ArrayRef
        })
        .collect()
}

/// Each part's strings: their views, copied, over the buffers of all the chunks, shared (a
/// long value's view names its buffer by its place among the array's buffers: a chunk's
/// buffers are placed after those of the chunks before it).
fn scatter_text(chunks: &[&Utf8ViewArray], slices: &[Slice], rows: &[usize]) -> Vec<Utf8ViewArray> {
    let mut first_buffer: Vec<u32> = Vec::with_capacity(chunks.len());
    let mut buffers: Vec<Buffer<u8>> = Vec::new();
    for chunk in chunks {
        first_buffer.push(buffers.len() as u32);
        buffers.extend(chunk.data_buffers().iter().cloned());
    }
    let buffers: Buffer<Buffer<u8>> = buffers.into();
    let buffer_bytes = buffers.iter().map(|b| b.len()).sum();
    let mut views: Vec<Vec<View>> = rows.iter().map(|&n| Vec::with_capacity(n)).collect();
    let sources: Vec<&[View]> = chunks.iter().map(|c| c.views().as_slice()).collect();
    for slice in slices {
        let source = &sources[slice.chunk()][slice.rows()];
        let views = &mut views[slice.part()];
        match first_buffer[slice.chunk()] {
            0 => copy(views, source),
            base => views.extend(source.iter().map(|view| match view.length as usize {
                ..=INLINE => *view,
                _ => View {
                    buffer_idx: view.buffer_idx + base,
                    ..*view
                },
            })),
        }
    }
    let validity: Vec<Option<&Bitmap>> = chunks.iter().map(|c| c.validity()).collect();
    views
        .into_iter()
        .zip(validities(&validity, slices, rows))
        .map(|(views, validity)| {
            // The values' bytes, counted while the views are at hand (polars counts them
            // when it is first asked, and the part's rows are then long out of the
            // processor's caches: a pass over every view of the month).
            let value_bytes: usize = match &validity {
                None => views.iter().map(|v| v.length as usize).sum(),
                Some(valid) => views
                    .iter()
                    .zip(valid.iter())
                    .filter(|(_, valid)| *valid)
                    .map(|(v, _)| v.length as usize)
                    .sum(),
            };
            #[allow(unsafe_code)]
            // SAFETY: every view is a view of a valid array (`chunks`), copied unchanged
            // but for a long value's buffer index, which moved with its buffer: `buffers`
            // holds each chunk's buffers, in their order, from that chunk's
            // `first_buffer` on. So each view names the same bytes (valid UTF-8, in
            // bounds) as in its chunk; the validity has one bit a view; `value_bytes` is
            // the length of the valid values and `buffer_bytes` that of the buffers.
            unsafe {
                Utf8ViewArray::new_unchecked(
                    ArrowDataType::Utf8View,
                    views.into(),
                    buffers.clone(),
                    validity,
                    Some(value_bytes),
                    buffer_bytes,
                )
            }
        })
        .collect()
}

/// Appends `source` to `values`: a few values one by one (a settlement's rows rarely run,
/// and a call to `memcpy` a row costs more than the copy), more at once.
fn copy<T: Copy>(values: &mut Vec<T>, source: &[T]) {
    match source.len() {
        ..8 => {
            for &value in source {
                values.push(value);
            }
        }
        _ => values.extend_from_slice(source),
    }
}

/// The longest value a view holds itself.
const INLINE: usize = View::MAX_INLINE_SIZE as usize;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A hospital's frame of `rows` (text with nulls, short and long values; an amount with
    /// nulls; a date), cut into chunks of `chunk` rows as a frame read in pieces is.
    fn hospital(rows: &[(Option<String>, Option<i64>, i32)], chunk: usize) -> DataFrame {
        let frame = |rows: &[(Option<String>, Option<i64>, i32)]| {
            df! {
                "text" => rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
                "amount" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
                "day" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            }
            .unwrap()
            .lazy()
            .with_column(col("day").cast(DataType::Date))
            .collect()
            .unwrap()
        };
        let mut pieces = rows.chunks(chunk.max(1));
        let mut all = frame(pieces.next().unwrap_or_default());
        for piece in pieces {
            all.vstack_mut_owned(frame(piece)).unwrap();
        }
        all
    }

    fn row() -> impl Strategy<Value = (Option<String>, Option<i64>, i32)> {
        (
            proptest::option::of(prop_oneof!["[a-c]{0,3}", "[a-c\u{4e00}]{13,20}"]),
            proptest::option::of(-1000i64..1000),
            19_000i32..19_100,
        )
    }

    proptest! {
        /// Whatever the hospitals, their chunks and the parts of their rows, each part gets
        /// its rows, in order, with their values, nulls and types: what filtering the
        /// stacked batch by part gives.
        #[test]
        fn each_part_gets_its_rows_in_order(
            hospitals in proptest::collection::vec(
                (proptest::collection::vec(row(), 0..40), 1usize..15),
                1..5,
            ),
            seed in any::<u64>(),
        ) {
            let frames: Vec<DataFrame> =
                hospitals.iter().map(|(rows, chunk)| hospital(rows, *chunk)).collect();
            let height: usize = frames.iter().map(|f| f.height()).sum();
            // Parts in runs of a few rows, as fee lines come.
            let names = ["13", "36", "11"];
            let mut parts = Vec::with_capacity(height);
            let mut state = seed;
            while parts.len() < height {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let run = 1 + (state >> 60) as usize;
                let part = names[(state >> 33) as usize % names.len()];
                parts.extend(std::iter::repeat_n(PlSmallStr::from(part), run));
            }
            parts.truncate(height);
            let routed = RowParts::of_names(&parts);
            let pieces = gather_routed(&frames, &routed).unwrap();

            let mut stacked = frames[0].clone();
            for frame in &frames[1..] {
                stacked.vstack_mut(frame).unwrap();
            }
            let mut expected: Vec<(PlSmallStr, DataFrame)> = Vec::new();
            let mut distinct: Vec<&PlSmallStr> = parts.iter().collect();
            distinct.sort();
            distinct.dedup();
            for part in distinct {
                let mask: BooleanChunked = parts.iter().map(|p| p == part).collect();
                expected.push((part.clone(), stacked.filter(&mask).unwrap()));
            }
            prop_assert_eq!(pieces.len(), expected.len());
            for ((part, piece), (want_part, want)) in pieces.iter().zip(&expected) {
                prop_assert_eq!(part, want_part);
                prop_assert_eq!(piece.schema(), want.schema());
                prop_assert!(piece.equals_missing(want), "{part}: {piece} against {want}");
                // The bytes the array says its values hold are theirs.
                for text in piece.column("text").unwrap().str().unwrap().downcast_iter() {
                    let counted: usize = text.iter().flatten().map(str::len).sum();
                    prop_assert_eq!(text.total_bytes_len(), counted);
                }
            }
        }
    }
}
