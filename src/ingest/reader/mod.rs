//! Turning one input file into a typed frame and its rejects.
//!
//! A [`RowParser`] takes a header and then raw records (from CSV or Parquet alike), checks
//! each row against the table's columns and the cross-row rules of [`RowRules`], and builds
//! the frame column by column. Every row read is accepted or rejected with one reason: the
//! first failing check in the file's column order, then the area checks, then the
//! duplicate key, then the link to a settlement (SPEC §12).

mod columns;
mod csv_path;
mod keys;
mod plain;
mod row;

pub use csv_path::{Known, parse_csv, parse_csv_in_chunks};
pub use plain::{PLAIN_BLOCK, PlainScan, parse_plain_in_chunks};
pub use row::RowParser;

use std::borrow::Cow;

use csv::ByteRecord;
use polars::prelude::*;

use super::encoding::Encoding;
use super::reject::Reject;
use super::schema::Table;
use crate::config::CodeMaps;
/// The areas listed in regions.csv.
#[derive(Debug, Default, Clone)]
pub struct Regions {
    codes: PlHashSet<String>,
    provinces: PlHashSet<String>,
}

impl Regions {
    pub fn new<'a>(codes: impl IntoIterator<Item = &'a str>) -> Self {
        let codes: PlHashSet<String> = codes.into_iter().map(str::to_owned).collect();
        let provinces = codes
            .iter()
            .filter_map(|c| c.get(..2))
            .map(str::to_owned)
            .collect();
        Regions { codes, provinces }
    }

    /// Listed, or a province `XX0000` with some listed area starting with `XX` (SPEC §12).
    pub fn contains(&self, code: &str) -> bool {
        self.codes.contains(code)
            || (code.len() == 6 && code.ends_with("0000") && self.provinces.contains(&code[..2]))
    }
}

/// Checks a row must pass beyond its own fields.
#[derive(Default, Clone, Copy)]
pub struct RowRules<'a> {
    /// Columns whose area must be listed in regions.csv.
    pub areas: Option<(&'a Regions, &'static [&'static str])>,
    /// Columns whose values must not repeat an earlier line's.
    pub unique_key: &'static [&'static str],
    /// `setl_id` must be one of these (fee lines: the hospital's accepted settlements).
    pub settlements: Option<&'a PlHashSet<String>>,
    pub codes: Option<&'a CodeMaps>,
}

/// One row's fields, as the parser reads them: a CSV or Parquet record of raw bytes, or a
/// row of a file already known to be text ([`TextRow`]).
pub trait Record {
    fn field_count(&self) -> usize;
    /// The text of the field at header position `pos`; `None` when the row has no such
    /// field or its bytes do not decode.
    fn text(&self, pos: usize, encoding: Encoding) -> Option<Cow<'_, str>>;
    /// Whether every field decodes.
    fn decodes(&self, encoding: Encoding) -> bool;
    /// Whether some field holds a NUL byte.
    fn has_nul(&self) -> bool;
}

impl Record for ByteRecord {
    fn field_count(&self) -> usize {
        ByteRecord::len(self)
    }

    fn text(&self, pos: usize, encoding: Encoding) -> Option<Cow<'_, str>> {
        encoding.decode(self.get(pos)?)
    }

    fn decodes(&self, encoding: Encoding) -> bool {
        self.iter().all(|f| encoding.decode(f).is_some())
    }

    fn has_nul(&self) -> bool {
        memchr::memchr(0, self.as_slice()).is_some()
    }
}

/// A row of a file decoded whole: its fields are slices of the file's text.
pub struct TextRow<'t, 'f> {
    fields: &'f [&'t str],
}

impl Record for TextRow<'_, '_> {
    fn field_count(&self) -> usize {
        self.fields.len()
    }

    fn text(&self, pos: usize, _: Encoding) -> Option<Cow<'_, str>> {
        self.fields.get(pos).map(|f| Cow::Borrowed(*f))
    }

    fn decodes(&self, _: Encoding) -> bool {
        true
    }

    fn has_nul(&self) -> bool {
        self.fields
            .iter()
            .any(|f| memchr::memchr(0, f.as_bytes()).is_some())
    }
}

/// No NUL-free value is longer than this many characters (SPEC §3: no NHSA field comes
/// near it); a longer one rejects its row.
pub const MAX_VALUE_CHARS: usize = 1000;

/// What parsing one file produced.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub table: Table,
    /// `line` (Int64), then the table's columns in SPEC order, typed by [`Kind::dtype`].
    pub frame: DataFrame,
    pub read: u64,
    pub rejects: Vec<Reject>,
    /// The raw `setl_id` of each rejected row that has one (fee lines: AMT002).
    pub rejected_setl_ids: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::csv_path::parse_csv_reader;
    use super::plain::parse_plain_text;
    use super::*;
    use crate::error::InputError;

    /// Both ways of reading a whole file: the plain-text path (`None` when it declines)
    /// and the CSV reader.
    fn both_ways(encoding: Encoding, body: &[u8]) -> (Option<Parsed>, Parsed) {
        let rules = RowRules {
            unique_key: &["psn_no", "med_grp"],
            ..RowRules::default()
        };
        let plain = parse_plain_text(Table::Ytd, "ytd.csv", encoding, body, None, rules).unwrap();
        let csv = parse_csv_reader(Table::Ytd, "ytd.csv", encoding, body, rules).unwrap();
        (plain, csv)
    }

    /// A reader that hands out at most `block` bytes a read.
    struct Dribble<'b> {
        bytes: &'b [u8],
        at: usize,
        block: usize,
    }

    impl std::io::Read for Dribble<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.block.min(buf.len()).min(self.bytes.len() - self.at);
            buf[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn same(a: &Parsed, b: &Parsed) -> bool {
        a.read == b.read
            && a.rejects == b.rejects
            && a.rejected_setl_ids == b.rejected_setl_ids
            && a.frame.equals_missing(&b.frame)
    }

    proptest::proptest! {
        /// The plain-text path gives exactly what the CSV reader gives — rows, line numbers,
        /// rejects — over short and long rows, blank lines, CRLF, a missing last line feed,
        /// GBK, and bad values; and it declines what it cannot split alike (quotes, a lone
        /// carriage return).
        #[test]
        fn the_plain_text_path_reads_what_the_csv_reader_reads(
            rows in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::sample::select(vec![
                        "P1", "P2", "310", "390", "ip", "op", "2026", "1.50", "1.500", "",
                        "-3", "x", "张三", "\"q\"", "a\rb", "n\0l", "\"a\nb\"",
                    ]),
                    0..8,
                ),
                0..10,
            ),
            crlf in proptest::bool::ANY,
            last_line_feed in proptest::bool::ANY,
            gbk in proptest::bool::ANY,
        ) {
            let end = if crlf { "\r\n" } else { "\n" };
            let mut text = format!("psn_no,insutype,med_grp,year,dedc_used,hifp_paid{end}");
            for row in &rows {
                text.push_str(&row.join(","));
                text.push_str(end);
            }
            if !last_line_feed {
                text.truncate(text.len() - end.len());
            }
            let (encoding, body) = if gbk {
                (Encoding::Gb18030, encoding_rs::GB18030.encode(&text).0.into_owned())
            } else {
                (Encoding::Utf8, text.clone().into_bytes())
            };
            let (plain, csv) = both_ways(encoding, &body);
            // Read in blocks of every size, as the filing registry is, the scan decides as
            // the whole file does, and a plain file gives the same rows in chunks of two.
            for block in 1..=body.len().min(40) {
                let mut scan = PlainScan::default();
                body.chunks(block).for_each(|b| scan.feed(b));
                proptest::prop_assert_eq!(scan.is_plain(), plain.is_some(), "{:?}", text);
                if let (Some(plain), Encoding::Utf8) = (&plain, encoding) {
                    let mut chunks: Vec<DataFrame> = Vec::new();
                    let mut keep = |f: DataFrame| -> Result<(), InputError> {
                        chunks.push(f);
                        Ok(())
                    };
                    let rules = RowRules { unique_key: &["psn_no", "med_grp"], ..RowRules::default() };
                    let mut streamed = parse_plain_in_chunks(
                        Table::Ytd, "ytd.csv", encoding, body.as_slice(), rules, 2, &mut keep, block,
                        !body.contains(&0),
                    )
                    .unwrap();
                    for chunk in chunks.into_iter().rev() {
                        let rest = std::mem::replace(&mut streamed.frame, chunk);
                        streamed.frame.vstack_mut_owned(rest).unwrap();
                    }
                    proptest::prop_assert!(same(&streamed, plain), "block {block}: {text:?}");
                    // Rows checked each alone are parsed side by side, in pieces of a
                    // few lines: the same rows, lines, rejects and counts as in order.
                    let alone = RowRules::default();
                    let in_order = parse_plain_text(Table::Ytd, "ytd.csv", encoding, &body, None, alone)
                        .unwrap()
                        .expect("plain");
                    let mut chunks: Vec<DataFrame> = Vec::new();
                    let mut keep = |f: DataFrame| -> Result<(), InputError> {
                        chunks.push(f);
                        Ok(())
                    };
                    let mut side_by_side = parse_plain_in_chunks(
                        Table::Ytd, "ytd.csv", encoding, body.as_slice(), alone, 2, &mut keep, block,
                        !body.contains(&0),
                    )
                    .unwrap();
                    for chunk in chunks.into_iter().rev() {
                        let rest = std::mem::replace(&mut side_by_side.frame, chunk);
                        side_by_side.frame.vstack_mut_owned(rest).unwrap();
                    }
                    proptest::prop_assert!(same(&side_by_side, &in_order), "block {block}: {text:?}");
                }
                // Any file through the CSV reader as it comes, a few bytes a read: the
                // same rows and physical lines as the file held whole.
                let mut chunks: Vec<DataFrame> = Vec::new();
                let mut keep = |f: DataFrame| -> Result<(), InputError> {
                    chunks.push(f);
                    Ok(())
                };
                let rules = RowRules { unique_key: &["psn_no", "med_grp"], ..RowRules::default() };
                let mut streamed = parse_csv_in_chunks(
                    Table::Ytd, "ytd.csv", encoding, Dribble { bytes: &body, at: 0, block },
                    Known::default(), rules, 2, &mut keep,
                )
                .unwrap();
                for chunk in chunks.into_iter().rev() {
                    let rest = std::mem::replace(&mut streamed.frame, chunk);
                    streamed.frame.vstack_mut_owned(rest).unwrap();
                }
                proptest::prop_assert!(same(&streamed, &csv), "block {block}: {text:?} {:?} {:?}", streamed.rejects, csv.rejects);
            }
            match plain {
                Some(plain) => proptest::prop_assert!(same(&plain, &csv), "{text:?} {:?} {:?} {:?} {:?}", plain.rejects, csv.rejects, plain.frame, csv.frame),
                None => proptest::prop_assert!(text.contains('"') || text.contains("a\rb")),
            }
        }
    }
}
