//! The ledger of held and disputed money across months (SPEC §13, 挂账台账).
//!
//! One entry per settlement whose payment is not final: a `hold` waiting for the agency's
//! decision, a `deduct` open to appeal, or `closed` (kept a year after its last event, so a
//! late reversal knows what was paid). This module is the ledger's lower half: its entries
//! and the reading of the previous month's ledger ([`previous`]), below scope (DUP004 and
//! reversals need it). After clearing, [`crate::ledger_update`] applies the month's events —
//! reversals, decisions, time — opens the month's new entries and writes the tables.

pub mod previous;

use std::collections::BTreeMap;

use polars::prelude::PlSmallStr;
use serde::{Deserialize, Serialize};

/// What an entry is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Held: the whole fund payment waits for the agency's decision (核实).
    Hold,
    /// Deducted: open to the hospital's appeal (申诉).
    Deduct,
    Closed,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Hold => "hold",
            Kind::Deduct => "deduct",
            Kind::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        [Kind::Hold, Kind::Deduct, Kind::Closed]
            .into_iter()
            .find(|k| k.name() == text)
    }
}

/// What ended (or changed) an entry's pending money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Event {
    Paid,
    Refused,
    Upheld,
    Reversed,
    Expired,
}

impl Event {
    pub fn name(self) -> &'static str {
        match self {
            Event::Paid => "paid",
            Event::Refused => "refused",
            Event::Upheld => "upheld",
            Event::Reversed => "reversed",
            Event::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<Event> {
        [
            Event::Paid,
            Event::Refused,
            Event::Upheld,
            Event::Reversed,
            Event::Expired,
        ]
        .into_iter()
        .find(|e| e.name() == text)
    }
}

/// `ledger`'s columns, in SPEC §13's order.
pub const LEDGER_COLUMNS: [&str; 18] = [
    "fixmedins_code",
    "setl_id",
    "psn_no",
    "insuplc_admdvs",
    "fix_blng_admdvs",
    "clr_type",
    "first_month",
    "since",
    "months_open",
    "kind",
    "amount",
    "fund_pay_sumamt",
    "paid",
    "deductions",
    "rules",
    "overdue",
    "last_event",
    "last_event_month",
];

/// (`fixmedins_code`, `setl_id`).
pub type Key = (PlSmallStr, PlSmallStr);

/// Ledger keys through serde, as pairs of strings.
pub mod keys {
    use polars::prelude::PlSmallStr;
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Key;

    pub fn serialize<S: Serializer>(keys: &[Key], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(keys.iter().map(|(a, b)| (a.as_str(), b.as_str())))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Key>, D::Error> {
        Ok(Vec::<(String, String)>::deserialize(d)?
            .into_iter()
            .map(|(a, b)| (PlSmallStr::from_string(a), PlSmallStr::from_string(b)))
            .collect())
    }
}

/// One ledger entry; money in fen, months as `YYYY-MM`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    #[serde(with = "crate::units::small_str")]
    pub fixmedins_code: PlSmallStr,
    #[serde(with = "crate::units::small_str")]
    pub setl_id: PlSmallStr,
    pub psn_no: String,
    pub insuplc_admdvs: String,
    pub fix_blng_admdvs: String,
    pub clr_type: String,
    /// The month the settlement was cleared or held.
    pub first_month: String,
    /// The month its pending kind began.
    pub since: String,
    pub kind: Kind,
    /// The money pending (0 when closed).
    pub amount: i64,
    pub fund_pay_sumamt: i64,
    /// What the fund has paid for it so far.
    pub paid: i64,
    /// What its `deduct` findings would take were it cleared (a hold's).
    pub deductions: i64,
    /// The codes of its hold and deduct findings when it opened, ascending, `;`-joined.
    pub rules: String,
    pub last_event: Option<Event>,
    pub last_event_month: Option<String>,
}

impl Entry {
    pub fn key(&self) -> Key {
        (self.fixmedins_code.clone(), self.setl_id.clone())
    }

    /// Closed by a reversal: a re-upload is no longer DUP004, a second reversal is REV002.
    pub fn is_reversed(&self) -> bool {
        self.last_event == Some(Event::Reversed)
    }
}

/// A month's ledger, by key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    pub entries: BTreeMap<Key, Entry>,
}

impl Ledger {
    pub fn get(&self, fixmedins_code: &str, setl_id: &str) -> Option<&Entry> {
        self.entries.get(&(
            PlSmallStr::from_str(fixmedins_code),
            PlSmallStr::from_str(setl_id),
        ))
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Calendar months from `from` to `to` (`YYYY-MM`; 0 in the same month).
pub fn months_between(from: &str, to: &str) -> i64 {
    let index = |month: &str| {
        crate::units::parse_month(month)
            .map(|(y, m)| i64::from(y) * 12 + i64::from(m) - 1)
            .unwrap_or_default()
    };
    index(to) - index(from)
}

/// The calendar month after `month` (`YYYY-MM`).
pub fn month_after(month: &str) -> String {
    let (year, mon) = crate::units::parse_month(month).expect("a checked month");
    if mon == 12 {
        format!("{:04}-01", year + 1)
    } else {
        format!("{year:04}-{:02}", mon + 1)
    }
}

/// The calendar month before `month` (`YYYY-MM`).
pub fn month_before(month: &str) -> String {
    let (year, mon) = crate::units::parse_month(month).expect("a checked month");
    if mon == 1 {
        format!("{:04}-12", year - 1)
    } else {
        format!("{year:04}-{:02}", mon - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_count_across_years() {
        assert_eq!(months_between("2026-10", "2026-10"), 0);
        assert_eq!(months_between("2026-10", "2027-01"), 3);
        assert_eq!(months_between("2025-11", "2026-11"), 12);
        assert_eq!(month_before("2027-01"), "2026-12");
        assert_eq!(month_before("2026-11"), "2026-10");
        assert_eq!(month_after("2026-12"), "2027-01");
        assert_eq!(month_after("2026-10"), "2026-11");
    }
}
