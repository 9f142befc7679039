//! The row checks: a [`RowParser`] takes a header and then raw records, checks each row
//! against the table's columns and the cross-row rules, and builds the frame column by
//! column.

use std::borrow::Cow;

use polars::prelude::*;

use super::{MAX_VALUE_CHARS, Parsed, Record, RowRules};
use crate::config::CodeMaps;
use crate::error::InputError;
use crate::ingest::encoding::Encoding;
use crate::ingest::reject::{Reason, Reject};
use crate::ingest::schema::{Column as Spec, Empty, Kind, Table};
use crate::units;

/// One parsed field.
pub(super) enum Val<'a> {
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
    pub(super) all_decodable: bool,
    /// The file is known to hold no NUL byte (no per-row search needed).
    pub(super) nul_free: bool,
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
    pub(super) fn make_room(&mut self, rows: usize) {
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
                    .map(|t| format!("{c}={}", crate::ingest::reject::quoted(&t)))
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
                one_of(mapped, crate::codes::MED_TYPE)?
            }
            Kind::RlocRea => {
                let mapped = self.map_code(text, |c| &c.rloc_rea);
                one_of(mapped, crate::codes::RLOC_REA)?
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
pub(super) fn recycle<'a, 'b>(mut values: Vec<Val<'a>>) -> Vec<Val<'b>> {
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
