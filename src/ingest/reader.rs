//! Turning one input file into a typed frame and its rejects.
//!
//! A [`RowParser`] takes a header and then raw records (from CSV or Parquet alike), checks
//! each row against the table's columns and the cross-row rules of [`RowRules`], and builds
//! the frame column by column. Every row read is accepted or rejected with one reason: the
//! first failing check in the file's column order, then the area checks, then the
//! duplicate key, then the link to a settlement (SPEC §12).

use std::borrow::Cow;

use csv::ByteRecord;
use polars::prelude::*;

use super::encoding::Encoding;
use super::reject::{Reason, Reject};
use super::schema::{Column as Spec, Empty, Kind, Table};
use crate::config::CodeMaps;
use crate::error::InputError;
use crate::units;

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

/// One parsed field.
enum Val<'a> {
    Null,
    Str(Cow<'a, str>),
    Int(i64),
    Date(i32),
    Time(i64),
}

enum Builder {
    Str(StringChunkedBuilder),
    Int(PrimitiveChunkedBuilder<Int64Type>),
    Date(PrimitiveChunkedBuilder<Int32Type>),
    Time(PrimitiveChunkedBuilder<Int64Type>),
}

impl Builder {
    /// A builder with room for `rows` values.
    fn new(spec: &Spec, rows: usize) -> Self {
        let name = PlSmallStr::from_static(spec.name);
        match spec.kind.dtype() {
            DataType::String => Builder::Str(StringChunkedBuilder::new(name, rows)),
            DataType::Date => Builder::Date(PrimitiveChunkedBuilder::new(name, rows)),
            DataType::Datetime(..) => Builder::Time(PrimitiveChunkedBuilder::new(name, rows)),
            _ => Builder::Int(PrimitiveChunkedBuilder::new(name, rows)),
        }
    }

    fn push(&mut self, value: &Val) {
        match (self, value) {
            (Builder::Str(b), Val::Str(s)) => b.append_value(s.as_ref()),
            (Builder::Str(b), Val::Null) => b.append_null(),
            (Builder::Int(b), Val::Int(x)) | (Builder::Time(b), Val::Time(x)) => b.append_value(*x),
            (Builder::Int(b), Val::Null) | (Builder::Time(b), Val::Null) => b.append_null(),
            (Builder::Date(b), Val::Date(x)) => b.append_value(*x),
            (Builder::Date(b), Val::Null) => b.append_null(),
            _ => unreachable!("a value of the wrong type for its column"),
        }
    }

    fn finish(self) -> Column {
        match self {
            Builder::Str(b) => b.finish().into_column(),
            Builder::Int(b) => b.finish().into_column(),
            Builder::Date(b) => b.finish().into_date().into_column(),
            Builder::Time(b) => b
                .finish()
                .into_datetime(TimeUnit::Milliseconds, None)
                .into_column(),
        }
    }
}

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

pub struct RowParser<'a> {
    table: Table,
    file: String,
    encoding: Encoding,
    rules: RowRules<'a>,
    header_len: usize,
    /// Spec column index and its header position, in header order.
    order: Vec<(usize, usize)>,
    /// Header position of each spec column.
    position: Vec<usize>,
    builders: Vec<Builder>,
    lines: Vec<i64>,
    read: u64,
    rejects: Vec<Reject>,
    rejected_setl_ids: Vec<String>,
    /// The text of each key seen (fields joined by 0x1F), with its first line. A key of up
    /// to 24 bytes is stored inline: no allocation a row for the fee lines' keys.
    seen_keys: PlHashMap<PlSmallStr, u64>,
    /// Header positions of the unique key's columns.
    key_positions: Vec<usize>,
    /// Spec indices of the area columns, in the file's column order.
    area_indices: Vec<usize>,
    /// Spec index of `setl_id`, where fee lines must link to a settlement.
    setl_id_index: Option<usize>,
    key_buffer: String,
    /// The last fee line's `setl_id` that named an accepted settlement: a settlement's lines
    /// come together, so most lines skip the lookup.
    last_linked: String,
    /// The last row's value buffer, emptied and kept for its allocation (else one a row).
    spare_values: Vec<Val<'static>>,
    /// Every field of the file is known to decode (no per-row check needed).
    all_decodable: bool,
    /// The file is known to hold no NUL byte (no per-row search needed).
    nul_free: bool,
    /// Rows the builders are made with room for.
    room: usize,
}

impl<'a> RowParser<'a> {
    /// Maps the table's columns onto the header; a missing column is an input error.
    pub fn new(
        table: Table,
        file: &str,
        encoding: Encoding,
        header: &[String],
        rules: RowRules<'a>,
    ) -> Result<Self, InputError> {
        let specs = table.columns();
        let mut position = Vec::with_capacity(specs.len());
        for spec in specs {
            let mut found = header.iter().enumerate().filter(|(_, h)| *h == spec.name);
            match (found.next(), found.next()) {
                (Some((pos, _)), None) => position.push(pos),
                (None, _) => {
                    return Err(InputError::MissingColumn {
                        file: file.to_owned(),
                        column: spec.name,
                    });
                }
                (Some(_), Some(_)) => {
                    return Err(InputError::DuplicateColumn {
                        file: file.to_owned(),
                        column: spec.name,
                    });
                }
            }
        }
        let mut order: Vec<(usize, usize)> = position.iter().copied().enumerate().collect();
        order.sort_by_key(|&(_, pos)| pos);
        let key_positions = rules
            .unique_key
            .iter()
            .filter_map(|c| table.column_index(c).map(|i| position[i]))
            .collect();
        let mut area_indices: Vec<usize> = rules
            .areas
            .map(|(_, columns)| {
                columns
                    .iter()
                    .filter_map(|c| table.column_index(c))
                    .collect()
            })
            .unwrap_or_default();
        area_indices.sort_by_key(|&i| position[i]);
        let setl_id_index = rules
            .settlements
            .and_then(|_| table.column_index("setl_id"));
        Ok(RowParser {
            table,
            file: file.to_owned(),
            encoding,
            rules,
            header_len: header.len(),
            order,
            position,
            builders: specs.iter().map(|spec| Builder::new(spec, 0)).collect(),
            lines: Vec::new(),
            read: 0,
            rejects: Vec::new(),
            rejected_setl_ids: Vec::new(),
            seen_keys: PlHashMap::default(),
            key_positions,
            area_indices,
            setl_id_index,
            key_buffer: String::new(),
            last_linked: String::new(),
            spare_values: Vec::new(),
            all_decodable: false,
            nul_free: false,
            room: 0,
        })
    }

    /// Makes room for about `rows` rows a frame, when the rows to come are known (growing
    /// a column by doubling copies it and frees and takes memory as it goes).
    fn make_room(&mut self, rows: usize) {
        self.room = rows;
        let specs = self.table.columns();
        self.builders = specs.iter().map(|spec| Builder::new(spec, rows)).collect();
        self.lines.reserve(rows);
        if !self.rules.unique_key.is_empty() {
            self.seen_keys.reserve(rows);
        }
    }

    fn reject(&mut self, line: u64, column: Option<&'static str>, reason: Reason) {
        self.rejects.push(Reject {
            file: self.file.clone(),
            line,
            column,
            reason,
        });
    }

    /// Decoded text of a spec column, if the record has it and it decodes.
    fn raw<'r>(&self, record: &'r impl Record, name: &str) -> Option<Cow<'r, str>> {
        let spec = self.table.column_index(name)?;
        record.text(self.position[spec], self.encoding)
    }

    /// Checks one row and adds it to the frame or to the rejects.
    pub fn push(&mut self, line: u64, record: &impl Record) {
        self.read += 1;
        let outcome = self.check(line, record);
        if let Err((column, reason)) = outcome {
            if self.table == Table::Feedetail
                && let Some(id) = self.raw(record, "setl_id")
            {
                self.rejected_setl_ids.push(id.into_owned());
            }
            self.reject(line, column, reason);
        }
    }

    fn check(
        &mut self,
        line: u64,
        record: &impl Record,
    ) -> Result<(), (Option<&'static str>, Reason)> {
        if record.field_count() != self.header_len {
            return Err((
                None,
                Reason::ColumnCount {
                    expected: self.header_len,
                    found: record.field_count(),
                },
            ));
        }
        // A NUL byte past the first 8 KiB (earlier, the file is not text): its row only.
        if !self.nul_free && record.has_nul() {
            self.register_key(line, record);
            return Err((None, Reason::NulByte));
        }
        if !self.all_decodable && !record.decodes(self.encoding) {
            self.register_key(line, record);
            return Err((
                None,
                Reason::Undecodable {
                    encoding: self.encoding,
                },
            ));
        }
        let specs = self.table.columns();
        let mut values = recycle(std::mem::take(&mut self.spare_values));
        values.extend((0..specs.len()).map(|_| Val::Null));
        for k in 0..self.order.len() {
            let (index, pos) = self.order[k];
            let spec = &specs[index];
            let text = record
                .text(pos, self.encoding)
                .expect("decodability checked above");
            if text.len() > MAX_VALUE_CHARS && text.chars().count() > MAX_VALUE_CHARS {
                let chars = text.chars().count();
                self.spare_values = recycle(values);
                self.register_key(line, record);
                return Err((Some(spec.name), Reason::TooLong { chars }));
            }
            match self.parse_field(spec, text, record) {
                Ok(value) => values[index] = value,
                Err(reason) => {
                    self.spare_values = recycle(values);
                    self.register_key(line, record);
                    return Err((Some(spec.name), reason));
                }
            }
        }
        if let Some((regions, _)) = self.rules.areas {
            for k in 0..self.area_indices.len() {
                let index = self.area_indices[k];
                if let Val::Str(code) = &values[index]
                    && !regions.contains(code)
                {
                    let value = code.to_string();
                    self.spare_values = recycle(values);
                    self.register_key(line, record);
                    return Err((Some(specs[index].name), Reason::UnknownArea { value }));
                }
            }
        }
        if let Some(first_line) = self.register_key(line, record) {
            self.spare_values = recycle(values);
            let key = self.key_text(record).unwrap_or_default();
            return Err((None, Reason::DuplicateKey { key, first_line }));
        }
        if let Some(accepted) = self.rules.settlements
            && let Some(index) = self.setl_id_index
            && let Val::Str(setl_id) = &values[index]
            && setl_id.as_ref() != self.last_linked
        {
            if !accepted.contains(setl_id.as_ref()) {
                let setl_id = setl_id.to_string();
                self.spare_values = recycle(values);
                return Err((Some("setl_id"), Reason::NoSettlement { setl_id }));
            }
            self.last_linked.clear();
            self.last_linked.push_str(setl_id);
        }
        for (builder, value) in self.builders.iter_mut().zip(&values) {
            builder.push(value);
        }
        self.spare_values = recycle(values);
        self.lines.push(line as i64);
        Ok(())
    }

    fn key_text(&self, record: &impl Record) -> Option<String> {
        let parts: Option<Vec<String>> = self
            .rules
            .unique_key
            .iter()
            .map(|c| {
                self.raw(record, c)
                    .map(|t| format!("{c}={}", super::reject::quoted(&t)))
            })
            .collect();
        parts.map(|p| p.join(", "))
    }

    /// Remembers the row's key; returns the line of an earlier row with the same key.
    fn register_key(&mut self, line: u64, record: &impl Record) -> Option<u64> {
        if self.rules.unique_key.is_empty() {
            return None;
        }
        // The key's text: strict decoding maps distinct bytes to distinct text, so equal
        // text is equal bytes. A key that does not decode is no key.
        let mut key = std::mem::take(&mut self.key_buffer);
        key.clear();
        for (n, &pos) in self.key_positions.iter().enumerate() {
            let Some(text) = record.text(pos, self.encoding) else {
                self.key_buffer = key;
                return None;
            };
            if n > 0 {
                key.push('\x1F');
            }
            key.push_str(&text);
        }
        let first = match self.seen_keys.get(key.as_str()) {
            Some(&first) => Some(first),
            None => {
                self.seen_keys.insert(PlSmallStr::from_str(&key), line);
                None
            }
        };
        self.key_buffer = key;
        first
    }

    fn parse_field<'r>(
        &self,
        spec: &Spec,
        text: Cow<'r, str>,
        record: &impl Record,
    ) -> Result<Val<'r>, Reason> {
        if text.is_empty() {
            return match spec.empty {
                Empty::Required => Err(Reason::Empty),
                Empty::Zero => Ok(Val::Int(0)),
                Empty::Null if spec.name == "opsp_dise_code" && self.mapped_med_type(record) => {
                    Err(Reason::OpspDiseaseMissing)
                }
                Empty::Null => Ok(Val::Null),
            };
        }
        let value = match spec.kind {
            Kind::Code | Kind::Text => Val::Str(text),
            Kind::OneOf(allowed) => one_of(text, allowed)?,
            Kind::MedType => {
                let mapped = self.map_code(text, |c| &c.med_type);
                one_of(mapped, super::schema::codes::MED_TYPE)?
            }
            Kind::RlocRea => {
                let mapped = self.map_code(text, |c| &c.rloc_rea);
                one_of(mapped, super::schema::codes::RLOC_REA)?
            }
            Kind::Date => match units::parse_date(&text) {
                Some(d) => Val::Date(units::days_since_epoch(d)),
                None => return Err(Reason::BadDate { value: text.into() }),
            },
            Kind::Time => match units::parse_time(&text) {
                Some(t) => Val::Time(units::millis_since_epoch(t)),
                None => return Err(Reason::BadTime { value: text.into() }),
            },
            Kind::Ratio => {
                Val::Int(
                    units::parse_ratio(&text).map_err(|error| Reason::BadNumber {
                        kind: spec.kind,
                        value: text.to_string(),
                        error,
                    })?,
                )
            }
            Kind::Money | Kind::Qty | Kind::Price => {
                let scale = spec.kind.scale().unwrap_or_default();
                Val::Int(
                    units::parse_fixed(&text, scale).map_err(|error| Reason::BadNumber {
                        kind: spec.kind,
                        value: text.to_string(),
                        error,
                    })?,
                )
            }
            Kind::Int => match units::parse_fixed(&text, 0) {
                Ok(n) => Val::Int(n),
                Err(_) => return Err(Reason::BadInt { value: text.into() }),
            },
        };
        Ok(value)
    }

    fn map_code<'r>(
        &self,
        text: Cow<'r, str>,
        map: impl Fn(&CodeMaps) -> &std::collections::BTreeMap<String, String>,
    ) -> Cow<'r, str> {
        match self.rules.codes.and_then(|c| map(c).get(text.as_ref())) {
            Some(standard) => Cow::Owned(standard.clone()),
            None => text,
        }
    }

    /// Whether this settlement row's med_type, after the code map, is 14.
    fn mapped_med_type(&self, record: &impl Record) -> bool {
        self.raw(record, "med_type")
            .map(|t| self.map_code(t, |c| &c.med_type) == "14")
            .unwrap_or(false)
    }

    /// Rows accepted since the last frame was taken.
    pub fn pending(&self) -> usize {
        self.lines.len()
    }

    /// The rows accepted so far (since the last call) as a frame: `line`, then the
    /// table's columns.
    pub fn take_frame(&mut self) -> DataFrame {
        let room = self.room;
        let fresh = self
            .table
            .columns()
            .iter()
            .map(|spec| Builder::new(spec, room))
            .collect();
        let builders = std::mem::replace(&mut self.builders, fresh);
        let lines = std::mem::replace(&mut self.lines, Vec::with_capacity(room));
        let height = lines.len();
        let mut columns = Vec::with_capacity(builders.len() + 1);
        columns.push(Int64Chunked::from_vec("line".into(), lines).into_column());
        for builder in builders {
            columns.push(builder.finish());
        }
        DataFrame::new(height, columns).expect("columns built to one height")
    }

    pub fn finish(mut self) -> Parsed {
        let frame = self.take_frame();
        Parsed {
            table: self.table,
            frame,
            read: self.read,
            rejects: self.rejects,
            rejected_setl_ids: self.rejected_setl_ids,
        }
    }
}

/// An emptied buffer of values with another lifetime, in the same allocation (collecting
/// an empty iterator into a vector of a same-sized type reuses the allocation).
fn recycle<'a, 'b>(mut values: Vec<Val<'a>>) -> Vec<Val<'b>> {
    values.clear();
    values.into_iter().map(|_| Val::Null).collect()
}

fn one_of<'r>(text: Cow<'r, str>, allowed: &'static [&'static str]) -> Result<Val<'r>, Reason> {
    // Codes are a few bytes: compared inline rather than by a call to `memcmp` each.
    let bytes = text.as_bytes();
    let same =
        |code: &&str| code.len() == bytes.len() && code.bytes().zip(bytes).all(|(a, &b)| a == b);
    if allowed.iter().any(same) {
        Ok(Val::Str(text))
    } else {
        Err(Reason::BadCode {
            value: text.into_owned(),
            allowed,
        })
    }
}

/// Parses a whole CSV file (its bytes after any BOM).
pub fn parse_csv<'a>(
    table: Table,
    file: &str,
    encoding: Encoding,
    body: &[u8],
    rules: RowRules<'a>,
) -> Result<Parsed, InputError> {
    if let Some(parsed) = parse_plain_text(table, file, encoding, body, rules)? {
        return Ok(parsed);
    }
    parse_csv_reader(table, file, encoding, body, rules)
}

/// [`parse_csv`] by the CSV reader: for files with quotes, a lone carriage return, or bytes
/// that do not decode.
fn parse_csv_reader(
    table: Table,
    file: &str,
    encoding: Encoding,
    body: &[u8],
    rules: RowRules<'_>,
) -> Result<Parsed, InputError> {
    let mut whole =
        |_: DataFrame| -> Result<(), InputError> { unreachable!("one chunk: the whole file") };
    // A UTF-8 file valid as a whole has every field valid (the CSV delimiters are ASCII,
    // and no multi-byte character holds an ASCII byte): one check instead of one a field.
    let all_decodable =
        matches!(encoding, Encoding::Utf8 | Encoding::Utf8Bom) && std::str::from_utf8(body).is_ok();
    let known = Known {
        decodable: all_decodable,
        nul_free: memchr::memchr(0, body).is_none(),
    };
    let mut starts = StartLines::default();
    parse_records(
        table,
        file,
        encoding,
        body,
        known,
        rules,
        usize::MAX,
        &mut whole,
        &mut |position| starts.line(body, position.byte()),
    )
}

/// What is known of a whole file before its rows are parsed, so that no row need be
/// searched for it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Known {
    /// Every field decodes.
    pub decodable: bool,
    /// No byte is NUL.
    pub nul_free: bool,
}

/// The physical line a record starts on, in a file held whole. The CSV reader's own count
/// is that of the byte where it began looking for the record, before the line breaks and
/// blank lines it skipped: in a file with CRLF line breaks every record after the header
/// would be one line short, and a record after blank lines more.
#[derive(Debug, Default)]
struct StartLines {
    /// Bytes whose line feeds are counted in `lines`.
    counted: usize,
    lines: u64,
}

impl StartLines {
    /// The line of the record the reader began looking for at byte `from` of `body`
    /// (records come in file order, so each call counts on from the last).
    fn line(&mut self, body: &[u8], from: u64) -> u64 {
        let from = (from as usize).min(body.len());
        let skipped = body[from..]
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count();
        let start = from + skipped;
        if start > self.counted {
            self.lines += memchr::memchr_iter(b'\n', &body[self.counted..start]).count() as u64;
            self.counted = start;
        }
        1 + self.lines
    }
}

/// [`StartLines`] for a file read as it comes: the bytes the CSV reader has taken but whose
/// line feeds are not yet counted are kept (a block and a record at most), the rest are
/// counted and let go.
#[derive(Debug, Default)]
struct StreamedLines {
    /// The file's bytes from offset `base` on, as the reader took them.
    window: Vec<u8>,
    base: u64,
    starts: StartLines,
}

impl StreamedLines {
    /// The line of the record the reader began looking for at byte `from` of the file.
    fn line(&mut self, from: u64) -> u64 {
        let from = from.saturating_sub(self.base);
        let line = self.starts.line(&self.window, from);
        // What is counted is never looked at again.
        let counted = self.starts.counted;
        self.window.drain(..counted);
        self.base += counted as u64;
        self.starts.counted = 0;
        line
    }
}

/// A reader that keeps what it reads for [`StreamedLines`].
struct Tee<R> {
    inner: R,
    lines: std::rc::Rc<std::cell::RefCell<StreamedLines>>,
}

impl<R: std::io::Read> std::io::Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.lines.borrow_mut().window.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

/// The fast path of [`parse_csv`], for the files hospital systems usually write: the whole
/// file decodes, and it has no quote and no carriage return but before a line feed. Then a
/// record is a line and a field is the text between commas, exactly as the CSV reader
/// would split them, and every field is a slice of the file's text: no copy a record, no
/// decoding a field. `None` for any other file, which the CSV reader parses.
///
/// The whole file decodes exactly when each of its fields does: in UTF-8 and in GB18030
/// alike, no byte of a multi-byte character is a comma, a quote or a line break, and
/// decoding keeps no state across characters.
fn parse_plain_text(
    table: Table,
    file: &str,
    encoding: Encoding,
    body: &[u8],
    rules: RowRules<'_>,
) -> Result<Option<Parsed>, InputError> {
    let mut scan = PlainScan::default();
    scan.feed(body);
    if !scan.is_plain() {
        return Ok(None);
    }
    let text: Cow<str> = match encoding {
        Encoding::Utf8 | Encoding::Utf8Bom => match std::str::from_utf8(body) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => return Ok(None),
        },
        Encoding::Gb18030 => {
            match encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(body) {
                Some(text) => text,
                None => return Ok(None),
            }
        }
        Encoding::Parquet | Encoding::NotText => return Ok(None),
    };
    let mut splitter = PlainSplitter::new(table, file, encoding, rules);
    // Lines but the header, at most: room for every row.
    splitter.room = memchr::memchr_iter(b'\n', text.as_bytes()).count();
    splitter.nul_free = memchr::memchr(0, body).is_none();
    let mut whole = |_: DataFrame| -> Result<(), InputError> { unreachable!("one chunk") };
    splitter.feed(&text, usize::MAX, &mut whole)?;
    splitter.finish().map(Some)
}

/// Splits plain text — no quote, no carriage return but before a line feed — into records
/// and hands them to a [`RowParser`]: a record is a line, a field the text between commas,
/// exactly as the CSV reader would split them. Text comes a block of whole lines at a time
/// (the last block may end without a line feed).
struct PlainSplitter<'a> {
    table: Table,
    file: String,
    encoding: Encoding,
    rules: RowRules<'a>,
    /// Made from the header, the first line that is not blank.
    parser: Option<RowParser<'a>>,
    /// The line the next block starts on.
    line: u64,
    /// Rows a frame is made with room for.
    room: usize,
    /// The text is known to hold no NUL.
    nul_free: bool,
}

impl<'a> PlainSplitter<'a> {
    fn new(table: Table, file: &str, encoding: Encoding, rules: RowRules<'a>) -> Self {
        PlainSplitter {
            table,
            file: file.to_owned(),
            encoding,
            rules,
            parser: None,
            line: 1,
            room: 0,
            nul_free: false,
        }
    }

    /// Parses a block of whole lines, handing every `chunk_rows` accepted rows to `chunk`.
    fn feed<E: From<InputError>>(
        &mut self,
        text: &str,
        chunk_rows: usize,
        chunk: &mut dyn FnMut(DataFrame) -> Result<(), E>,
    ) -> Result<(), E> {
        let bytes = text.as_bytes();
        let mut fields: Vec<&str> = Vec::new();
        let mut start = 0;
        // Commas and line feeds are found in one pass; a field ends at either, a line at
        // the second; what follows the last line feed is a last line without one.
        let ends = memchr::memchr2_iter(b',', b'\n', bytes).map(|end| (end, bytes[end] == b','));
        let last = (start_of_rest(bytes) < bytes.len()).then_some((bytes.len(), false));
        for (end, comma) in ends.chain(last) {
            fields.push(&text[start..end]);
            start = end + 1;
            if comma {
                continue;
            }
            let k = fields.len() - 1;
            fields[k] = fields[k].strip_suffix('\r').unwrap_or(fields[k]);
            // A blank line is no record.
            if !(k == 0 && fields[0].is_empty()) {
                self.record(&fields)?;
                if let Some(parser) = &mut self.parser
                    && parser.pending() >= chunk_rows
                {
                    chunk(parser.take_frame())?;
                }
            }
            fields.clear();
            self.line += 1;
        }
        Ok(())
    }

    fn record(&mut self, fields: &[&str]) -> Result<(), InputError> {
        match &mut self.parser {
            Some(parser) => parser.push(self.line, &TextRow { fields }),
            None => {
                let header: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
                let mut parser =
                    RowParser::new(self.table, &self.file, self.encoding, &header, self.rules)?;
                parser.all_decodable = true;
                parser.nul_free = self.nul_free;
                parser.make_room(self.room);
                self.parser = Some(parser);
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<Parsed, InputError> {
        match self.parser {
            Some(parser) => Ok(parser.finish()),
            None => Err(InputError::Empty { file: self.file }),
        }
    }
}

/// Where the text after the last line feed starts.
fn start_of_rest(bytes: &[u8]) -> usize {
    memchr::memrchr(b'\n', bytes).map_or(0, |k| k + 1)
}

/// Whether a file read in blocks can be split plainly ([`PlainSplitter`]): it has no quote
/// and no carriage return but before a line feed.
#[derive(Debug, Default)]
pub struct PlainScan {
    /// Some byte is NUL (not a reason to decline: rows are searched for it).
    nul: bool,
    quote: bool,
    lone_cr: bool,
    /// The last block ended with a carriage return.
    cr_at_end: bool,
}

impl PlainScan {
    /// Takes the file's next block.
    pub fn feed(&mut self, block: &[u8]) {
        let Some(&last) = block.last() else {
            return;
        };
        if self.cr_at_end && block[0] != b'\n' {
            self.lone_cr = true;
        }
        self.quote |= memchr::memchr(b'"', block).is_some();
        self.nul |= memchr::memchr(0, block).is_some();
        self.lone_cr |=
            memchr::memchr_iter(b'\r', &block[..block.len() - 1]).any(|k| block[k + 1] != b'\n');
        self.cr_at_end = last == b'\r';
    }

    pub fn is_plain(&self) -> bool {
        !self.quote && !self.lone_cr && !self.cr_at_end
    }

    pub fn nul_free(&self) -> bool {
        !self.nul
    }
}

/// Bytes of a file [`parse_plain_in_chunks`] reads at a time.
pub const PLAIN_BLOCK: usize = 8 << 20;

/// Parses a UTF-8 file that [`PlainScan`] found plain, read `block` bytes at a time (its
/// bytes after any BOM), handing every `chunk_rows` accepted rows to `chunk` as
/// [`parse_csv_in_chunks`] does (an error if a block is not UTF-8 after all: the file
/// changed since it was scanned).
#[allow(clippy::too_many_arguments)]
pub fn parse_plain_in_chunks<E: From<InputError>>(
    table: Table,
    file: &str,
    encoding: Encoding,
    mut body: impl std::io::Read,
    rules: RowRules<'_>,
    chunk_rows: usize,
    chunk: &mut dyn FnMut(DataFrame) -> Result<(), E>,
    block: usize,
    nul_free: bool,
) -> Result<Parsed, E> {
    let io = |source: std::io::Error| InputError::Io {
        path: file.into(),
        source,
    };
    let mut splitter = PlainSplitter::new(table, file, encoding, rules);
    splitter.room = chunk_rows.min(1 << 20);
    splitter.nul_free = nul_free;
    let mut buffer: Vec<u8> = Vec::with_capacity(block);
    let mut eof = false;
    while !eof {
        // Fill the buffer to a block (after what the last block left), or to the end.
        let kept = buffer.len();
        buffer.resize(kept + block, 0);
        let mut filled = kept;
        while filled < buffer.len() {
            match body.read(&mut buffer[filled..]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io(e).into()),
            }
        }
        buffer.truncate(filled);
        // Whole lines now, the rest with the next block (all of it at the end).
        let cut = if eof {
            buffer.len()
        } else {
            start_of_rest(&buffer)
        };
        let text = std::str::from_utf8(&buffer[..cut]).map_err(|e| InputError::Csv {
            file: file.to_owned(),
            message: format!("not UTF-8 when read again: {e}"),
        })?;
        splitter.feed(text, chunk_rows, chunk)?;
        buffer.drain(..cut);
    }
    Ok(splitter.finish()?)
}

/// Parses a CSV file (its bytes after any BOM, read as they come), handing every
/// `chunk_rows` accepted rows to `chunk` as a frame; the frame of what [`Parsed`] returns
/// holds the rows left over. A row's line is the physical line it starts on, counted as
/// the file is read ([`StreamedLines`]).
#[allow(clippy::too_many_arguments)]
pub fn parse_csv_in_chunks<'a, E: From<InputError>>(
    table: Table,
    file: &str,
    encoding: Encoding,
    body: impl std::io::Read,
    known: Known,
    rules: RowRules<'a>,
    chunk_rows: usize,
    chunk: &mut dyn FnMut(DataFrame) -> Result<(), E>,
) -> Result<Parsed, E> {
    let lines = std::rc::Rc::new(std::cell::RefCell::new(StreamedLines::default()));
    let body = Tee {
        inner: body,
        lines: lines.clone(),
    };
    parse_records(
        table,
        file,
        encoding,
        body,
        known,
        rules,
        chunk_rows,
        chunk,
        &mut |position| lines.borrow_mut().line(position.byte()),
    )
}

/// [`parse_csv_in_chunks`], each row's line given by `line_of` from the reader's position.
#[allow(clippy::too_many_arguments)]
fn parse_records<'a, E: From<InputError>>(
    table: Table,
    file: &str,
    encoding: Encoding,
    body: impl std::io::Read,
    known: Known,
    rules: RowRules<'a>,
    chunk_rows: usize,
    chunk: &mut dyn FnMut(DataFrame) -> Result<(), E>,
    line_of: &mut dyn FnMut(&csv::Position) -> u64,
) -> Result<Parsed, E> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let mut record = ByteRecord::new();
    let header = match reader.read_byte_record(&mut record) {
        Ok(true) => record.clone(),
        Ok(false) => {
            return Err(InputError::Empty {
                file: file.to_owned(),
            }
            .into());
        }
        Err(error) => {
            return Err(InputError::Csv {
                file: file.to_owned(),
                message: error.to_string(),
            }
            .into());
        }
    };
    let header: Vec<String> = header
        .iter()
        .map(|h| encoding.decode(h).map(Cow::into_owned))
        .collect::<Option<_>>()
        .ok_or_else(|| InputError::Header {
            file: file.to_owned(),
        })?;
    let mut parser = RowParser::new(table, file, encoding, &header, rules)?;
    parser.all_decodable = known.decodable;
    parser.nul_free = known.nul_free;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {
                let line = record.position().map_or(0, &mut *line_of);
                parser.push(line, &record);
                if parser.pending() >= chunk_rows {
                    chunk(parser.take_frame())?;
                }
            }
            Ok(false) => break,
            Err(error) => {
                return Err(match error.kind() {
                    csv::ErrorKind::Io(source) => InputError::Io {
                        path: file.into(),
                        source: std::io::Error::new(source.kind(), source.to_string()),
                    },
                    _ => InputError::Csv {
                        file: file.to_owned(),
                        message: error.to_string(),
                    },
                }
                .into());
            }
        }
    }
    Ok(parser.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both ways of reading a whole file: the plain-text path (`None` when it declines)
    /// and the CSV reader.
    fn both_ways(encoding: Encoding, body: &[u8]) -> (Option<Parsed>, Parsed) {
        let rules = RowRules {
            unique_key: &["psn_no", "med_grp"],
            ..RowRules::default()
        };
        let plain = parse_plain_text(Table::Ytd, "ytd.csv", encoding, body, rules).unwrap();
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

    #[test]
    fn a_recycled_row_buffer_keeps_its_allocation() {
        let text = String::from("S1");
        let mut values: Vec<Val> = Vec::with_capacity(40);
        values.push(Val::Str(Cow::Borrowed(text.as_str())));
        let pointer = values.as_ptr() as usize;
        let recycled: Vec<Val<'static>> = recycle(values);
        assert!(recycled.is_empty());
        assert!(recycled.capacity() >= 40);
        assert_eq!(recycled.as_ptr() as usize, pointer);
    }
}
