//! Which settlement rows are checked, and as what (SPEC §4 "Scope", §12).
//!
//! Every accepted setlinfo row is one of: excluded (outside the month: PER001; insured
//! place equal to the treatment place: RTE001), a reversal, or a settlement. Among the rows
//! not excluded, a repeated (`fixmedins_code`, `setl_id`) makes the later rows DUP001 copies
//! that no other rule looks at. Reversals are paired with their originals here, so that
//! every later stage knows which settlements are reversed.

use polars::prelude::{PlHashMap as HashMap, PlSmallStr};

use chrono::NaiveDate;

use crate::model::{Hospital, Money, PerSettlement, SetlRow, Settlement, TiSlice};
use crate::units;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// PER001: `setl_time` outside the month.
    OutsideMonth,
    /// RTE001: insured place equal to the treatment place.
    SameArea,
    Reversal,
    Settlement,
}

/// Why a reversal does not cleanly reverse an original of the month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReversalProblem {
    /// REV001: its original is not in the month.
    OriginalNotInMonth,
    /// REV002: no `init_setl_id`.
    NoOriginalId,
    /// REV002: an earlier reversal line already reversed the original (its index).
    AlreadyReversed { original: SetlRow, by: SetlRow },
    /// REV002: money columns that are not the negatives of the original's.
    AmountsDiffer {
        original: SetlRow,
        columns: Vec<&'static str>,
    },
    /// REV002: its original is an entry of the previous ledger that a reversal already
    /// closed (SPEC §13).
    EntryAlreadyReversed,
    /// REV002: its `fund_pay_sumamt` is not the negative of the ledger entry's (fen).
    EntryAmountDiffers { entry_fund: i64 },
}

#[derive(Debug, Clone)]
pub struct Scope {
    /// The treatment place of each row: its hospital's `fix_blng_admdvs`, or its own
    /// `mdtrtarea_admvs` when the hospital is not in the registry.
    pub treatment: PerSettlement<PlSmallStr>,
    pub class: PerSettlement<Class>,
    /// DUP001: for a copy, the index of the row that stands for it.
    pub copy_of: PerSettlement<Option<SetlRow>>,
    /// For a reversal: its problem, if any.
    pub reversal_problem: PerSettlement<Option<ReversalProblem>>,
    /// A reversed settlement and the reversal that reversed it, each marked; and a
    /// reversal of a ledger entry the fund paid nothing for.
    pub reversed: PerSettlement<bool>,
    /// DUP004: a settlement uploaded again, whose key is an entry of the previous ledger
    /// (SPEC §13). Like a DUP001 copy, no other rule looks at it.
    pub reupload: PerSettlement<bool>,
    /// A reversal that closes an entry of the previous ledger: what the fund paid for it,
    /// which it takes back (SPEC §13 1.).
    pub ledger_reversal: PerSettlement<Option<i64>>,
    /// The keys of the entries those reversals close.
    pub closed_entries: Vec<crate::ledger::Key>,
    /// Rows "in order": by (`setl_time`, `fixmedins_code`, `setl_id`).
    pub order: Vec<SetlRow>,
}

impl Scope {
    /// Looked at by the rules of settlements: a settlement, not excluded, not a copy.
    pub fn is_checked_settlement(&self, i: SetlRow) -> bool {
        self.class[i] == Class::Settlement && self.copy_of[i].is_none() && !self.reupload[i]
    }

    pub fn is_excluded(&self, i: SetlRow) -> bool {
        matches!(self.class[i], Class::OutsideMonth | Class::SameArea)
    }
}

/// The first and last millisecond of a month, `YYYY-MM`.
pub fn month_window(month: &str) -> (i64, i64) {
    let (year, mon) = units::parse_month(month).expect("a checked month");
    let first = NaiveDate::from_ymd_opt(year, mon, 1).expect("a real month");
    let next = if mon == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, mon + 1, 1)
    }
    .expect("a real month");
    let start = units::millis_since_epoch(first.and_hms_opt(0, 0, 0).expect("midnight"));
    let end = units::millis_since_epoch(next.and_hms_opt(0, 0, 0).expect("midnight")) - 1;
    (start, end)
}

pub fn classify(
    settlements: &TiSlice<SetlRow, Settlement>,
    hospitals: &HashMap<String, Hospital>,
    month: &str,
    previous: &crate::ledger::Ledger,
) -> Scope {
    let n = settlements.len();
    let (start, end) = month_window(month);
    let treatment: PerSettlement<PlSmallStr> = settlements
        .iter()
        .map(|s| match hospitals.get(s.fixmedins_code.as_str()) {
            Some(h) => PlSmallStr::from_str(&h.fix_blng_admdvs),
            None => s.mdtrtarea_admvs.clone(),
        })
        .collect();
    let class: PerSettlement<Class> = settlements
        .iter()
        .zip(treatment.iter())
        .map(|(s, place)| {
            if s.setl_time < start || s.setl_time > end {
                Class::OutsideMonth
            } else if s.insuplc_admdvs == place {
                Class::SameArea
            } else if s.reversal {
                Class::Reversal
            } else {
                Class::Settlement
            }
        })
        .collect();

    // Rows by (hospital directory, line): the file order copies and reversals follow.
    let mut by_file: Vec<SetlRow> = settlements.keys().collect();
    by_file.sort_by(|&a, &b| {
        (&settlements[a].hospital_dir, settlements[a].line)
            .cmp(&(&settlements[b].hospital_dir, settlements[b].line))
    });

    let mut copy_of: PerSettlement<Option<SetlRow>> = vec![None; n].into();
    let mut first: HashMap<(&str, &str), SetlRow> = HashMap::default();
    for &i in &by_file {
        if matches!(class[i], Class::OutsideMonth | Class::SameArea) {
            continue;
        }
        let key = (
            settlements[i].fixmedins_code.as_str(),
            settlements[i].setl_id.as_str(),
        );
        match first.get(&key) {
            Some(&kept) => copy_of[i] = Some(kept),
            None => {
                first.insert(key, i);
            }
        }
    }

    // DUP004: a settlement whose key is an entry of the previous ledger not reversed.
    let reupload: PerSettlement<bool> = settlements
        .keys()
        .map(|i| {
            let s = &settlements[i];
            class[i] == Class::Settlement
                && copy_of[i].is_none()
                && !previous.is_empty()
                && previous
                    .get(&s.fixmedins_code, &s.setl_id)
                    .is_some_and(|e| !e.is_reversed())
        })
        .collect();

    let mut reversal_problem: PerSettlement<Option<ReversalProblem>> = vec![None; n].into();
    let mut reversed: PerSettlement<bool> = vec![false; n].into();
    let mut reversed_by: HashMap<SetlRow, SetlRow> = HashMap::default();
    let mut ledger_reversal: PerSettlement<Option<i64>> = vec![None; n].into();
    let mut closed_entries: Vec<crate::ledger::Key> = Vec::new();
    let mut closed: polars::prelude::PlHashSet<crate::ledger::Key> = Default::default();
    for &i in &by_file {
        if class[i] != Class::Reversal || copy_of[i].is_some() {
            continue;
        }
        let s = &settlements[i];
        let Some(init) = s.init_setl_id.as_deref() else {
            reversal_problem[i] = Some(ReversalProblem::NoOriginalId);
            continue;
        };
        // DUP004 rows are never originals (SPEC §13).
        let original = first
            .get(&(s.fixmedins_code.as_str(), init))
            .copied()
            .filter(|&o| class[o] == Class::Settlement && !reupload[o]);
        let Some(original) = original else {
            // Not in the month: an entry of the previous ledger, checked against it.
            reversal_problem[i] = match previous.get(&s.fixmedins_code, init) {
                None => Some(ReversalProblem::OriginalNotInMonth),
                Some(entry) => {
                    let key = entry.key();
                    if entry.is_reversed() || closed.contains(&key) {
                        Some(ReversalProblem::EntryAlreadyReversed)
                    } else if s.fund_pay_sumamt() != -entry.fund_pay_sumamt {
                        Some(ReversalProblem::EntryAmountDiffers {
                            entry_fund: entry.fund_pay_sumamt,
                        })
                    } else {
                        ledger_reversal[i] = Some(entry.paid);
                        // Nothing paid: nothing to take back, and no money moves.
                        reversed[i] = entry.paid == 0;
                        closed.insert(key.clone());
                        closed_entries.push(key);
                        None
                    }
                }
            };
            continue;
        };
        if let Some(&by) = reversed_by.get(&original) {
            reversal_problem[i] = Some(ReversalProblem::AlreadyReversed { original, by });
            continue;
        }
        let columns: Vec<&'static str> = Money::ALL
            .into_iter()
            .filter(|&m| s.money[m] != -settlements[original].money[m])
            .map(Money::name)
            .collect();
        if !columns.is_empty() {
            reversal_problem[i] = Some(ReversalProblem::AmountsDiffer { original, columns });
            continue;
        }
        reversed_by.insert(original, i);
        reversed[original] = true;
        reversed[i] = true;
    }

    let mut order: Vec<SetlRow> = settlements.keys().collect();
    use rayon::prelude::*;
    order.par_sort_by(|&a, &b| {
        let (x, y) = (&settlements[a], &settlements[b]);
        (
            x.setl_time,
            &x.fixmedins_code,
            &x.setl_id,
            &x.hospital_dir,
            x.line,
        )
            .cmp(&(
                y.setl_time,
                &y.fixmedins_code,
                &y.setl_id,
                &y.hospital_dir,
                y.line,
            ))
    });

    Scope {
        treatment,
        class,
        copy_of,
        reversal_problem,
        reversed,
        reupload,
        ledger_reversal,
        closed_entries,
        order,
    }
}
