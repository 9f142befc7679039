//! The keys a file's rows have shown, with the first line of each: a row whose key was seen
//! before is a duplicate (SPEC §3). A key is the text of its columns.
//!
//! The fee lines' key (`setl_id`, `feedetl_sn`) is checked on every one of a month's tens of
//! millions of lines. Its first column comes in runs — a settlement's lines are listed
//! together — and its second is a short line number, so a key of two columns is kept as a
//! group for its first column's value: a line of the settlement before needs no lookup of
//! its `setl_id`. A line number written as a number (`1`, `17`, `300`: digits, no leading
//! zero) is found by its value in a table of the group's numbers, which grows with the
//! group's lines (a stay of 300 lines was hashed a line past its 32nd, and this file's
//! share of a province month's samples halved without it); any other second value is
//! packed into an integer and compared with the group's few others, or hashed; every key
//! of another shape is joined by 0x1F.

use polars::prelude::*;

/// A group's members compared one by one up to this many; later ones (a stay of hundreds
/// of lines) are hashed.
const LISTED: usize = 32;

/// A group's table of line numbers reaches at most this far past 8 slots a line (so that
/// numbers far apart cannot make it large: 64 bytes a line, at most, past the first 128;
/// a file that numbers its lines across settlements keeps them with the other values).
const DENSE_SLACK: usize = 16;

/// The keys of one file's rows, with the first line of each.
#[derive(Default)]
pub(super) struct SeenKeys {
    /// Keys of any other shape: their columns' text joined by 0x1F.
    joined: PlHashMap<PlSmallStr, u64>,
    /// Two-column keys: the group of each first column's value.
    groups: PlHashMap<PlSmallStr, u32>,
    /// Each group's second values.
    members: Vec<Group>,
    /// Members of a group past its first [`LISTED`] packed ones.
    hashed: PlHashMap<(u32, u128), u64>,
    /// The last first column's value, and its group.
    last: Option<(PlSmallStr, u32)>,
    /// A joined key being looked up (kept for its room).
    buffer: String,
}

/// The second column's values of one group.
#[derive(Default)]
struct Group {
    /// By a line number's value: the first line with it, plus one (0: none yet).
    numbers: Vec<u64>,
    /// The group's lines so far: how far `numbers` may grow.
    lines: usize,
    /// Other values, packed ([`pack`]), with their first line; past [`LISTED`], in
    /// [`SeenKeys::hashed`].
    listed: Vec<(u128, u64)>,
    /// A line number too far for `numbers` when it came went with the other values: a
    /// number not in `numbers` may be there.
    numbers_elsewhere: bool,
}

/// A line number's value: up to nine digits with no leading zero (or `0`); `None` for any
/// other text (`01` is not `1`).
fn number(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    if bytes.is_empty() || bytes.len() > 9 || (bytes[0] == b'0' && bytes.len() > 1) {
        return None;
    }
    bytes.iter().try_fold(0usize, |value, &b| {
        b.is_ascii_digit().then(|| value * 10 + (b - b'0') as usize)
    })
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
                self.members.reserve(rows / 8);
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
            return self.pair(first, second, packed, line);
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

    /// A two-column key whose second value packs (as `packed`).
    fn pair(&mut self, first: &str, second: &str, packed: u128, line: u64) -> Option<u64> {
        let group = match &self.last {
            Some((text, group)) if text.as_str() == first => *group,
            _ => {
                let group = match self.groups.get(first) {
                    Some(&group) => group,
                    None => {
                        let group = self.members.len() as u32;
                        self.groups.insert(PlSmallStr::from_str(first), group);
                        self.members.push(Group::default());
                        group
                    }
                };
                self.last = Some((PlSmallStr::from_str(first), group));
                group
            }
        };
        let members = &mut self.members[group as usize];
        members.lines += 1;
        if let Some(n) = number(second) {
            let reach = 8 * members.lines + DENSE_SLACK;
            if n >= members.numbers.len() && n < reach {
                let room = (2 * members.numbers.len()).max(n + 1).min(reach);
                members.numbers.resize(room, 0);
            }
            match members.numbers.get(n) {
                Some(&seen) if seen > 0 => return Some(seen - 1),
                Some(_) => {
                    // A number kept with the other values, when it was too far then.
                    if members.numbers_elsewhere
                        && let Some(seen) = members.find(&self.hashed, group, packed)
                    {
                        return Some(seen);
                    }
                    members.numbers[n] = line + 1;
                    return None;
                }
                None => members.numbers_elsewhere = true,
            }
        }
        if let Some(seen) = members.find(&self.hashed, group, packed) {
            return Some(seen);
        }
        if members.listed.len() < LISTED {
            members.listed.push((packed, line));
        } else {
            self.hashed.insert((group, packed), line);
        }
        None
    }
}

impl Group {
    /// The first line of a value kept packed, if it was seen.
    fn find(&self, hashed: &PlHashMap<(u32, u128), u64>, group: u32, packed: u128) -> Option<u64> {
        if let Some(&(_, seen)) = self.listed.iter().find(|(member, _)| *member == packed) {
            return Some(seen);
        }
        match self.listed.len() < LISTED {
            true => None,
            false => hashed.get(&(group, packed)).copied(),
        }
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

        /// Line numbers near and far (far ones kept with the other values until the group
        /// has grown), with leading zeros, beside other short values, in groups long enough
        /// to hash: a key's first line is still that of its text.
        #[test]
        fn line_numbers_near_and_far_find_their_first_line(
            rows in proptest::collection::vec(
                (
                    "S[1-3]",
                    prop_oneof![
                        4 => "[1-9][0-9]{0,1}",
                        2 => "[1-9][0-9]{2}",
                        1 => "0[0-9]{0,2}",
                        1 => "[0-9a]{1,3}",
                        1 => "[0-9]{10,16}",
                    ],
                ),
                0..600,
            )
        ) {
            prop_assert_eq!(registered(&rows), by_text(&rows));
        }
    }

    #[test]
    fn a_line_number_is_digits_without_a_leading_zero() {
        assert_eq!(number("0"), Some(0));
        assert_eq!(number("17"), Some(17));
        assert_eq!(number("999999999"), Some(999_999_999));
        for text in ["", "01", "1a", "-1", "+1", " 1", "1234567890", "１"] {
            assert_eq!(number(text), None, "{text:?}");
        }
    }
}
