//! The row checks: a [`RowParser`] takes a header and then raw records, checks each row
//! against the table's columns and the cross-row rules, and places each field's value
//! straight into its column ([`Columns`]).

use std::borrow::Cow;

use polars::prelude::*;

use super::columns::{Building, Columns};
use super::keys::SeenKeys;
use super::{MAX_VALUE_CHARS, Parsed, Record, RowRules};
use crate::config::CodeMaps;
use crate::error::InputError;
use crate::ingest::encoding::Encoding;
use crate::ingest::reject::{Reason, Reject};
use crate::ingest::schema::{Column as Spec, Empty, Kind, Table};
use crate::units;

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
    columns: Columns,
    read: u64,
    rejects: Vec<Reject>,
    rejected_setl_ids: Vec<String>,
    /// The keys seen, with their first lines.
    seen_keys: SeenKeys,
    /// Header positions of the unique key's columns.
    key_positions: Vec<usize>,
    /// Spec indices of the area columns, in the file's column order.
    area_indices: Vec<usize>,
    /// Spec index of `setl_id`, where fee lines must link to a settlement.
    setl_id_index: Option<usize>,
    /// The last fee line's `setl_id` that named an accepted settlement: a settlement's lines
    /// come together, so most lines skip the lookup.
    last_linked: String,
    /// Every field of the file is known to decode (no per-row check needed).
    pub(super) all_decodable: bool,
    /// The file is known to hold no NUL byte (no per-row search needed).
    pub(super) nul_free: bool,
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
            columns: Columns::new(specs, 0),
            read: 0,
            rejects: Vec::new(),
            rejected_setl_ids: Vec::new(),
            seen_keys: SeenKeys::default(),
            key_positions,
            area_indices,
            setl_id_index,
            last_linked: String::new(),
            all_decodable: false,
            nul_free: false,
        })
    }

    /// Makes room for about `rows` rows a frame, when the rows to come are known (growing
    /// a column by doubling copies it and frees and takes memory as it goes).
    pub(super) fn make_room(&mut self, rows: usize) {
        self.columns = Columns::new(self.table.columns(), rows);
        if !self.rules.unique_key.is_empty() {
            self.seen_keys.reserve(rows, self.key_positions.len());
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
        for k in 0..self.order.len() {
            let (index, pos) = self.order[k];
            let spec = &specs[index];
            let text = record
                .text(pos, self.encoding)
                .expect("decodability checked above");
            let placed = if text.len() > MAX_VALUE_CHARS && text.chars().count() > MAX_VALUE_CHARS {
                Err(Reason::TooLong {
                    chars: text.chars().count(),
                })
            } else {
                self.place(spec, index, text, record)
            };
            if let Err(reason) = placed {
                self.drop_row(k);
                self.register_key(line, record);
                return Err((Some(spec.name), reason));
            }
        }
        if let Some((regions, _)) = self.rules.areas {
            for k in 0..self.area_indices.len() {
                let index = self.area_indices[k];
                if let Some(code) = record.text(self.position[index], self.encoding)
                    && !code.is_empty()
                    && !regions.contains(&code)
                {
                    let value = code.into_owned();
                    self.drop_row(self.order.len());
                    self.register_key(line, record);
                    return Err((Some(specs[index].name), Reason::UnknownArea { value }));
                }
            }
        }
        if let Some(first_line) = self.register_key(line, record) {
            self.drop_row(self.order.len());
            let key = self.key_text(record).unwrap_or_default();
            return Err((None, Reason::DuplicateKey { key, first_line }));
        }
        if let Some(accepted) = self.rules.settlements
            && let Some(index) = self.setl_id_index
            && let Some(setl_id) = record.text(self.position[index], self.encoding)
            && !setl_id.is_empty()
            && setl_id.as_ref() != self.last_linked
        {
            if !accepted.contains(setl_id.as_ref()) {
                let setl_id = setl_id.into_owned();
                self.drop_row(self.order.len());
                return Err((Some("setl_id"), Reason::NoSettlement { setl_id }));
            }
            self.last_linked.clear();
            self.last_linked.push_str(&setl_id);
        }
        self.columns.end_row(line);
        Ok(())
    }

    /// Ends a row rejected after the fields before header position `k` were placed.
    fn drop_row(&mut self, k: usize) {
        if k > 0 {
            let unplaced = self.order[k..].iter().map(|&(index, _)| index);
            self.columns.drop_row(unplaced);
        }
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
        let text = |pos: usize| record.text(pos, self.encoding);
        match self.key_positions[..] {
            // The fee lines' key, on every line: no allocation.
            [first, second] => {
                let (first, second) = (text(first)?, text(second)?);
                self.seen_keys.first_line(&[&first, &second], line)
            }
            ref positions => {
                let texts: Vec<Cow<'_, str>> = positions
                    .iter()
                    .map(|&pos| text(pos))
                    .collect::<Option<_>>()?;
                let texts: Vec<&str> = texts.iter().map(|t| t.as_ref()).collect();
                self.seen_keys.first_line(&texts, line)
            }
        }
    }

    /// Checks one field and places its value in its column.
    fn place(
        &mut self,
        spec: &Spec,
        index: usize,
        text: Cow<'_, str>,
        record: &impl Record,
    ) -> Result<(), Reason> {
        if text.is_empty() {
            match spec.empty {
                Empty::Required => return Err(Reason::Empty),
                Empty::Zero => match &mut self.columns.building[index] {
                    Building::Int(column) => column.push_value(0),
                    _ => unreachable!("empty is zero only in a number column"),
                },
                Empty::Null if spec.name == "opsp_dise_code" && self.mapped_med_type(record) => {
                    return Err(Reason::OpspDiseaseMissing);
                }
                Empty::Null => self.columns.building[index].push_null(),
            }
            return Ok(());
        }
        let bad_number = |error| Reason::BadNumber {
            kind: spec.kind,
            value: text.to_string(),
            error,
        };
        match &mut self.columns.building[index] {
            Building::Text(column) => match spec.kind {
                Kind::OneOf(allowed) => column.push_value(one_of(&text, allowed)?),
                Kind::MedType => {
                    let mapped = map_code(self.rules.codes, text, |c| &c.med_type);
                    column.push_value(one_of(&mapped, crate::codes::MED_TYPE)?);
                }
                Kind::RlocRea => {
                    let mapped = map_code(self.rules.codes, text, |c| &c.rloc_rea);
                    column.push_value(one_of(&mapped, crate::codes::RLOC_REA)?);
                }
                _ => column.push_value(text.as_ref()),
            },
            Building::Int(column) => column.push_value(match spec.kind {
                Kind::Ratio => units::parse_ratio(&text).map_err(bad_number)?,
                Kind::Int => units::parse_fixed(&text, 0).map_err(|_| Reason::BadInt {
                    value: text.to_string(),
                })?,
                _ => units::parse_fixed(&text, spec.kind.scale().unwrap_or_default())
                    .map_err(bad_number)?,
            }),
            Building::Date(column) => match units::parse_date(&text) {
                Some(d) => column.push_value(units::days_since_epoch(d)),
                None => return Err(Reason::BadDate { value: text.into() }),
            },
            Building::Time(column) => match units::parse_time(&text) {
                Some(t) => column.push_value(units::millis_since_epoch(t)),
                None => return Err(Reason::BadTime { value: text.into() }),
            },
        }
        Ok(())
    }

    /// Whether this settlement row's med_type, after the code map, is 14.
    fn mapped_med_type(&self, record: &impl Record) -> bool {
        self.raw(record, "med_type")
            .map(|t| map_code(self.rules.codes, t, |c| &c.med_type) == "14")
            .unwrap_or(false)
    }

    /// Rows accepted since the last frame was taken.
    pub fn pending(&self) -> usize {
        self.columns.pending()
    }

    /// The rows accepted so far (since the last call) as a frame: `line`, then the
    /// table's columns.
    pub fn take_frame(&mut self) -> DataFrame {
        self.columns.take_frame()
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

/// A code's standard form, where the configuration's `[codes]` maps it.
fn map_code<'r>(
    codes: Option<&CodeMaps>,
    text: Cow<'r, str>,
    map: impl Fn(&CodeMaps) -> &std::collections::BTreeMap<String, String>,
) -> Cow<'r, str> {
    match codes.and_then(|c| map(c).get(text.as_ref())) {
        Some(standard) => Cow::Owned(standard.clone()),
        None => text,
    }
}

/// The code itself, when it is one of `allowed`.
fn one_of<'t>(text: &'t str, allowed: &'static [&'static str]) -> Result<&'t str, Reason> {
    // Codes are a few bytes: compared inline rather than by a call to `memcmp` each.
    let bytes = text.as_bytes();
    let same =
        |code: &&str| code.len() == bytes.len() && code.bytes().zip(bytes).all(|(a, &b)| a == b);
    if allowed.iter().any(same) {
        Ok(text)
    } else {
        Err(Reason::BadCode {
            value: text.to_owned(),
            allowed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::reader::TextRow;

    /// A row rejected after some of its fields were placed, or after all of them, leaves
    /// nothing in the frame: the kept rows' values stay in line, and the counts add up.
    #[test]
    fn a_row_rejected_after_its_first_fields_leaves_nothing_in_the_frame() {
        let header = [
            "psn_no",
            "insutype",
            "med_grp",
            "year",
            "dedc_used",
            "hifp_paid",
        ]
        .map(String::from)
        .to_vec();
        let rules = RowRules {
            unique_key: &["psn_no", "med_grp"],
            ..RowRules::default()
        };
        let mut parser =
            RowParser::new(Table::Ytd, "ytd.csv", Encoding::Utf8, &header, rules).unwrap();
        parser.make_room(4);
        let push = |parser: &mut RowParser, line: u64, fields: [&str; 6]| {
            parser.push(line, &TextRow { fields: &fields });
        };
        push(&mut parser, 2, ["P1", "310", "ip", "2026", "1.00", ""]);
        // Four fields placed, then a bad amount.
        push(&mut parser, 3, ["P2", "390", "op", "2025", "x", "2.00"]);
        // Every field placed, then a key seen on line 2.
        push(&mut parser, 4, ["P1", "310", "ip", "2026", "3.00", "4.00"]);
        assert_eq!(parser.pending(), 1);
        let first = parser.take_frame();
        push(&mut parser, 5, ["P3", "390", "op", "2026", "5.00", "6.00"]);
        // The first field bad: nothing placed.
        push(&mut parser, 6, ["", "310", "op", "2026", "7.00", "8.00"]);
        let parsed = parser.finish();
        assert_eq!(parsed.read, 5);
        let lines: Vec<u64> = parsed.rejects.iter().map(|r| r.line).collect();
        assert_eq!(lines, [3, 4, 6]);
        let expected = |line: i64, psn_no: &str, med_grp: &str, dedc: i64, hifp: i64| {
            df!(
                "line" => [line],
                "psn_no" => [psn_no],
                "insutype" => [if line == 2 { "310" } else { "390" }],
                "med_grp" => [med_grp],
                "year" => [2026i64],
                "dedc_used" => [dedc],
                "hifp_paid" => [hifp],
            )
            .unwrap()
        };
        assert!(
            first.equals_missing(&expected(2, "P1", "ip", 100, 0)),
            "{first}"
        );
        let second = &parsed.frame;
        assert!(
            second.equals_missing(&expected(5, "P3", "op", 500, 600)),
            "{second}"
        );
    }
}
