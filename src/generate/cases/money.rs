//! The money of a case's settlements, by the insured place's policy and the year so far.

use super::*;

impl Gen<'_> {
    /// Totals from the lines, the fund payment by the insured place's policy (§6, in
    /// settlement order), the other funds and the person's share.
    pub(super) fn money(&mut self, group: &mut [Setl]) {
        for s in group.iter_mut() {
            let m = &mut s.m;
            *m = Money::default();
            for l in &s.lines {
                m.medfee += l.sum;
                m.fulamt += l.fulamt;
                m.preselfpay += l.pre;
                m.inscp += l.inscp;
            }
        }
        let mut order: Vec<usize> = (0..group.len()).collect();
        order.sort_by(|&a, &b| {
            (group[a].setl_time, &group[a].id).cmp(&(group[b].setl_time, &group[b].id))
        });
        let year = self.first.year();
        let mut acc: BTreeMap<&'static str, (i64, i64)> = BTreeMap::new();
        let tier = reference::tier(self.h.hosp_lv);
        for k in order {
            let s = &mut group[k];
            let grp = s.med_grp();
            let row = if s.reversal {
                None
            } else {
                reference::lookup(
                    self.shared.policy,
                    &s.person.insured,
                    s.person.insutype,
                    grp,
                    Some(tier),
                    s.begndate,
                )
            };
            let mut hifp = s.m.inscp / 2;
            if let Some(row) = row.filter(|_| s.accumulates) {
                if !acc.contains_key(grp) {
                    let start = self.ytd(&s.person, grp, year, row);
                    acc.insert(grp, start);
                }
                let (used, paid) = acc.get_mut(grp).expect("just inserted");
                let dedc = if row.yearly {
                    (row.dedc - *used).max(0)
                } else {
                    row.dedc
                };
                let cap_left = (row.cap - *paid).max(0);
                let above = (s.m.inscp - dedc).max(0) as i128 * row.pool as i128;
                let expected = div_round(above.min(cap_left as i128 * 10_000), 10_000) as i64;
                *used += dedc.min(s.m.inscp);
                *paid += expected;
                s.m.dedc = dedc.min(s.m.inscp);
                hifp = expected;
                if !s.excluded {
                    s.expected_hifp = Some(expected);
                }
            }
            let share = s.m.medfee - hifp;
            let delta = if s.hifp_delta > 0 {
                s.hifp_delta.min(share)
            } else {
                -((-s.hifp_delta).min(hifp / 2))
            };
            match s.expected_hifp {
                Some(expected) if delta > 1 => {
                    s.expects
                        .push(Expect::new("POL001", "deduct", Amount::Fixed(delta)));
                    hifp = expected + delta;
                }
                Some(expected) if delta < -1 => {
                    s.expects
                        .push(Expect::new("POL002", "flag", Amount::Fixed(-delta)));
                    hifp = expected + delta;
                }
                _ => {}
            }
            let inpatient = s.inpatient();
            let employee = s.person.insutype == "310";
            let m = &mut s.m;
            m.hifp = hifp;
            let mut share = m.medfee - hifp;
            if inpatient && share > 2_000_000 {
                m.hifmi = div_round((share - 2_000_000) as i128 * 5_000, 10_000) as i64;
                share -= m.hifmi;
            }
            if employee && inpatient && self.rng.random_bool(0.1) {
                m.cvlserv = share.min(10_000);
                share -= m.cvlserv;
            }
            if self.rng.random_bool(0.02) {
                m.maf = share.min(5_000);
                share -= m.maf;
            }
            m.fund = m.hifp + m.cvlserv + m.hifes + m.hifmi + m.hifob + m.maf + m.oth;
            m.psn_part = share;
            m.acct = if employee {
                share.min(self.rng.random_range(0..=50_000))
            } else {
                0
            };
            m.cash = share - m.acct;
        }
    }

    /// The person's year-to-date figures, written to ytd.csv for some persons.
    pub(super) fn ytd(
        &mut self,
        p: &Person,
        grp: &'static str,
        year: i32,
        row: &PolicyRow,
    ) -> (i64, i64) {
        if grp == "ip" || !self.rng.random_bool(0.4) {
            return (0, 0);
        }
        let used = if row.yearly {
            self.rng.random_range(0..=row.dedc / 100) * 100
        } else {
            0
        };
        let paid = if self.rng.random_bool(0.2) {
            (row.cap - self.rng.random_range(0..50_000)).max(0)
        } else {
            self.rng.random_range(0..=row.cap / 200) * 100
        };
        let _ = writeln!(
            self.chunk.ytd,
            "{},{},{grp},{year},{},{}",
            p.psn_no,
            p.insutype,
            money(used),
            money(paid)
        );
        if self.rng.random_bool(0.1) {
            let _ = writeln!(
                self.chunk.ytd,
                "{},{},{grp},{},{},{}",
                p.psn_no,
                p.insutype,
                year - 1,
                money(row.dedc),
                money(row.cap / 3)
            );
        }
        (used, paid)
    }
}
