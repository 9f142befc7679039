//! Fund payment by the insured place's policy (SPEC §6, 参保地政策), and the fee lines
//! attached to the settlements they belong to.
//!
//! The policy row is looked up by (pooling area, tier), (pooling area, `*`), (province,
//! tier), (province, `*`), each among the rows of the settlement's `insutype` and `med_grp`
//! valid on its `begndate`, the latest `begndate` first, ties to the first in the file. The
//! expected basic-pool payment then spends the person's deductible and annual cap, kept per
//! (`psn_no`, `insutype`, `med_grp`) from ytd.csv, taking the settlements in order.

use polars::prelude::PlHashMap as HashMap;

use crate::codes::{Insutype, MedGrp};
use crate::model::Money;
use crate::model::{Model, PerLine, PerSettlement, PolicyRow, SetlRow, Settlement, prov, tier};
use crate::scope::{Class, Scope};
use crate::units::div_round;

/// The ratio scale: `pool_prop` is in units of 0.0001.
const RATIO_ONE: i128 = 10_000;

/// Policy rows by (`insuplc_admdvs`, `insutype`, `med_grp`), in file order.
pub struct PolicyIndex<'a> {
    rows: HashMap<(&'a str, Insutype, MedGrp), Vec<&'a PolicyRow>>,
}

impl<'a> PolicyIndex<'a> {
    pub fn new(policy: &'a [PolicyRow]) -> Self {
        let mut rows: HashMap<(&str, Insutype, MedGrp), Vec<&PolicyRow>> = HashMap::default();
        for row in policy {
            rows.entry((&row.insuplc_admdvs, row.insutype, row.med_grp))
                .or_default()
                .push(row);
        }
        PolicyIndex { rows }
    }

    /// The policy row of a settlement at a hospital of `hospital_tier` (`None`: unknown
    /// hospital, `*` rows only).
    pub fn lookup(&self, s: &Settlement, hospital_tier: Option<&str>) -> Option<&'a PolicyRow> {
        let province = format!("{}0000", prov(&s.insuplc_admdvs));
        let areas = [s.insuplc_admdvs.as_str(), province.as_str()];
        let tiers = [hospital_tier, Some("*")];
        for area in areas {
            let Some(rows) = self.rows.get(&(area, s.insutype, s.med_grp())) else {
                continue;
            };
            for level in tiers.iter().flatten() {
                let found = rows
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| {
                        r.dedc_hosp_lv == *level
                            && r.begndate <= s.begndate
                            && r.enddate.is_none_or(|end| s.begndate <= end)
                    })
                    .min_by_key(|(k, r)| (std::cmp::Reverse(r.begndate), *k))
                    .map(|(_, r)| *r);
                if found.is_some() {
                    return found;
                }
            }
        }
        None
    }
}

/// What §6 gives each settlement row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// Not a participant: excluded by PER001, a reversal, reversed, or a DUP001 copy.
    NotApplied,
    /// A participant with no policy row (POL006).
    NoPolicy,
    /// The expected basic-pool payment, fen.
    Hifp(i64),
}

/// `round(min(max(inscp − dedc, 0) × pool_prop, cap_left), 2)` in fen.
pub fn expected_hifp(inscp: i64, dedc: i64, pool_prop: i64, cap_left: i64) -> i64 {
    let scaled = i128::from((inscp - dedc).max(0)) * i128::from(pool_prop);
    let capped = scaled.min(i128::from(cap_left.max(0)) * RATIO_ONE);
    div_round(capped, RATIO_ONE) as i64
}

/// One settlement's claim on its person's deductible and cap: who, in scope, by which row.
pub struct Claim<'a, K> {
    pub key: K,
    pub inscp: i64,
    pub policy: &'a PolicyRow,
}

/// Takes the claims in order, each spending its key's deductible and cap (starting from
/// `start`, the year-to-date figures), and returns each one's expected payment:
/// `used` grows by `min(dedc, inscp)`, `paid` by the expected payment.
pub fn spend_in_order<K: std::hash::Hash + Eq + Clone>(
    claims: &[Claim<'_, K>],
    start: impl Fn(&K) -> (i64, i64),
) -> Vec<i64> {
    let mut spent: HashMap<K, (i64, i64)> = HashMap::default();
    claims
        .iter()
        .map(|claim| {
            let (used, paid) = spent
                .entry(claim.key.clone())
                .or_insert_with(|| start(&claim.key));
            let row = claim.policy;
            let dedc = if row.per_year {
                (row.dedc_std - *used).max(0)
            } else {
                row.dedc_std
            };
            let hifp = expected_hifp(claim.inscp, dedc, row.pool_prop, row.cap_year - *paid);
            *used += dedc.min(claim.inscp);
            *paid += hifp;
            hifp
        })
        .collect()
}

/// The expected payment of every settlement row.
pub fn compute(model: &Model, scope: &Scope) -> PerSettlement<Expected> {
    let index = PolicyIndex::new(&model.policy);
    let mut expected: PerSettlement<Expected> =
        vec![Expected::NotApplied; model.settlements.len()].into();
    let mut claims = Vec::new();
    let mut rows = Vec::new();
    for &i in &scope.order {
        let takes_part = matches!(scope.class[i], Class::Settlement | Class::SameArea)
            && scope.copy_of[i].is_none()
            && !scope.reupload[i]
            && !scope.reversed[i];
        if !takes_part {
            continue;
        }
        let s = &model.settlements[i];
        let hospital_tier = model
            .hospitals
            .get(s.fixmedins_code.as_str())
            .map(|h| tier(&h.hosp_lv));
        let Some(policy) = index.lookup(s, hospital_tier) else {
            expected[i] = Expected::NoPolicy;
            continue;
        };
        claims.push(Claim {
            key: (s.psn_no.as_str(), s.insutype, s.med_grp()),
            inscp: s.amount(Money::InscpScpAmt),
            policy,
        });
        rows.push(i);
    }
    let paid = spend_in_order(&claims, |key| {
        model
            .ytd
            .get(&(key.0.to_owned(), key.1, key.2))
            .copied()
            .unwrap_or_default()
    });
    for (i, hifp) in rows.into_iter().zip(paid) {
        expected[i] = Expected::Hifp(hifp);
    }
    expected
}

/// The settlement row each fee line belongs to: by (hospital directory, `setl_id`), the row
/// that stands for its key (not a DUP001 copy, not excluded, when there is one).
pub fn attach_lines(model: &Model, scope: &Scope) -> PerLine<Option<SetlRow>> {
    let mut standing: HashMap<(&str, &str), SetlRow> = HashMap::default();
    for (i, s) in model.settlements.iter_enumerated() {
        let key = (s.hospital_dir.as_str(), s.setl_id.as_str());
        let better = |current: SetlRow| {
            let rank = |k: SetlRow| (scope.copy_of[k].is_some() || scope.is_excluded(k), k);
            rank(i) < rank(current)
        };
        match standing.get(&key) {
            Some(&current) if !better(current) => {}
            _ => {
                standing.insert(key, i);
            }
        }
    }
    let lines = &model.fee_lines;
    use rayon::prelude::*;
    let owners: Vec<Option<SetlRow>> = (0..lines.len())
        .into_par_iter()
        .map(|k| {
            standing
                .get(&(&lines.hospital_dir[k], &lines.setl_id[k]))
                .copied()
        })
        .collect();
    owners.into()
}

#[cfg(test)]
mod tests {
    use super::expected_hifp;

    #[test]
    fn the_nanchang_example() {
        // 10 800.00 in scope, 800 deductible per stay, 85%: 8 500.00.
        assert_eq!(expected_hifp(1_080_000, 80_000, 8_500, 50_000_000), 850_000);
    }

    #[test]
    fn the_cap_and_the_deductible_bound_it() {
        assert_eq!(expected_hifp(50_000, 80_000, 8_500, 1_000_000), 0);
        assert_eq!(expected_hifp(1_080_000, 80_000, 8_500, 100_000), 100_000);
        assert_eq!(expected_hifp(1_080_000, 80_000, 8_500, -5), 0);
        // 0.01 × 0.85 = 0.0085 rounds half away from zero to 0.01.
        assert_eq!(expected_hifp(1, 0, 8_500, 100), 1);
        assert_eq!(expected_hifp(1, 0, 4_999, 100), 0);
    }
}
