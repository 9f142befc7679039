//! The keys a file's rows have shown, with the first line of each: a row whose key was seen
//! before is a duplicate (SPEC §3). A key is the text of its columns.
//!
//! The fee lines' key (`setl_id`, `feedetl_sn`) is checked on every one of a month's tens of
//! millions of lines. Its first column comes in runs — a settlement's lines are listed
//! together — and its second is a short line number, so a key of two columns is kept as a
//! group for its first column's value, holding the second's values packed into integers:
//! a line of the settlement before needs no lookup of its `setl_id`, and its line number is
//! compared with the few of its settlement as integers, without a string being built and
//! hashed a row (as every other key is: joined by 0x1F).

use polars::prelude::*;

/// A group's members compared one by one up to this many; later ones (a stay of hundreds
/// of lines) are hashed.
const LISTED: usize = 32;

/// The keys of one file's rows, with the first line of each.
#[derive(Default)]
pub(super) struct SeenKeys {
    /// Keys of any other shape: their columns' text joined by 0x1F.
    joined: PlHashMap<PlSmallStr, u64>,
    /// Two-column keys: the group of each first column's value.
    groups: PlHashMap<PlSmallStr, u32>,
    /// Each group's first members: the second column's value packed ([`pack`]), with its
    /// first line.
    listed: Vec<Vec<(u128, u64)>>,
    /// Members of a group past its first [`LISTED`].
    hashed: PlHashMap<(u32, u128), u64>,
    /// The last first column's value, and its group.
    last: Option<(PlSmallStr, u32)>,
    /// A joined key being looked up (kept for its room).
    buffer: String,
}

/// A value of up to 15 bytes as one integer: its bytes and its length (distinct values,
/// distinct integers); `None` for a longer one.
fn pack(text: &str) -> Option<u128> {
    let bytes = text.as_bytes();
    if bytes.len() > 15 {
        return None;
    }
    let mut packed = [0u8; 16];
    packed[..bytes.len()].copy_from_slice(bytes);
    packed[15] = bytes.len() as u8;
    Some(u128::from_le_bytes(packed))
}

impl SeenKeys {
    /// Room for the keys of about `rows` rows, of `columns` columns each.
    pub(super) fn reserve(&mut self, rows: usize, columns: usize) {
        match columns {
            // Groups of a few rows each (a settlement's fee lines: 9 to 21 in the months
            // generated).
            2 => {
                self.groups.reserve(rows / 8);
                self.listed.reserve(rows / 8);
            }
            _ => self.joined.reserve(rows),
        }
    }

    /// Remembers a key of the columns' `fields`; the first line of an earlier row with the
    /// same key, if there was one.
    pub(super) fn first_line(&mut self, fields: &[&str], line: u64) -> Option<u64> {
        if let [first, second] = fields
            && let Some(packed) = pack(second)
        {
            return self.pair(first, packed, line);
        }
        let mut key = std::mem::take(&mut self.buffer);
        key.clear();
        for (n, field) in fields.iter().enumerate() {
            if n > 0 {
                key.push('\x1F');
            }
            key.push_str(field);
        }
        let first = match self.joined.get(key.as_str()) {
            Some(&first) => Some(first),
            None => {
                self.joined.insert(PlSmallStr::from_str(&key), line);
                None
            }
        };
        self.buffer = key;
        first
    }

    fn pair(&mut self, first: &str, second: u128, line: u64) -> Option<u64> {
        let group = match &self.last {
            Some((text, group)) if text.as_str() == first => *group,
            _ => {
                let group = match self.groups.get(first) {
                    Some(&group) => group,
                    None => {
                        let group = self.listed.len() as u32;
                        self.groups.insert(PlSmallStr::from_str(first), group);
                        self.listed.push(Vec::new());
                        group
                    }
                };
                self.last = Some((PlSmallStr::from_str(first), group));
                group
            }
        };
        let listed = &mut self.listed[group as usize];
        if let Some(&(_, seen)) = listed.iter().find(|(member, _)| *member == second) {
            return Some(seen);
        }
        if listed.len() < LISTED {
            listed.push((second, line));
            return None;
        }
        let mut seen = None;
        self.hashed
            .entry((group, second))
            .and_modify(|first| seen = Some(*first))
            .or_insert(line);
        seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What the keys are: each key's first line, by the text of its columns.
    fn by_text(rows: &[(String, String)]) -> Vec<Option<u64>> {
        let mut seen: std::collections::HashMap<(String, String), u64> = Default::default();
        (0..rows.len() as u64)
            .map(|line| {
                let key = rows[line as usize].clone();
                match seen.get(&key) {
                    Some(&first) => Some(first),
                    None => {
                        seen.insert(key, line);
                        None
                    }
                }
            })
            .collect()
    }

    fn registered(rows: &[(String, String)]) -> Vec<Option<u64>> {
        let mut keys = SeenKeys::default();
        (0..rows.len() as u64)
            .map(|line| {
                let (a, b) = &rows[line as usize];
                keys.first_line(&[a, b], line)
            })
            .collect()
    }

    #[test]
    fn a_long_settlement_and_a_return_to_an_earlier_one_find_their_duplicates() {
        let mut rows: Vec<(String, String)> = Vec::new();
        for n in 0..100 {
            rows.push(("S1".into(), n.to_string()));
        }
        rows.push(("S2".into(), "1".into()));
        // Back to S1, in its listed and its hashed members; "01" is not "1"; a value too
        // long to pack; an empty one.
        for sn in [
            "1",
            "99",
            "01",
            "1234567890123456",
            "",
            "1234567890123456",
            "",
        ] {
            rows.push(("S1".into(), sn.into()));
        }
        let found = registered(&rows);
        assert_eq!(found, by_text(&rows));
        assert_eq!(
            found[100..],
            [
                None,
                Some(1),
                Some(99),
                None,
                None,
                None,
                Some(104),
                Some(105)
            ]
        );
    }

    proptest! {
        /// Whatever the values (few, so that they repeat; some longer than an integer holds),
        /// a key's first line is that of the first row with the same text.
        #[test]
        fn the_first_line_of_a_key_is_that_of_its_text(
            rows in proptest::collection::vec(
                ("S[12]{1,2}", prop_oneof!["[0-9]{1,2}", "[0-9]{15,17}"]),
                0..300,
            )
        ) {
            prop_assert_eq!(registered(&rows), by_text(&rows));
        }
    }
}
