//! The columns of a frame being built row by row ([`Columns`]), each typed as the frame
//! holds it: a field goes straight from its text into its column, with no value in
//! between. A row found bad after some of its fields were placed keeps a placeholder in
//! every column and is dropped when the frame is taken; a value is never taken back.

use polars::prelude::*;
use polars_arrow::array::{MutableBinaryViewArray, MutablePrimitiveArray, PrimitiveArray};

use crate::ingest::schema::Column as Spec;

/// One column being built.
pub(super) enum Building {
    Text(MutableBinaryViewArray<str>),
    Int(MutablePrimitiveArray<i64>),
    Date(MutablePrimitiveArray<i32>),
    Time(MutablePrimitiveArray<i64>),
}

impl Building {
    /// A column of `spec`'s type with room for `rows` values.
    fn new(spec: &Spec, rows: usize) -> Self {
        match spec.kind.dtype() {
            DataType::String => Building::Text(MutableBinaryViewArray::with_capacity(rows)),
            DataType::Date => Building::Date(MutablePrimitiveArray::with_capacity(rows)),
            DataType::Datetime(..) => Building::Time(MutablePrimitiveArray::with_capacity(rows)),
            _ => Building::Int(MutablePrimitiveArray::with_capacity(rows)),
        }
    }

    pub(super) fn push_null(&mut self) {
        match self {
            Building::Text(b) => b.push_null(),
            Building::Int(b) | Building::Time(b) => b.push(None),
            Building::Date(b) => b.push(None),
        }
    }

    fn finish(self, name: &'static str) -> Column {
        let name = PlSmallStr::from_static(name);
        match self {
            Building::Text(b) => StringChunked::with_chunk(name, b.freeze()).into_column(),
            Building::Int(b) => {
                Int64Chunked::with_chunk(name, PrimitiveArray::from(b)).into_column()
            }
            Building::Date(b) => Int32Chunked::with_chunk(name, PrimitiveArray::from(b))
                .into_date()
                .into_column(),
            Building::Time(b) => Int64Chunked::with_chunk(name, PrimitiveArray::from(b))
                .into_datetime(TimeUnit::Milliseconds, None)
                .into_column(),
        }
    }
}

/// The rows placed since the last frame was taken: the table's columns, each row's line,
/// and the rows to drop.
pub(super) struct Columns {
    specs: &'static [Spec],
    pub(super) building: Vec<Building>,
    lines: Vec<i64>,
    /// Rows (indices into this frame) rejected after some of their fields were placed.
    dropped: Vec<IdxSize>,
    /// Rows a frame is made with room for.
    room: usize,
}

impl Columns {
    pub(super) fn new(specs: &'static [Spec], room: usize) -> Self {
        Columns {
            specs,
            building: specs.iter().map(|spec| Building::new(spec, room)).collect(),
            lines: Vec::with_capacity(room),
            dropped: Vec::new(),
            room,
        }
    }

    /// Ends a row whose every field was placed.
    pub(super) fn end_row(&mut self, line: u64) {
        self.lines.push(line as i64);
    }

    /// Ends a row rejected after some of its fields were placed: `unplaced` (spec indices)
    /// get a placeholder, and the row is dropped when the frame is taken.
    pub(super) fn drop_row(&mut self, unplaced: impl Iterator<Item = usize>) {
        for index in unplaced {
            self.building[index].push_null();
        }
        self.dropped.push(self.lines.len() as IdxSize);
        self.lines.push(0);
    }

    /// Rows kept since the last frame was taken.
    pub(super) fn pending(&self) -> usize {
        self.lines.len() - self.dropped.len()
    }

    /// The rows kept since the last call, as a frame: `line`, then the table's columns.
    pub(super) fn take_frame(&mut self) -> DataFrame {
        let fresh = Columns::new(self.specs, self.room);
        let Columns {
            specs,
            building,
            lines,
            dropped,
            ..
        } = std::mem::replace(self, fresh);
        let height = lines.len();
        let mut columns = Vec::with_capacity(building.len() + 1);
        columns.push(Int64Chunked::from_vec("line".into(), lines).into_column());
        for (column, spec) in building.into_iter().zip(specs) {
            columns.push(column.finish(spec.name));
        }
        let frame = DataFrame::new(height, columns).expect("columns built to one height");
        if dropped.is_empty() {
            return frame;
        }
        let mut keep = vec![true; height];
        for row in dropped {
            keep[row as usize] = false;
        }
        let keep = BooleanChunked::from_slice("keep".into(), &keep);
        frame.filter(&keep).expect("a mask of the frame's height")
    }
}
