//! The fee lines as the checks read them: texts in one buffer a column, codes interned, numbers
//! in one pass, converted whole from a frame they consume.

use polars::prelude::PlHashMap as HashMap;

use polars::prelude::*;

use super::*;
use crate::units;
use polars_arrow::array::{Array, Utf8ViewArray};

/// A column of text, every value in one buffer: for the tens of millions of fee lines, a
/// `String` a cell would cost an allocation and 24 bytes more each.
#[derive(Debug, Default, Clone)]
pub struct TextColumn {
    text: String,
    /// Where each value ends in `text`.
    ends: Vec<usize>,
}

impl TextColumn {
    /// A text column's values, a null as the empty text.
    pub fn from_column(values: &Column) -> TextColumn {
        let mut column = TextColumn::default();
        if let Ok(values) = values.str() {
            column.ends.reserve(values.len());
            // Every value's bytes at once (growing the text by doubling copied it).
            let bytes = values
                .downcast_iter()
                .map(|chunk| chunk.total_bytes_len())
                .sum();
            column.text.reserve(bytes);
            for value in values.iter() {
                column.text.push_str(value.unwrap_or_default());
                column.ends.push(column.text.len());
            }
        } else {
            column.ends = vec![0; values.len()];
        }
        column
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

impl std::ops::Index<LineRow> for TextColumn {
    type Output = str;

    fn index(&self, k: LineRow) -> &str {
        &self[k.0]
    }
}

impl std::ops::Index<usize> for TextColumn {
    type Output = str;

    fn index(&self, k: usize) -> &str {
        let start = if k == 0 { 0 } else { self.ends[k - 1] };
        &self.text[start..self.ends[k]]
    }
}

/// A column of few distinct texts (a hospital directory, a code): each value once, and a
/// 4-byte index a row.
#[derive(Debug, Default, Clone)]
pub struct CodeColumn {
    values: Vec<PlSmallStr>,
    index: Vec<u32>,
}

impl CodeColumn {
    /// A text column's values, a null as the empty text, each found by its view first
    /// ([`keys_by_view`]): a column read from a Parquet dictionary gives every row of one
    /// value the same view, so only the first row of each value is looked up by its text.
    pub fn from_column(values: &Column) -> CodeColumn {
        let mut column = CodeColumn::default();
        let Ok(values) = values.str() else {
            column.values.push(PlSmallStr::EMPTY);
            column.index = vec![0; values.len()];
            return column;
        };
        let mut known: HashMap<PlSmallStr, u32> = HashMap::default();
        column.index.reserve(values.len());
        for chunk in values.downcast_iter() {
            keys_by_view(chunk, &mut column.index, |value| {
                let value = value.unwrap_or_default();
                match known.get(value) {
                    Some(&k) => k,
                    None => {
                        let k = column.values.len() as u32;
                        column.values.push(PlSmallStr::from_str(value));
                        known.insert(PlSmallStr::from_str(value), k);
                        k
                    }
                }
            });
        }
        column
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}

impl std::ops::Index<LineRow> for CodeColumn {
    type Output = str;

    fn index(&self, k: LineRow) -> &str {
        &self[k.0]
    }
}

impl std::ops::Index<usize> for CodeColumn {
    type Output = str;

    fn index(&self, k: usize) -> &str {
        &self.values[self.index[k] as usize]
    }
}

/// The keys of the views seen in a chunk: a direct-mapped cache of the last view in each
/// of 256 slots in front of a map of them all. A few-valued column (a code of two
/// characters, a hospital) is answered from the cache, without hashing into the map.
struct ViewKeys {
    /// `(view, key + 1)`; 0 marks an empty slot (the view 0, the empty text, is a value).
    recent: Box<[(u128, u32); 256]>,
    all: HashMap<u128, u32>,
}

impl ViewKeys {
    fn new() -> ViewKeys {
        ViewKeys {
            recent: Box::new([(0, 0); 256]),
            all: HashMap::default(),
        }
    }

    fn slot(view: u128) -> usize {
        let mixed = (view as u64 ^ (view >> 64) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (mixed >> 56) as usize
    }

    /// The key of `view`, made by `make` when it was not seen before; whether it was seen.
    fn get_or_make(&mut self, view: u128, make: impl FnOnce() -> u32) -> (u32, bool) {
        let slot = &mut self.recent[Self::slot(view)];
        if slot.1 != 0 && slot.0 == view {
            return (slot.1 - 1, true);
        }
        let mut found = true;
        let k = *self.all.entry(view).or_insert_with(|| {
            found = false;
            make()
        });
        *slot = (view, k + 1);
        (k, found)
    }
}

/// Each row's key in `chunk`, pushed to `keys`. A row whose 16-byte view was seen before in
/// the chunk takes that view's key without its text being read: two equal views are equal
/// values within one array (a value of up to 12 bytes is its view; a longer one's view
/// names its bytes in the array's buffers). `key_of` gives the key of any other row's value
/// (`None`: a null, asked once). A run of one value skips the lookup, whether its rows
/// share a view or only the text (rows parsed one by one each have a view of their own: a
/// fee line's settlement repeats down its lines). Where no long value's view is ever found
/// again (such a chunk), long values soon go straight to `key_of`.
pub fn keys_by_view<'a>(
    chunk: &'a Utf8ViewArray,
    keys: &mut Vec<u32>,
    mut key_of: impl FnMut(Option<&'a str>) -> u32,
) {
    let mut by_view = ViewKeys::new();
    let mut null_key: Option<u32> = None;
    // The last value looked up: its view, its row and its key.
    let mut last: Option<(u128, usize, u32)> = None;
    // Long values looked up by their views, and whether one was found so: a chunk built row
    // by row (as ingestion builds them) gives each long value a view of its own, never
    // found again; after `GIVE_UP` of them none was, and long values are looked up by their
    // text alone.
    const GIVE_UP: u32 = 4096;
    let (mut long_lookups, mut long_found) = (0u32, false);
    keys.reserve(chunk.len());
    for (row, view) in chunk.views().iter().enumerate() {
        if chunk.is_null(row) {
            keys.push(*null_key.get_or_insert_with(|| key_of(None)));
            continue;
        }
        let long = !view.is_inline();
        let view = view.as_u128();
        let k = match last {
            Some((seen, _, k)) if seen == view => k,
            // The same length and first four bytes (a view's low 64 bits), and the same
            // bytes after them.
            Some((seen, at, k))
                if seen as u64 == view as u64 && chunk.value(at) == chunk.value(row) =>
            {
                k
            }
            _ if long && long_lookups >= GIVE_UP && !long_found => {
                let k = key_of(Some(chunk.value(row)));
                last = Some((view, row, k));
                k
            }
            _ => {
                let (k, found) = by_view.get_or_make(view, || key_of(Some(chunk.value(row))));
                if long {
                    long_lookups += 1;
                    long_found |= found;
                }
                last = Some((view, row, k));
                k
            }
        };
        keys.push(k);
    }
}

/// The fee lines, column by column (they are the largest table: no row structs).
pub struct FeeLines {
    pub hospital_dir: CodeColumn,
    pub line: PerLine<i64>,
    pub setl_id: TextColumn,
    pub feedetl_sn: TextColumn,
    pub fee_ocur_day: PerLine<i32>,
    pub med_list_codg: CodeColumn,
    /// Units of 0.0001.
    pub cnt: PerLine<i64>,
    /// Units of 0.000001.
    pub pric: PerLine<i64>,
    pub det_item_fee_sumamt: PerLine<i64>,
    pub chrgitm_lv: CodeColumn,
    /// Units of 0.0001.
    pub selfpay_prop: PerLine<i64>,
    pub fulamt_ownpay_amt: PerLine<i64>,
    pub overlmt_amt: PerLine<i64>,
    pub preselfpay_amt: PerLine<i64>,
    pub inscp_scp_amt: PerLine<i64>,
}

const TEXT: [&str; 2] = ["setl_id", "feedetl_sn"];
const CODES: [&str; 3] = ["hospital_dir", "med_list_codg", "chrgitm_lv"];
const NUMBERS: [&str; 10] = [
    "line",
    "cnt",
    "pric",
    "det_item_fee_sumamt",
    "selfpay_prop",
    "fulamt_ownpay_amt",
    "overlmt_amt",
    "preselfpay_amt",
    "inscp_scp_amt",
    "fee_ocur_time",
];

/// What one fee-line column becomes.
enum Built {
    Text(TextColumn),
    Code(CodeColumn),
    Numbers(Vec<i64>),
}

impl FeeLines {
    /// The fee-line columns the checks read: a part's fee lines are read back with these
    /// alone.
    pub fn columns() -> impl Iterator<Item = &'static str> {
        TEXT.into_iter().chain(CODES).chain(NUMBERS)
    }

    /// Takes the fee-line frame and converts it column by column, each frame column freed
    /// once converted (the frame and the rows are never both whole in memory).
    pub fn new(mut frame: DataFrame) -> FeeLines {
        use rayon::prelude::*;
        let columns: Vec<(&str, Column)> = TEXT
            .iter()
            .chain(&CODES)
            .chain(&NUMBERS)
            .map(|&name| {
                let column = frame
                    .drop_in_place(name)
                    .expect("a fee-line column of the schema");
                (name, column)
            })
            .collect();
        // The columns no rule reads go now.
        drop(frame);
        let mut built: Vec<(&str, Built)> = columns
            .into_par_iter()
            .map(|(name, column)| {
                let built = if TEXT.contains(&name) {
                    Built::Text(TextColumn::from_column(&column))
                } else if CODES.contains(&name) {
                    Built::Code(CodeColumn::from_column(&column))
                } else if name == "fee_ocur_time" {
                    let mut days = column_ints(&column);
                    for t in &mut days {
                        *t = i64::from(units::day_of_millis(*t));
                    }
                    Built::Numbers(days)
                } else {
                    Built::Numbers(column_ints(&column))
                };
                (name, built)
            })
            .collect();
        let mut take = |name: &str| {
            let k = built
                .iter()
                .position(|(n, _)| *n == name)
                .expect("a built column");
            built.swap_remove(k).1
        };
        let mut text = |name: &str| match take(name) {
            Built::Text(t) => t,
            _ => unreachable!("{name} is a text column"),
        };
        let (setl_id, feedetl_sn) = (text("setl_id"), text("feedetl_sn"));
        let mut code = |name: &str| match take(name) {
            Built::Code(c) => c,
            _ => unreachable!("{name} is a code column"),
        };
        let (hospital_dir, med_list_codg, chrgitm_lv) = (
            code("hospital_dir"),
            code("med_list_codg"),
            code("chrgitm_lv"),
        );
        let mut number = |name: &str| match take(name) {
            Built::Numbers(v) => PerLine::from(v),
            _ => unreachable!("{name} is a number column"),
        };
        FeeLines {
            hospital_dir,
            line: number("line"),
            setl_id,
            feedetl_sn,
            fee_ocur_day: number("fee_ocur_time")
                .into_iter()
                .map(|d| d as i32)
                .collect(),
            med_list_codg,
            cnt: number("cnt"),
            pric: number("pric"),
            det_item_fee_sumamt: number("det_item_fee_sumamt"),
            chrgitm_lv,
            selfpay_prop: number("selfpay_prop"),
            fulamt_ownpay_amt: number("fulamt_ownpay_amt"),
            overlmt_amt: number("overlmt_amt"),
            preselfpay_amt: number("preselfpay_amt"),
            inscp_scp_amt: number("inscp_scp_amt"),
        }
    }

    pub fn len(&self) -> usize {
        self.setl_id.len()
    }

    /// Every line, in order.
    pub fn rows(&self) -> impl Iterator<Item = LineRow> + use<> {
        (0..self.len()).map(LineRow)
    }

    pub fn is_empty(&self) -> bool {
        self.setl_id.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(values: &[Option<&str>]) -> Column {
        StringChunked::from_iter_options("c".into(), values.iter().copied()).into_column()
    }

    #[test]
    fn a_code_column_gives_back_every_value_and_stores_each_once() {
        let values = [
            Some("H1"),
            Some("H1"),
            Some("H2"),
            None,
            Some("H1"),
            Some("H2"),
        ];
        let column = CodeColumn::from_column(&texts(&values));
        assert_eq!(column.len(), values.len());
        for (k, value) in values.iter().enumerate() {
            assert_eq!(&column[k], value.unwrap_or_default(), "row {k}");
        }
        // H1, H2 and the empty text of the null.
        assert_eq!(column.values.len(), 3);
    }

    #[test]
    fn a_code_column_tells_long_values_of_different_chunks_apart() {
        // Each chunk holds its long values in its own buffers, from offset 0: the same
        // view bits name different values in different chunks.
        let first = "XA01AAA001010101001";
        let other = "ZB99ZZZ999999999999";
        let mut column = texts(&[Some(first), Some("H1"), Some(first)]);
        column
            .append_owned(texts(&[Some(other), None, Some(""), Some(first)]))
            .unwrap();
        assert_eq!(column.n_chunks(), 2);
        let codes = CodeColumn::from_column(&column);
        let expected = [first, "H1", first, other, "", "", first];
        for (k, value) in expected.iter().enumerate() {
            assert_eq!(&codes[k], *value, "row {k}");
        }
        // first, H1, other and the empty text (of the null and the empty value alike).
        assert_eq!(codes.values.len(), 4);
    }

    /// Rows pushed one by one each hold their long value in bytes of their own, so equal
    /// values have different views: a run is found by its text, and a value that only
    /// shares its length and first four bytes with the last one is looked up.
    #[test]
    fn a_run_of_one_value_is_looked_up_once_whatever_its_views() {
        let (a, b) = ("S0000000000001", "S0000000000002");
        let mut array = polars_arrow::array::MutableBinaryViewArray::<str>::new();
        for value in [a, a, a, b, b, a] {
            array.push_value(value);
        }
        let array: Utf8ViewArray = array.into();
        let mut seen: Vec<&str> = Vec::new();
        let mut keys = Vec::new();
        keys_by_view(&array, &mut keys, |value| {
            let value = value.unwrap();
            seen.push(value);
            seen.iter().position(|v| *v == value).unwrap() as u32
        });
        assert_eq!(keys, [0, 0, 0, 1, 1, 0]);
        assert_eq!(seen, [a, b, a]);
    }

    /// Past the point where long values are no longer looked up by their views (none was
    /// found again by one), every row still gets its value's key.
    #[test]
    fn long_values_of_views_of_their_own_keep_their_keys() {
        let values: Vec<String> = (0..5000)
            .chain(0..10)
            .chain([4999, 4999, 7])
            .map(|i| format!("XA{i:020}"))
            .collect();
        let mut array = polars_arrow::array::MutableBinaryViewArray::<str>::new();
        for value in &values {
            array.push_value(value);
        }
        let array: Utf8ViewArray = array.into();
        let mut known: HashMap<&str, u32> = HashMap::default();
        let mut keys = Vec::new();
        keys_by_view(&array, &mut keys, |value| {
            let next = known.len() as u32;
            *known.entry(value.unwrap()).or_insert(next)
        });
        let expected: Vec<u32> = (0..5000).chain(0..10).chain([4999, 4999, 7]).collect();
        assert_eq!(keys, expected);
    }

    /// More values than the cache has slots, short (their views are their text) and long
    /// (one view each, repeated), the empty text among them, in an order that sends each
    /// value back to a slot another took meanwhile: every row still gets its value's key.
    #[test]
    fn the_cache_of_views_gives_each_view_its_own_key() {
        let distinct: Vec<String> = (0..700)
            .map(|i| match i % 3 {
                0 if i == 0 => String::new(),
                0 => format!("{i}"),
                1 => format!("C{i:03}"),
                _ => format!("XA{i:020}"),
            })
            .collect();
        let order: Vec<usize> = (0..3)
            .flat_map(|round| (0..700).map(move |i| (i * 3 + round * 131) % 700))
            .collect();
        let mut array = polars_arrow::array::MutableBinaryViewArray::<str>::new();
        let mut views = Vec::new();
        for &i in &order {
            // The long values keep the view of their first row (as a column read from a
            // Parquet dictionary does), so that they are found by it.
            match views.iter().find(|&&(j, _)| j == i) {
                Some(&(_, view)) if distinct[i].len() > 12 => {
                    let buffers = array.completed_buffers().to_vec();
                    array.push_view(view, &buffers);
                }
                _ => {
                    array.push_value(&distinct[i]);
                    array.finish_in_progress();
                    views.push((i, *array.views().last().unwrap()));
                }
            }
        }
        let array: Utf8ViewArray = array.into();
        let mut known: HashMap<&str, u32> = HashMap::default();
        let mut keys = Vec::new();
        keys_by_view(&array, &mut keys, |value| {
            let next = known.len() as u32;
            *known.entry(value.unwrap()).or_insert(next)
        });
        let values: Vec<&str> = keys
            .iter()
            .map(|&k| *known.iter().find(|(_, v)| **v == k).unwrap().0)
            .collect();
        let expected: Vec<&str> = order.iter().map(|&i| distinct[i].as_str()).collect();
        assert_eq!(values, expected);
        assert_eq!(known.len(), 700);
    }

    #[test]
    fn a_text_column_gives_back_every_value() {
        let values = [
            Some("S000000000001"),
            None,
            Some(""),
            Some("南昌"),
            Some("1"),
        ];
        let column = TextColumn::from_column(&texts(&values));
        assert_eq!(column.len(), values.len());
        for (k, value) in values.iter().enumerate() {
            assert_eq!(&column[k], value.unwrap_or_default(), "row {k}");
        }
    }

    #[test]
    fn fee_lines_are_converted_whole_from_a_frame_they_consume() {
        let frame = df!(
            "hospital_dir" => ["H1", "H1", "H2"],
            "line" => [2i64, 3, 2],
            "setl_id" => ["S1", "S1", "S9"],
            "feedetl_sn" => ["1", "2", "1"],
            "fee_ocur_time" => [0i64, 86_400_000, 2 * 86_400_000],
            "med_list_codg" => ["XA1", "XB2", "XA1"],
            "cnt" => [10_000i64, 20_000, 5_000],
            "pric" => [1_000_000i64, 2_000_000, 3_000_000],
            "det_item_fee_sumamt" => [100i64, 400, 150],
            "chrgitm_lv" => ["01", "02", "01"],
            "selfpay_prop" => [0i64, 1_000, 0],
            "fulamt_ownpay_amt" => [0i64, 0, 150],
            "overlmt_amt" => [0i64, 0, 0],
            "preselfpay_amt" => [0i64, 40, 0],
            "inscp_scp_amt" => [100i64, 360, 0],
        )
        .unwrap();
        let lines = FeeLines::new(frame);
        assert_eq!(lines.len(), 3);
        assert_eq!(&lines.hospital_dir[2], "H2");
        assert_eq!(&lines.setl_id[1], "S1");
        assert_eq!(&lines.feedetl_sn[1], "2");
        assert_eq!(&lines.med_list_codg[2], "XA1");
        assert_eq!(&lines.chrgitm_lv[1], "02");
        assert_eq!(lines.line.raw, [2, 3, 2]);
        assert_eq!(lines.fee_ocur_day.raw, [0, 1, 2]);
        assert_eq!(lines.det_item_fee_sumamt.raw, [100, 400, 150]);
        assert_eq!(lines.preselfpay_amt.raw, [0, 40, 0]);
        assert_eq!(lines.inscp_scp_amt.raw, [100, 360, 0]);
    }
}
