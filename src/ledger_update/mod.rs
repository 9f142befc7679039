//! The ledger's upper half, after clearing: one month's step (SPEC §13): the events applied to the previous ledger's
//! entries in order — reversals, then decisions, then time — and the month's new entries.
//!
//! Every amount is a sum or difference of amounts already exact: no rounding here. The
//! balance, per kind, holds exactly: pending at the start + opened this month = settled by
//! events + pending now.

pub mod tables;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::Config;
use crate::ingest::{Reason, Reject};
use crate::ledger::{Entry, Event, Key, Kind, Ledger, months_between};
use crate::model::Money;
use crate::model::prov;

/// A decision of `decisions.csv`, as read.
#[derive(Debug, Clone)]
pub struct Decision {
    pub line: u64,
    pub fixmedins_code: String,
    pub setl_id: String,
    pub pay: bool,
    /// Fen; `None`: all it may release.
    pub amount: Option<i64>,
    pub decided_by: String,
    /// Milliseconds, as the inputs hold times.
    pub decided_at: i64,
    pub note: Option<String>,
}

/// One row of `ledger_events`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    pub fixmedins_code: String,
    pub setl_id: String,
    pub insuplc_admdvs: String,
    pub fix_blng_admdvs: String,
    pub clr_type: String,
    /// The entry's kind before the event.
    pub kind: Kind,
    pub event: Event,
    /// The pending amount the event ended.
    pub settled: i64,
    pub released_amount: i64,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub note: Option<String>,
}

/// Pending money of one kind across the month, fen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KindBalance {
    pub start: i64,
    pub opened: i64,
    pub settled: i64,
    pub now: i64,
}

impl KindBalance {
    pub fn holds(&self) -> bool {
        self.start + self.opened == self.settled + self.now
    }
}

/// The balance of both pending kinds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Balance {
    pub hold: KindBalance,
    pub deduct: KindBalance,
}

impl Balance {
    fn of(&mut self, kind: Kind) -> Option<&mut KindBalance> {
        match kind {
            Kind::Hold => Some(&mut self.hold),
            Kind::Deduct => Some(&mut self.deduct),
            Kind::Closed => None,
        }
    }
}

/// The month's step of the ledger.
#[derive(Debug, Clone, Default)]
pub struct Update {
    /// The ledger as this month leaves it (closed entries older than a year gone).
    pub ledger: Ledger,
    /// Sorted by key.
    pub events: Vec<EventRow>,
    /// Releases by (insured area, treatment area, clr_type): (count, fen).
    pub releases: BTreeMap<(String, String, String), (u64, i64)>,
    /// Decisions that name no open entry or release too much (SPEC §13 2.).
    pub rejects: Vec<Reject>,
    pub balance: Balance,
}

impl Update {
    /// Releases by (insured province, treatment province): (count, fen).
    pub fn releases_by_province(&self) -> BTreeMap<(String, String), (u64, i64)> {
        let mut by_province: BTreeMap<(String, String), (u64, i64)> = BTreeMap::new();
        for ((insured, treatment, _), (cnt, amount)) in &self.releases {
            let entry = by_province
                .entry((prov(insured).to_owned(), prov(treatment).to_owned()))
                .or_default();
            entry.0 += cnt;
            entry.1 += amount;
        }
        by_province
    }
}

/// A closed entry leaves the ledger this many calendar months after its last event.
pub const KEEP_CLOSED_MONTHS: i64 = 12;

/// Applies the month's events to `previous` and opens `opened` (SPEC §13).
/// `reversals`: the entries a reversal row of the month closes (already checked against
/// them: REV002 otherwise). `decisions`: `decisions.csv`'s accepted rows, in file order.
pub fn update(
    previous: &Ledger,
    month: &str,
    config: &Config,
    reversals: &[Key],
    decisions: &[Decision],
    opened: Vec<Entry>,
    decisions_file: &str,
) -> Update {
    let mut ledger = previous.clone();
    let mut out = Update::default();
    for entry in ledger.entries.values() {
        if let Some(balance) = out.balance.of(entry.kind) {
            balance.start += entry.amount;
        }
    }
    let mut touched: BTreeMap<Key, Event> = BTreeMap::new();
    let (events, balance) = (&mut out.events, &mut out.balance);
    let mut close =
        |entry: &mut Entry, event: Event, released: i64, decision: Option<&Decision>| {
            events.push(EventRow {
                fixmedins_code: entry.fixmedins_code.to_string(),
                setl_id: entry.setl_id.to_string(),
                insuplc_admdvs: entry.insuplc_admdvs.clone(),
                fix_blng_admdvs: entry.fix_blng_admdvs.clone(),
                clr_type: entry.clr_type.clone(),
                kind: entry.kind,
                event,
                settled: entry.amount,
                released_amount: released,
                decided_by: decision.map(|d| d.decided_by.clone()),
                decided_at: decision.map(|d| d.decided_at),
                note: decision.and_then(|d| d.note.clone()),
            });
            if let Some(balance) = balance.of(entry.kind) {
                balance.settled += entry.amount;
            }
            entry.kind = Kind::Closed;
            entry.amount = 0;
            entry.last_event = Some(event);
            entry.last_event_month = Some(month.to_owned());
        };
    let mut rejects = Vec::new();
    let mut releases: BTreeMap<(String, String, String), (u64, i64)> = BTreeMap::new();
    let mut deducts_opened = 0;

    // 1. Reversals: the entry closes and what was paid is taken back (in the clearing).
    for key in reversals {
        if let Some(entry) = ledger.entries.get_mut(key) {
            close(entry, Event::Reversed, 0, None);
            touched.insert(key.clone(), Event::Reversed);
        }
    }

    // 2. Decisions, in file order.
    for decision in decisions {
        let key: Key = (
            decision.fixmedins_code.as_str().into(),
            decision.setl_id.as_str().into(),
        );
        let reject = |column: &'static str, reason: Reason| Reject {
            file: decisions_file.to_owned(),
            line: decision.line,
            column: Some(column),
            reason,
        };
        let entry = match ledger.entries.get_mut(&key) {
            Some(entry) if touched.get(&key) == Some(&Event::Reversed) => {
                let _ = entry;
                rejects.push(reject("setl_id", Reason::DecisionOnReversed));
                continue;
            }
            Some(entry) if entry.kind != Kind::Closed => entry,
            found => {
                rejects.push(reject(
                    "setl_id",
                    Reason::DecisionNoEntry {
                        closed: found.is_some(),
                    },
                ));
                continue;
            }
        };
        let may_release = match entry.kind {
            Kind::Hold => entry.amount - entry.deductions,
            _ => entry.amount,
        };
        if decision.pay
            && let Some(amount) = decision.amount
            && (amount > may_release || amount < 0)
        {
            rejects.push(reject(
                "amount",
                Reason::DecisionAmountAbove {
                    amount,
                    may_release,
                },
            ));
            continue;
        }
        touched.insert(key.clone(), Event::Paid);
        match (entry.kind, decision.pay) {
            (Kind::Hold, true) => {
                let released = decision.amount.unwrap_or(may_release);
                release(&mut releases, entry, released);
                let deductions = entry.deductions;
                close(entry, Event::Paid, released, Some(decision));
                if deductions > 0 {
                    // The deductions stay open to appeal, from this month.
                    entry.kind = Kind::Deduct;
                    entry.amount = deductions;
                    entry.since = month.to_owned();
                    deducts_opened += deductions;
                }
            }
            (Kind::Hold, false) => close(entry, Event::Refused, 0, Some(decision)),
            (_, true) => {
                let released = decision.amount.unwrap_or(may_release);
                release(&mut releases, entry, released);
                close(entry, Event::Paid, released, Some(decision));
            }
            (_, false) => close(entry, Event::Upheld, 0, Some(decision)),
        }
    }

    // 3. Time: past its limit an entry is overdue; with close_overdue it closes.
    for (key, entry) in ledger.entries.iter_mut() {
        if touched.contains_key(key) || entry.kind == Kind::Closed {
            continue;
        }
        let settings = config.for_province(prov(&entry.insuplc_admdvs));
        if settings.close_overdue && is_overdue(entry, month, config) {
            let event = match entry.kind {
                Kind::Hold => Event::Expired,
                _ => Event::Upheld,
            };
            close(entry, event, 0, None);
        }
    }

    out.rejects = rejects;
    out.releases = releases;
    out.balance.deduct.opened += deducts_opened;

    // The month's new entries (a key closed by a reversal may be uploaded anew).
    for entry in opened {
        if let Some(balance) = out.balance.of(entry.kind) {
            balance.opened += entry.amount;
        }
        ledger.entries.insert(entry.key(), entry);
    }
    ledger.entries.retain(|_, entry| {
        entry.kind != Kind::Closed
            || entry
                .last_event_month
                .as_deref()
                .is_none_or(|last| months_between(last, month) < KEEP_CLOSED_MONTHS)
    });
    for entry in ledger.entries.values() {
        if let Some(balance) = out.balance.of(entry.kind) {
            balance.now += entry.amount;
        }
    }
    out.events
        .sort_by(|a, b| (&a.fixmedins_code, &a.setl_id).cmp(&(&b.fixmedins_code, &b.setl_id)));
    out.ledger = ledger;
    out
}

/// Pays `released` for an entry: it adds to what the fund paid, and to the month's releases
/// of the entry's area pair.
fn release(
    releases: &mut BTreeMap<(String, String, String), (u64, i64)>,
    entry: &mut Entry,
    released: i64,
) {
    entry.paid += released;
    let area = (
        entry.insuplc_admdvs.clone(),
        entry.fix_blng_admdvs.clone(),
        entry.clr_type.clone(),
    );
    let total = releases.entry(area).or_default();
    total.0 += 1;
    total.1 += released;
}

/// `months_open`: calendar months from the entry's `since` to `month`.
pub fn months_open(entry: &Entry, month: &str) -> i64 {
    months_between(&entry.since, month)
}

/// A hold open `hold_months` or more, or a deduct open `appeal_months` or more (by the
/// entry's insured province).
pub fn is_overdue(entry: &Entry, month: &str, config: &Config) -> bool {
    let settings = config.for_province(prov(&entry.insuplc_admdvs));
    let open = months_open(entry, month);
    match entry.kind {
        Kind::Hold => open >= i64::from(settings.hold_months),
        Kind::Deduct => open >= i64::from(settings.appeal_months),
        Kind::Closed => false,
    }
}

/// The entries a month's rows open (SPEC §13 "Entries"): each settlement row (not a
/// reversal, not a DUP001 copy, not DUP004, not excluded) held with a fund payment, or
/// cleared with money deducted.
pub fn opened(
    model: &crate::model::Model,
    scope: &crate::scope::Scope,
    rows: &crate::model::TiSlice<crate::model::SetlRow, crate::clearing::RowOutcome>,
    findings: &[crate::rules::Finding],
    month: &str,
) -> Vec<Entry> {
    use crate::clearing::Status;
    use crate::config::Level;
    // Per row: its hold and deduct rule codes, and what its deduct findings claim.
    let mut rules: BTreeMap<crate::model::SetlRow, (std::collections::BTreeSet<&str>, i64)> =
        BTreeMap::new();
    for f in findings {
        let Some(i) = f.row else { continue };
        match f.level {
            Level::Hold => {
                rules.entry(i).or_default().0.insert(f.rule);
            }
            Level::Deduct => {
                let row = rules.entry(i).or_default();
                row.0.insert(f.rule);
                row.1 += f.amount.unwrap_or(0);
            }
            Level::Flag => {}
        }
    }
    let mut entries = Vec::new();
    for (i, s) in model.settlements.iter_enumerated() {
        if !scope.is_checked_settlement(i) {
            continue;
        }
        let row = &rows[i];
        let fund = s.fund_pay_sumamt();
        let (codes, claimed) = rules.get(&i).cloned().unwrap_or_default();
        let (kind, amount, paid, deductions) = match row.status {
            Status::Held if fund != 0 => (
                Kind::Hold,
                fund,
                0,
                // §7's disputed_amount, computed as for a cleared row.
                if claimed > 0 {
                    claimed.min(s.amount(Money::HifpPay).max(0))
                } else {
                    0
                },
            ),
            Status::Cleared if row.disputed_amount > 0 => {
                (Kind::Deduct, row.disputed_amount, row.cleared_amount, 0)
            }
            _ => continue,
        };
        entries.push(Entry {
            fixmedins_code: s.fixmedins_code.clone(),
            setl_id: s.setl_id.clone(),
            psn_no: s.psn_no.to_string(),
            insuplc_admdvs: s.insuplc_admdvs.to_string(),
            fix_blng_admdvs: scope.treatment[i].to_string(),
            clr_type: s.clr_type.to_string(),
            first_month: month.to_owned(),
            since: month.to_owned(),
            kind,
            amount,
            fund_pay_sumamt: fund,
            paid,
            deductions,
            rules: codes.into_iter().collect::<Vec<_>>().join(";"),
            last_event: None,
            last_event_month: None,
        });
    }
    entries
}

/// The accepted rows of `decisions.csv` (its ingested frame), in file order.
pub fn decisions_of(
    frame: &polars::prelude::DataFrame,
) -> polars::prelude::PolarsResult<Vec<Decision>> {
    let text = |name: &str| -> polars::prelude::PolarsResult<Vec<Option<String>>> {
        Ok(frame
            .column(name)?
            .str()?
            .iter()
            .map(|v| v.map(str::to_owned))
            .collect())
    };
    let ints = |name: &str| -> polars::prelude::PolarsResult<Vec<Option<i64>>> {
        Ok(frame
            .column(name)?
            .as_materialized_series()
            .to_physical_repr()
            .i64()?
            .iter()
            .collect())
    };
    let (lines, codes, ids, decisions) = (
        ints("line")?,
        text("fixmedins_code")?,
        text("setl_id")?,
        text("decision")?,
    );
    let (amounts, by, at, notes) = (
        ints("amount")?,
        text("decided_by")?,
        ints("decided_at")?,
        text("note")?,
    );
    Ok((0..frame.height())
        .map(|k| Decision {
            line: lines[k].unwrap_or_default() as u64,
            fixmedins_code: codes[k].clone().unwrap_or_default(),
            setl_id: ids[k].clone().unwrap_or_default(),
            pay: decisions[k].as_deref() == Some("pay"),
            amount: amounts[k],
            decided_by: by[k].clone().unwrap_or_default(),
            decided_at: at[k].unwrap_or_default(),
            note: notes[k].clone(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entry(k: usize, kind: Kind, amount: i64, deductions: i64, month: &str) -> Entry {
        Entry {
            fixmedins_code: "H44010000001".into(),
            setl_id: format!("S{k:03}").as_str().into(),
            psn_no: format!("P{k}"),
            insuplc_admdvs: ["360100", "430100", "440300"][k % 3].to_owned(),
            fix_blng_admdvs: "440100".to_owned(),
            clr_type: "21".to_owned(),
            first_month: month.to_owned(),
            since: month.to_owned(),
            kind,
            amount: if kind == Kind::Closed { 0 } else { amount },
            fund_pay_sumamt: amount.max(deductions),
            paid: 0,
            deductions: if kind == Kind::Hold { deductions } else { 0 },
            // A hold rule of the registry (codes are written once, there).
            rules: crate::rules::RULES
                .iter()
                .find(|r| r.level == crate::config::Level::Hold)
                .map(|r| r.code.to_owned())
                .unwrap_or_default(),
            last_event: (kind == Kind::Closed).then_some(Event::Paid),
            last_event_month: (kind == Kind::Closed).then(|| month.to_owned()),
        }
    }

    #[test]
    fn a_closed_entry_leaves_the_ledger_twelve_months_after_its_last_event() {
        let mut ledger = Ledger::default();
        for (k, last) in [(1, "2025-11"), (2, "2025-12")] {
            let mut e = entry(k, Kind::Closed, 100, 0, "2025-10");
            e.last_event_month = Some(last.to_owned());
            ledger.entries.insert(e.key(), e);
        }
        let update = update(
            &ledger,
            "2026-11",
            &Config::default(),
            &[],
            &[],
            Vec::new(),
            "d",
        );
        let left: Vec<&str> = update
            .ledger
            .entries
            .values()
            .map(|e| e.setl_id.as_str())
            .collect();
        assert_eq!(
            left,
            ["S002"],
            "closed 2025-11 leaves in 2026-11; 2025-12 stays"
        );
    }

    proptest! {
        /// Whatever the events, per kind: pending at the start + opened = settled + pending
        /// now; releases are the paid events' money; every decision applies or is rejected.
        #[test]
        fn the_balance_holds_whatever_the_events(
            previous in prop::collection::vec((0..3usize, 0..100_000i64, 0..5_000i64, 0..8i64), 0..30),
            reversed in prop::collection::vec(0..40usize, 0..6),
            decisions in prop::collection::vec((0..40usize, any::<bool>(), prop::option::of(-10..120_000i64)), 0..30),
            opened in prop::collection::vec((0..2usize, 1..100_000i64), 0..10),
            close_overdue in any::<bool>(),
        ) {
            let mut ledger = Ledger::default();
            for (k, (kind, amount, deductions, age)) in previous.iter().enumerate() {
                let kind = [Kind::Hold, Kind::Deduct, Kind::Closed][*kind];
                let month = format!("2026-{:02}", 10 - age);
                let e = entry(k, kind, *amount, (*deductions).min(*amount), &month);
                ledger.entries.insert(e.key(), e);
            }
            let reversals: Vec<Key> = reversed
                .iter()
                .filter_map(|k| ledger.entries.keys().nth(*k).cloned())
                .collect();
            let decisions: Vec<Decision> = decisions
                .iter()
                .enumerate()
                .map(|(line, (k, pay, amount))| Decision {
                    line: line as u64 + 2,
                    fixmedins_code: "H44010000001".to_owned(),
                    setl_id: format!("S{k:03}"),
                    pay: *pay,
                    amount: *amount,
                    decided_by: "A".to_owned(),
                    decided_at: 0,
                    note: None,
                })
                .collect();
            let opened: Vec<Entry> = opened
                .iter()
                .enumerate()
                .map(|(k, (kind, amount))| {
                    entry(100 + k, [Kind::Hold, Kind::Deduct][*kind], *amount, 0, "2026-11")
                })
                .collect();
            let mut config = Config::default();
            config.defaults.close_overdue = close_overdue;
            config.defaults.hold_months = 2;
            config.defaults.appeal_months = 1;
            let update = update(&ledger, "2026-11", &config, &reversals, &decisions, opened, "decisions.csv");
            prop_assert!(update.balance.hold.holds(), "{:?}", update.balance);
            prop_assert!(update.balance.deduct.holds(), "{:?}", update.balance);
            let released: i64 = update.events.iter().map(|e| e.released_amount).sum();
            prop_assert_eq!(released, update.releases.values().map(|v| v.1).sum::<i64>());
            let decided = update.events.iter().filter(|e| e.decided_by.is_some()).count();
            prop_assert_eq!(decided + update.rejects.len(), decisions.len());
            for e in &update.events {
                prop_assert!(e.released_amount >= 0);
                prop_assert!(e.released_amount <= e.settled.max(0) || e.kind == Kind::Closed);
            }
            for e in update.ledger.entries.values() {
                prop_assert!(e.kind != Kind::Closed || e.amount == 0);
            }
        }
    }
}
