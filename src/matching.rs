//! Matching each settlement to the patient's filing (SPEC §4 "Which settlements need a
//! filing", "Matching").
//!
//! Filings are indexed by person (`psn_no`); each settlement then looks
//! only at its person's few filings, in parallel (rayon). A settlement that needs a filing
//! either matches one, is deemed filed as an emergency, or fails with exactly one reason,
//! the first that holds in SPEC §4's order ([`NoValidFiling`]). These are facts; the
//! filing rules (FIL001–FIL006) decide from them, one reason each.

use polars::prelude::PlHashMap as HashMap;
use std::cmp::Ordering;

use rayon::prelude::*;

use crate::config::{Config, IntraProvinceFiling};
use crate::model::{Filing, FilingRow, PerSettlement, SetlRow, Settlement, TiSlice, prov};
use crate::scope::Scope;
use crate::units;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Not checked (excluded, a reversal, a copy) or needs no filing.
    NotNeeded,
    /// The filing matched.
    Matched(FilingRow),
    /// No filing matched, and the settlement is an emergency: deemed filed.
    Emergency,
    /// No filing matched: why, and the filing that made it true.
    Failed {
        reason: NoValidFiling,
        filing: Option<FilingRow>,
    },
}

/// Why no filing matched, in SPEC §4's order: the first that holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoValidFiling {
    /// A covering filing begun and not ended was cancelled before admission.
    Cancelled,
    /// A covering filing had begun but ended.
    Expired,
    /// A covering filing had not begun.
    NotBegun,
    /// A covering filing, valid, was filed after the settlement.
    FiledAfter,
    /// A valid filing of the person covers another area.
    OtherArea,
    /// None at all.
    None,
}

/// Whether a settlement needs a filing: across provinces always; inside one province as
/// the insured province's `intra_province_filing` says.
pub fn needs_filing(s: &Settlement, treatment: &str, config: &Config) -> bool {
    let insured_prov = prov(&s.insuplc_admdvs);
    if insured_prov != prov(treatment) {
        return true;
    }
    match config.for_province(insured_prov).intra_province_filing {
        IntraProvinceFiling::None => false,
        IntraProvinceFiling::Inpatient => s.is_inpatient(),
        IntraProvinceFiling::All => true,
    }
}

/// The match order: latest `begndate`, then latest `crte_time`, then smallest id.
fn preferred(a: &Filing, b: &Filing) -> Ordering {
    b.begndate
        .cmp(&a.begndate)
        .then(b.crte_time.cmp(&a.crte_time))
        .then(a.trt_dcla_detl_sn.cmp(&b.trt_dcla_detl_sn))
}

/// The conditions (a)–(d) of SPEC §4 for one filing and one settlement.
struct Conditions {
    begun: bool,
    not_ended: bool,
    not_cancelled: bool,
    filed_before: bool,
}

fn conditions(f: &Filing, s: &Settlement) -> Conditions {
    let d = s.begndate;
    let cancelled_on = units::days_since_epoch(units::time_from_millis(f.updt_time).date());
    Conditions {
        begun: f.begndate <= d,
        not_ended: f.enddate.is_none_or(|end| d <= end),
        not_cancelled: f.valid || d < cancelled_on,
        filed_before: f.crte_time <= s.setl_time,
    }
}

/// Filings by `psn_no`.
pub struct FilingIndex<'a> {
    filings: &'a TiSlice<FilingRow, Filing>,
    by_person: HashMap<&'a str, Vec<FilingRow>>,
}

impl<'a> FilingIndex<'a> {
    pub fn new(filings: &'a TiSlice<FilingRow, Filing>) -> Self {
        // About a filing a person: room for every one, no rehashing.
        let mut by_person: HashMap<&str, Vec<FilingRow>> =
            HashMap::with_capacity_and_hasher(filings.len(), Default::default());
        for (i, f) in filings.iter_enumerated() {
            by_person.entry(&f.psn_no).or_default().push(i);
        }
        FilingIndex { filings, by_person }
    }

    /// `F_P`: the filings of the settlement's person, insurance type and insured place.
    fn of(&self, s: &Settlement) -> Vec<FilingRow> {
        self.by_person
            .get(s.psn_no.as_str())
            .into_iter()
            .flatten()
            .copied()
            .filter(|&i| {
                let f = &self.filings[i];
                f.insutype == s.insutype && f.insu_admdvs == s.insuplc_admdvs
            })
            .collect()
    }
}

/// Matches one settlement, given its treatment place.
pub fn match_settlement(
    s: &Settlement,
    treatment: &str,
    filings: &TiSlice<FilingRow, Filing>,
    index: &FilingIndex,
) -> Outcome {
    let province_area = format!("{}0000", prov(treatment));
    let person = index.of(s);
    let covers = |f: &Filing| f.rloc_admdvs == treatment || f.rloc_admdvs == province_area;
    let pick = |candidates: &mut dyn Iterator<Item = FilingRow>| {
        candidates.min_by(|&a, &b| preferred(&filings[a], &filings[b]))
    };
    let area: Vec<(FilingRow, Conditions)> = person
        .iter()
        .filter(|&&i| covers(&filings[i]))
        .map(|&i| (i, conditions(&filings[i], s)))
        .collect();
    if let Some(i) = pick(&mut area.iter().filter_map(|(i, c)| {
        (c.begun && c.not_ended && c.not_cancelled && c.filed_before).then_some(*i)
    })) {
        return Outcome::Matched(i);
    }
    if s.is_emergency() {
        return Outcome::Emergency;
    }
    let failed = |reason, test: &dyn Fn(&Conditions) -> bool| {
        pick(&mut area.iter().filter_map(|(i, c)| test(c).then_some(*i))).map(|i| Outcome::Failed {
            reason,
            filing: Some(i),
        })
    };
    use NoValidFiling::*;
    failed(Cancelled, &|c| c.begun && c.not_ended && !c.not_cancelled)
        .or_else(|| failed(Expired, &|c| c.begun && !c.not_ended))
        .or_else(|| failed(NotBegun, &|c| c.not_ended && !c.begun))
        .or_else(|| {
            failed(FiledAfter, &|c| {
                c.begun && c.not_ended && c.not_cancelled && !c.filed_before
            })
        })
        .or_else(|| {
            pick(&mut person.iter().copied().filter(|&i| {
                let f = &filings[i];
                let c = conditions(f, s);
                !covers(f) && c.begun && c.not_ended && c.not_cancelled
            }))
            .map(|i| Outcome::Failed {
                reason: OtherArea,
                filing: Some(i),
            })
        })
        .unwrap_or(Outcome::Failed {
            reason: None,
            filing: Option::None,
        })
}

/// The outcome of every settlement row, given the index of its filings.
pub fn match_all(
    settlements: &TiSlice<SetlRow, Settlement>,
    index: &FilingIndex,
    scope: &Scope,
    config: &Config,
) -> PerSettlement<Outcome> {
    let filings = index.filings;
    let outcomes: Vec<Outcome> = settlements
        .raw
        .par_iter()
        .enumerate()
        .map(|(i, s)| {
            let i = SetlRow(i);
            let treatment = &scope.treatment[i];
            if !scope.is_checked_settlement(i) || !needs_filing(s, treatment, config) {
                Outcome::NotNeeded
            } else {
                match_settlement(s, treatment, filings, index)
            }
        })
        .collect();
    outcomes.into()
}
