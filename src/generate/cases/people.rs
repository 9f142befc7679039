//! Persons, areas, ids, filings, dates, fee lines and settlements of a case.

use super::*;

impl Gen<'_> {
    pub(super) fn kind_of(&self, j: usize) -> Kind {
        if self.h.no_opsp && j == 1 {
            return Kind::Hos002;
        }
        let period = self.shared.plan.anomaly_period;
        if j % period != period - 1 {
            return Kind::Normal;
        }
        let kind = PLANTED[(self.h.index * 13 + j / period) % PLANTED.len()];
        match kind {
            Kind::Hos002 if !self.h.no_opsp => Kind::Normal,
            kind => kind,
        }
    }

    pub(super) fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.rng.random_range(0..from.len())]
    }

    pub(super) fn person(
        &mut self,
        j: usize,
        tag: char,
        insured: String,
        insutype: &'static str,
    ) -> Person {
        let year = self.rng.random_range(1945..2005);
        let birth = format!(
            "{year}{:02}{:02}",
            self.rng.random_range(1..=12),
            self.rng.random_range(1..=28)
        );
        let serial = self.rng.random_range(0..1000);
        let k = self.rng.random_range(0..u64::MAX / 2);
        Person {
            psn_no: format!("P{tag}{:05}{j:07}", self.h.index),
            certno: text::certno(&insured, &birth, serial),
            name: text::name(k),
            insutype,
            insured,
        }
    }

    /// An insured area in another province than the hospital's (`other_than` too).
    pub(super) fn area_elsewhere(&mut self, other_than: &[usize]) -> String {
        loop {
            let p = self.rng.random_range(0..PROVINCES.len());
            if p != self.h.prov
                && !other_than.contains(&p)
                && p != reference::NO_OPSP_POLICY_PROVINCE
            {
                let city = self.rng.random_range(1..=self.shared.plan.cities);
                return reference::area(p, city);
            }
        }
    }

    /// Another area of the hospital's own province.
    pub(super) fn area_same_province(&mut self) -> String {
        let cities = self.shared.plan.cities;
        let own: usize = self.h.area[2..4].parse().unwrap_or(1);
        let city = if cities == 1 {
            return format!("{}9900", PROVINCES[self.h.prov].0);
        } else {
            let mut c = self.rng.random_range(1..=cities);
            if c == own {
                c = c % cities + 1;
            }
            c
        };
        reference::area(self.h.prov, city)
    }

    pub(super) fn next_setl_id(&mut self, prefix: char) -> String {
        self.setl_seq += 1;
        format!("{prefix}{:05}{:07}", self.h.index, self.setl_seq)
    }

    pub(super) fn next_filing_id(&mut self) -> String {
        self.filing_seq += 1;
        format!("F{:05}{:07}", self.h.index, self.filing_seq)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn filing(
        &mut self,
        p: &Person,
        rloc_rea: &str,
        rloc: &str,
        begn: NaiveDate,
        end: Option<NaiveDate>,
        crte: NaiveDateTime,
        cancelled: Option<NaiveDateTime>,
        certno: Option<&str>,
    ) -> String {
        let id = self.next_filing_id();
        let _ = writeln!(
            self.chunk.filings,
            "{id},{},{},{},{},{},{rloc_rea},{rloc},{begn},{},{},{},{}",
            p.psn_no,
            certno.unwrap_or(&p.certno),
            p.name,
            p.insutype,
            p.insured,
            end.map(|d| d.to_string()).unwrap_or_default(),
            crte.format("%Y-%m-%d %H:%M:%S"),
            if cancelled.is_some() { 0 } else { 1 },
            cancelled.unwrap_or(crte).format("%Y-%m-%d %H:%M:%S"),
        );
        self.chunk.filing_rows += 1;
        id
    }

    /// A valid filing that covers the hospital for a stay admitted on `adm`: long-term
    /// (open) or temporary, for the province or the area, sometimes back-dated.
    pub(super) fn covering_filing(
        &mut self,
        p: &Person,
        adm: NaiveDate,
        setl: NaiveDateTime,
        long_term: bool,
    ) -> String {
        let rloc = if self.rng.random_bool(0.6) {
            reference::province_area(self.h.prov)
        } else {
            self.h.area.clone()
        };
        if long_term {
            let rea = self.pick(&["11", "12", "13"]);
            let begn = adm - Days::new(self.rng.random_range(30..1500));
            self.filing(p, rea, &rloc, begn, None, at(begn, 9, 30), None, None)
        } else {
            let rea = self.pick(&["21", "23"]);
            if self.rng.random_bool(0.2) {
                // Back-dated to the admission, filed before the discharge settlement.
                let crte = setl - chrono::Duration::hours(2);
                self.filing(
                    p,
                    rea,
                    &rloc,
                    adm,
                    Some(adm + Days::new(180)),
                    crte,
                    None,
                    None,
                )
            } else {
                // Filed early on its first day: settlements are made from 08:00.
                let begn = adm - Days::new(self.rng.random_range(0..20));
                self.filing(
                    p,
                    rea,
                    &rloc,
                    begn,
                    Some(begn + Days::new(180)),
                    at(begn, 7, 0),
                    None,
                    None,
                )
            }
        }
    }

    pub(super) fn noise_filing(&mut self, j: usize) {
        let insured = self.area_elsewhere(&[]);
        let insutype = if self.rng.random_bool(0.7) {
            "310"
        } else {
            "390"
        };
        let p = self.person(j * 8 + self.filing_seq as usize % 8, 'N', insured, insutype);
        let p = Person {
            psn_no: format!("PN{:05}{:08}", self.h.index, self.filing_seq),
            ..p
        };
        let prov = self.rng.random_range(0..PROVINCES.len());
        let rloc = reference::province_area(prov);
        let begn = self.first - Days::new(self.rng.random_range(30..2000));
        match self.rng.random_range(0..10) {
            0..=6 => {
                let rea = self.pick(&["11", "12", "13"]);
                self.filing(&p, rea, &rloc, begn, None, at(begn, 9, 0), None, None);
            }
            7 | 8 => {
                let rea = self.pick(&["21", "22", "23"]);
                let end = (begn + Days::new(90)).min(self.first - Days::new(1));
                self.filing(
                    &p,
                    rea,
                    &rloc,
                    begn,
                    Some(end.max(begn)),
                    at(begn, 9, 0),
                    None,
                    None,
                );
            }
            _ => {
                let rea = self.pick(&["11", "12", "13"]);
                // Cancelled well after any lock ends.
                let begn = self.first - Days::new(self.rng.random_range(800..2000));
                let cancel = at(begn + Days::new(430), 15, 0);
                self.filing(
                    &p,
                    rea,
                    &rloc,
                    begn,
                    None,
                    at(begn, 9, 0),
                    Some(cancel),
                    None,
                );
            }
        }
    }

    /// Dates of a visit or stay settled this month.
    pub(super) fn dates(&mut self, inpatient: bool) -> (NaiveDate, NaiveDate, NaiveDateTime) {
        let days = (self.last - self.first).num_days() as u64 + 1;
        let end = self.first + Days::new(self.rng.random_range(0..days));
        let begn = if inpatient {
            end - Days::new(self.rng.random_range(2..15))
        } else {
            end
        };
        let time = at(
            end,
            self.rng.random_range(8..18),
            self.rng.random_range(0..60),
        );
        (begn, end, time)
    }

    pub(super) fn lines(&mut self, inpatient: bool, begn: NaiveDate, end: NaiveDate) -> Vec<Line> {
        let (lo, hi) = if inpatient {
            self.shared.plan.ip_lines
        } else {
            (2, 6)
        };
        let n = self.rng.random_range(lo..=hi);
        let span = (end - begn).num_days().max(0) as u64 + 1;
        (0..n)
            .map(|k| {
                let item = if inpatient {
                    let i = self.rng.random_range(0..self.ip_items.len());
                    self.ip_items[i]
                } else {
                    let i = self.rng.random_range(0..self.op_items.len());
                    self.op_items[i]
                };
                let day = begn + Days::new(self.rng.random_range(0..span));
                let time = at(
                    day,
                    self.rng.random_range(7..20),
                    self.rng.random_range(0..60),
                );
                self.line(k as u32 + 1, time, item)
            })
            .collect()
    }

    pub(super) fn line(&mut self, sn: u32, time: NaiveDateTime, item: usize) -> Line {
        let it = &self.shared.items[item];
        let cnt = if self.rng.random_bool(0.1) {
            5_000
        } else {
            self.rng.random_range(1..=10) * 10_000
        };
        let pric = it.price * 10_000 * self.rng.random_range(80..=100) / 100
            + if self.rng.random_bool(0.3) {
                self.rng.random_range(0..10_000)
            } else {
                0
            };
        let mut line = Line {
            sn,
            time,
            item,
            cnt,
            pric,
            sum: 0,
            billed_class: it.class_code(),
            billed_selfpay: it.selfpay,
            fulamt: 0,
            pre: 0,
            inscp: 0,
        };
        line.price_parts(it.class, it.selfpay);
        line
    }

    pub(super) fn settlement(&mut self, p: &Person, med_type: &'static str) -> Setl {
        let inpatient = matches!(med_type, "21" | "22" | "23" | "24");
        let (begndate, enddate, setl_time) = self.dates(inpatient);
        let lines = self.lines(inpatient, begndate, enddate);
        let opsp = (med_type == "14").then(|| {
            let d = self.rng.random_range(0..reference::NATIONAL_DISEASES.len());
            reference::NATIONAL_DISEASES[d].0
        });
        let id = self.next_setl_id('S');
        Setl {
            id,
            person: p.clone(),
            mdtrtarea: self.h.area.clone(),
            med_type,
            emg: matches!(med_type, "13" | "24"),
            begndate,
            enddate,
            setl_time,
            dise: self.pick(&DISEASES),
            opsp,
            m: Money::default(),
            reversal: false,
            init: None,
            lines,
            dropped_line: None,
            excluded: false,
            copy: false,
            reversed: false,
            accumulates: true,
            matched: None,
            expected_hifp: None,
            hifp_delta: 0,
            expects: Vec::new(),
        }
    }

    /// About 94% outpatient (SPEC §11), as the insured place allows: residents do not
    /// settle general outpatient visits across provinces (POL003 cases aside), so theirs
    /// are chronic visits; and no chronic visits where there is no network or no policy
    /// for them (HOS002 and POL006 cases aside), emergency visits instead.
    pub(super) fn normal_med_type(&mut self, insutype: &str, cross: bool) -> &'static str {
        let r = self.rng.random_range(0..1000);
        let mut t = match r {
            0..=839 => "11",
            840..=869 => "13",
            870..=939 => "14",
            940..=984 => "21",
            985..=989 => "22",
            990..=994 => "23",
            _ => "24",
        };
        if t == "11" && insutype == "390" && cross {
            t = "14";
        }
        let no_policy =
            insutype == "390" && !cross && self.h.prov == reference::NO_OPSP_POLICY_PROVINCE;
        if t == "14" && (self.h.no_opsp || no_policy) {
            t = "13";
        }
        t
    }

    /// A cross-province person and settlement with a covering filing (or, for an
    /// emergency, none).
    pub(super) fn cross_case(
        &mut self,
        j: usize,
        insutype: &'static str,
        med_type: &'static str,
        long_term: bool,
    ) -> (Person, Setl) {
        let insured = self.area_elsewhere(&[]);
        let p = self.person(j, 'C', insured, insutype);
        let mut s = self.settlement(&p, med_type);
        let filing = self.covering_filing(&p, s.begndate, s.setl_time, long_term);
        s.matched = Some(filing);
        (p, s)
    }

    pub(super) fn enroll(&mut self, p: &Person) {
        let _ = writeln!(
            self.chunk.enrollment,
            "{},{},{},1,2012-01-01,,",
            p.psn_no, p.insutype, p.insured
        );
    }
}
