//! Each kind of case planted: its rows, and the findings it must give.

use super::*;

impl Gen<'_> {
    pub(super) fn case(&mut self, j: usize, kind: Kind) {
        let mut group: Vec<Setl> = Vec::new();
        let insutype = if self.rng.random_bool(0.7) {
            "310"
        } else {
            "390"
        };
        match kind {
            Kind::Normal => {
                let cross = self.rng.random_bool(0.88);
                let med_type = self.normal_med_type(insutype, cross);
                if cross {
                    let long_term = self.rng.random_bool(0.5);
                    let (p, s) = self.cross_case(j, insutype, med_type, long_term);
                    self.enroll(&p);
                    group.push(s);
                } else {
                    let insured = self.area_same_province();
                    let p = self.person(j, 'I', insured, insutype);
                    self.enroll(&p);
                    group.push(self.settlement(&p, med_type));
                }
            }
            Kind::Emergency => {
                let insured = self.area_elsewhere(&[]);
                let p = self.person(j, 'E', insured, insutype);
                self.enroll(&p);
                let med_type = if self.rng.random_bool(0.5) {
                    "13"
                } else {
                    "24"
                };
                let mut s = self.settlement(&p, med_type);
                s.matched = Some("emergency".into());
                group.push(s);
            }
            Kind::CleanReversal | Kind::Rev002 | Kind::Dup001 => {
                let (p, s) = self.cross_case(j, "310", "11", true);
                self.enroll(&p);
                group.push(s);
            }
            Kind::Rev001 => {
                let insured = self.area_elsewhere(&[]);
                let p = self.person(j, 'R', insured, insutype);
                let mut s = self.settlement(&p, "11");
                s.reversal = true;
                s.init = Some(format!("S{:05}OLD{:04}", self.h.index, j % 10_000));
                s.accumulates = false;
                s.expects.push(Expect::flag("REV001"));
                group.push(s);
            }
            Kind::Fil001
            | Kind::Fil002
            | Kind::Fil003
            | Kind::Fil004
            | Kind::Fil005
            | Kind::Fil006 => {
                let insured = self.area_elsewhere(&[]);
                let p = self.person(j, 'F', insured, "310");
                self.enroll(&p);
                let med_type = if self.rng.random_bool(0.5) {
                    "11"
                } else {
                    "21"
                };
                let mut s = self.settlement(&p, med_type);
                let d = s.begndate;
                let rloc = reference::province_area(self.h.prov);
                let named = match kind {
                    Kind::Fil001 => None,
                    Kind::Fil002 => {
                        let begn = d - Days::new(200);
                        Some(self.filing(
                            &p,
                            "23",
                            &rloc,
                            begn,
                            Some(d - Days::new(10)),
                            at(begn, 9, 0),
                            None,
                            None,
                        ))
                    }
                    Kind::Fil003 => {
                        let begn = d + Days::new(3);
                        Some(self.filing(
                            &p,
                            "23",
                            &rloc,
                            begn,
                            Some(begn + Days::new(180)),
                            at(d, 8, 0),
                            None,
                            None,
                        ))
                    }
                    Kind::Fil004 => {
                        let begn = d - Days::new(30);
                        let cancel = at(d - Days::new(5), 16, 0);
                        Some(self.filing(
                            &p,
                            "23",
                            &rloc,
                            begn,
                            Some(begn + Days::new(180)),
                            at(begn, 9, 0),
                            Some(cancel),
                            None,
                        ))
                    }
                    Kind::Fil005 => {
                        let crte = s.setl_time + chrono::Duration::days(1);
                        Some(self.filing(
                            &p,
                            "23",
                            &rloc,
                            d,
                            Some(d + Days::new(180)),
                            crte,
                            None,
                            None,
                        ))
                    }
                    _ => {
                        let other = self.area_elsewhere(&[]);
                        let other = format!("{}0000", &other[..2]);
                        let begn = d - Days::new(400);
                        Some(self.filing(&p, "11", &other, begn, None, at(begn, 9, 0), None, None))
                    }
                };
                let rule = match kind {
                    Kind::Fil001 => "FIL001",
                    Kind::Fil002 => "FIL002",
                    Kind::Fil003 => "FIL003",
                    Kind::Fil004 => "FIL004",
                    Kind::Fil005 => "FIL005",
                    _ => "FIL006",
                };
                let mut e = Expect::hold(rule);
                e.trt = named;
                s.expects.push(e);
                group.push(s);
            }
            Kind::Fil007 => {
                let insured = self.area_elsewhere(&[]);
                let p = self.person(j, 'F', insured, "310");
                self.enroll(&p);
                let mut a = self.settlement(&p, "11");
                let mut b = self.settlement(&p, "11");
                if (b.setl_time, &b.id) < (a.setl_time, &a.id) {
                    std::mem::swap(&mut a, &mut b);
                }
                if a.begndate == b.begndate {
                    // Another day, so the two visits are not one claim twice (DUP002).
                    let day = if a.begndate > self.first {
                        a.begndate - Days::new(1)
                    } else {
                        b.begndate + Days::new(1)
                    };
                    if day < a.begndate {
                        a.begndate = day;
                        a.enddate = day;
                        a.setl_time = at(day, 9, 0);
                        for l in &mut a.lines {
                            l.time = at(day, 8, 0);
                        }
                    } else {
                        b.begndate = day;
                        b.enddate = day;
                        b.setl_time = at(day, 9, 0);
                        for l in &mut b.lines {
                            l.time = at(day, 8, 0);
                        }
                    }
                }
                let begn = a.begndate.min(b.begndate) - Days::new(5);
                let rloc = reference::province_area(self.h.prov);
                let filing = self.filing(
                    &p,
                    "21",
                    &rloc,
                    begn,
                    Some(begn + Days::new(180)),
                    at(begn, 9, 0),
                    None,
                    None,
                );
                a.matched = Some(filing.clone());
                b.matched = Some(filing.clone());
                let later = if (a.setl_time, &a.id) < (b.setl_time, &b.id) {
                    &mut b
                } else {
                    &mut a
                };
                later.expects.push(Expect::flag("FIL007").naming(&filing));
                group.push(a);
                group.push(b);
            }
            Kind::Reg001 | Kind::Reg002 | Kind::Reg003 => {
                let insured = self.area_elsewhere(&[]);
                let p = self.person(j, 'G', insured.clone(), insutype);
                let begn = self.first - Days::new(self.rng.random_range(200..900));
                let here = reference::province_area(self.h.prov);
                let (id, rloc) = match kind {
                    Kind::Reg001 => {
                        self.filing(&p, "11", &here, begn, None, at(begn, 9, 0), None, None);
                        let prov: usize = insured[..2].parse().unwrap_or(0);
                        let other_prov = PROVINCES
                            .iter()
                            .position(|(c, _)| c.parse::<usize>().ok() == Some(prov))
                            .unwrap_or(0);
                        let other = self.area_elsewhere(&[other_prov]);
                        let other = format!("{}0000", &other[..2]);
                        let later = begn + Days::new(100);
                        (
                            self.filing(&p, "12", &other, later, None, at(later, 9, 0), None, None),
                            other,
                        )
                    }
                    Kind::Reg002 => {
                        let cancel = at(begn + Days::new(61), 11, 0);
                        (
                            self.filing(
                                &p,
                                "11",
                                &here,
                                begn,
                                None,
                                at(begn, 9, 0),
                                Some(cancel),
                                None,
                            ),
                            here,
                        )
                    }
                    _ => {
                        let mut bad = p.certno.clone();
                        let last = bad.pop().unwrap_or('0');
                        bad.push(if last == '1' { '2' } else { '1' });
                        (
                            self.filing(
                                &p,
                                "12",
                                &here,
                                begn,
                                None,
                                at(begn, 9, 0),
                                None,
                                Some(&bad),
                            ),
                            here,
                        )
                    }
                };
                let rule = match kind {
                    Kind::Reg001 => "REG001",
                    Kind::Reg002 => "REG002",
                    _ => "REG003",
                };
                self.filing_finding(rule, &id, &p, &rloc);
            }
            Kind::Hos002 => {
                let (p, mut s) = self.cross_case(j, "310", "14", true);
                self.enroll(&p);
                s.expects.clear();
                group.push(s);
            }
            Kind::Hos003 => {
                let (p, mut s) = self.cross_case(j, insutype, "21", true);
                self.enroll(&p);
                s.mdtrtarea = self.area_same_province();
                s.expects.push(Expect::flag("HOS003"));
                group.push(s);
            }
            Kind::Cat001 | Kind::Cat002 | Kind::Cat003 | Kind::Cat004 => {
                let (p, mut s) = self.cross_case(j, "310", "21", true);
                self.enroll(&p);
                let sn = s.lines.len() as u32 + 1;
                let time = at(s.enddate, 8, 0);
                let planted = match kind {
                    Kind::Cat001 => self.planted_line(sn, time, Plant::OutOfCatalogue),
                    Kind::Cat002 => self.planted_line(sn, time, Plant::SelfPaidInScope),
                    Kind::Cat003 => self.planted_line(sn, time, Plant::ClassDiffers),
                    _ => self.planted_line(sn, time, Plant::AboveCeiling),
                };
                if let Some((line, expect)) = planted {
                    s.lines.push(line);
                    s.expects.push(expect);
                }
                group.push(s);
            }
            Kind::Dup002 => {
                let (p, a) = self.cross_case(j, "310", "11", true);
                self.enroll(&p);
                let mut b = a.clone();
                b.id = self.next_setl_id('S');
                b.setl_time = a.setl_time + chrono::Duration::minutes(30);
                b.expects.push(Expect::flag("DUP002"));
                group.push(a);
                group.push(b);
            }
            Kind::Dup003 => {
                let insured = self.area_elsewhere(&[]);
                let p = self.person(j, 'C', insured, "310");
                let mut a = self.settlement(&p, "21");
                self.enroll(&p);
                let days = (self.last - self.first).num_days() as u64;
                let adm = self.first
                    + Days::new(self.rng.random_range(0..days.saturating_sub(12).max(1)));
                a.begndate = adm;
                a.enddate = adm + Days::new(8);
                a.setl_time = at(a.enddate, 10, 0);
                for l in &mut a.lines {
                    l.time = at(adm, 9, 0);
                }
                let mut b = self.settlement(&p, "21");
                b.begndate = adm + Days::new(3);
                b.enddate = adm + Days::new(11);
                b.setl_time = at(b.enddate, 10, 0);
                for l in &mut b.lines {
                    l.time = at(b.begndate, 9, 0);
                }
                // Filed once the dates are known, for both stays.
                let filing = self.covering_filing(&p, adm, a.setl_time, true);
                a.matched = Some(filing.clone());
                b.matched = Some(filing);
                b.expects.push(Expect::hold("DUP003"));
                group.push(a);
                group.push(b);
            }
            Kind::Pol001 | Kind::Pol002 => {
                let (p, mut s) = self.cross_case(j, "310", "21", true);
                self.enroll(&p);
                s.hifp_delta =
                    self.rng.random_range(100..=5_000) * if kind == Kind::Pol001 { 1 } else { -1 };
                group.push(s);
            }
            Kind::Pol003 => {
                let (p, mut s) = self.cross_case(j, "390", "11", true);
                self.enroll(&p);
                s.expects.push(Expect::hold("POL003"));
                group.push(s);
            }
            Kind::Pol004 => {
                let (p, mut s) = self.cross_case(j, "310", "14", true);
                self.enroll(&p);
                s.opsp = Some(reference::UNLISTED_DISEASE);
                s.expects.push(Expect::hold("POL004"));
                group.push(s);
            }
            Kind::Pol005 => {
                let (p, mut s) = self.cross_case(j, insutype, "21", true);
                if self.rng.random_bool(0.5) {
                    let _ = writeln!(
                        self.chunk.enrollment,
                        "{},{},{},1,2012-01-01,{},",
                        p.psn_no,
                        p.insutype,
                        p.insured,
                        self.first - Days::new(60)
                    );
                } else {
                    let _ = writeln!(
                        self.chunk.enrollment,
                        "{},{},{},1,{},,{}",
                        p.psn_no,
                        p.insutype,
                        p.insured,
                        s.begndate - Days::new(30),
                        s.begndate + Days::new(10)
                    );
                }
                s.expects.push(Expect::hold("POL005"));
                group.push(s);
            }
            Kind::Pol006 => {
                let city = self.rng.random_range(1..=self.shared.plan.cities);
                let insured = reference::area(reference::NO_OPSP_POLICY_PROVINCE, city);
                let p = self.person(j, 'N', insured.clone(), "390");
                self.enroll(&p);
                let mut s = self.settlement(&p, "14");
                if insured[..2] != self.h.area[..2] {
                    let f = self.covering_filing(&p, s.begndate, s.setl_time, true);
                    s.matched = Some(f);
                } else if insured == self.h.area {
                    // Same area: excluded (RTE001) before any policy is looked up.
                    s.excluded = true;
                    s.expects.push(Expect::flag("RTE001"));
                }
                if !s.excluded {
                    s.expects.push(Expect::flag("POL006"));
                }
                group.push(s);
            }
            Kind::Amt001 | Kind::Amt002 | Kind::Amt004 => {
                let (p, mut s) = self.cross_case(j, "310", "21", true);
                self.enroll(&p);
                match kind {
                    Kind::Amt001 => s.expects.push(Expect::hold("AMT001")),
                    Kind::Amt002 => {
                        s.dropped_line = Some(1 + self.rng.random_range(0..s.lines.len()) as u32);
                        s.expects.push(Expect::hold("AMT002"));
                    }
                    _ => {
                        let k = self.rng.random_range(0..s.lines.len());
                        let line = &mut s.lines[k];
                        line.sum += 100;
                        if line.inscp > 0 {
                            line.inscp += 100;
                        } else {
                            line.fulamt += 100;
                        }
                        let sn = line.sn;
                        s.expects.push(Expect::flag("AMT004").line(sn));
                    }
                }
                group.push(s);
            }
            Kind::Per001 => {
                let (p, mut s) = self.cross_case(j, insutype, "11", true);
                let day = self.first - Days::new(1);
                s.begndate = day;
                s.enddate = day;
                s.setl_time = at(day, 15, 0);
                for l in &mut s.lines {
                    l.time = at(day, 14, 0);
                }
                s.excluded = true;
                s.accumulates = false;
                s.matched = None;
                self.enroll(&p);
                s.expects.push(Expect::flag("PER001"));
                group.push(s);
            }
            Kind::Rte001 => {
                let p = self.person(j, 'L', self.h.area.clone(), insutype);
                self.enroll(&p);
                let mut s = self.settlement(&p, "11");
                s.excluded = true;
                s.expects.push(Expect::flag("RTE001"));
                group.push(s);
            }
        }
        self.money(&mut group);
        // Rows derived from the first ones once their money is known.
        match kind {
            Kind::CleanReversal | Kind::Rev002 => {
                let original = &mut group[0];
                let mut r = original.clone();
                r.id = self.next_setl_id('R');
                r.reversal = true;
                r.init = Some(original.id.clone());
                r.lines.clear();
                r.m = original.m.negated();
                r.setl_time = original.setl_time + chrono::Duration::hours(3);
                if r.setl_time.date() > self.last {
                    r.setl_time = at(self.last, 23, 30);
                }
                r.matched = None;
                r.expected_hifp = None;
                r.expects.clear();
                if kind == Kind::Rev002 {
                    r.m.cash += 100;
                    r.m.psn_part += 100;
                    r.expects.push(Expect::hold("REV002"));
                } else {
                    original.reversed = true;
                    r.reversed = true;
                    original.expected_hifp = None;
                }
                group.push(r);
            }
            Kind::Dup001 => {
                let mut copy = group[0].clone();
                copy.copy = true;
                copy.expected_hifp = None;
                copy.matched = None;
                copy.expects = vec![Expect::hold("DUP001")];
                group.push(copy);
            }
            Kind::Amt001 => {
                group[0].m.fulamt += 100;
            }
            Kind::Rev001 => {
                // The reversal of a settlement of an earlier month: its amounts negated.
                let r = &mut group[0];
                r.m = r.m.negated();
                r.lines.clear();
            }
            _ => {}
        }
        for s in &mut group {
            self.derived_findings(s);
        }
        self.setls.extend(group);
    }

    pub(super) fn filing_finding(&mut self, rule: &str, id: &str, p: &Person, rloc: &str) {
        let _ = writeln!(
            self.chunk.findings,
            "{rule},flag,,,,{id},{},{},{rloc},",
            p.psn_no, p.insured
        );
    }

    /// HOS001 after the hospital leaves the network; HOS002 for chronic outpatients where
    /// it is not networked for them.
    pub(super) fn derived_findings(&self, s: &mut Setl) {
        if !s.checked() {
            return;
        }
        let left = self.h.leaves.is_some_and(|d| s.setl_time.date() > d);
        if left {
            s.expects.push(Expect::hold("HOS001"));
        } else if self.h.no_opsp && s.med_type == "14" {
            s.expects.push(Expect::hold("HOS002"));
        }
    }

    /// A line that breaks one catalogue rule, with the finding it must give.
    pub(super) fn planted_line(
        &mut self,
        sn: u32,
        time: NaiveDateTime,
        plant: Plant,
    ) -> Option<(Line, Expect)> {
        let items = self.shared.items;
        let listed = |pred: &dyn Fn(&Item) -> bool| -> Vec<usize> {
            self.ip_items
                .iter()
                .copied()
                .filter(|&i| pred(&items[i]))
                .collect()
        };
        match plant {
            Plant::OutOfCatalogue => {
                let i = *self.omitted_items.first()?;
                let mut line = self.line(sn, time, i);
                line.billed_class = "01";
                line.billed_selfpay = 0;
                line.fulamt = 0;
                line.pre = 0;
                line.inscp = line.sum;
                let inscp = line.inscp;
                Some((
                    line,
                    Expect::new("CAT001", "deduct", Amount::Disallowed(inscp)).line(sn),
                ))
            }
            Plant::SelfPaidInScope => {
                let candidates = listed(&|it| it.class == 3);
                let i = *candidates.first()?;
                let mut line = self.line(sn, time, i);
                line.fulamt = 0;
                line.inscp = line.sum;
                let inscp = line.inscp;
                Some((
                    line,
                    Expect::new("CAT002", "deduct", Amount::Disallowed(inscp)).line(sn),
                ))
            }
            Plant::ClassDiffers => {
                let candidates = listed(&|it| it.class == 2);
                let i = *candidates.first()?;
                let mut line = self.line(sn, time, i);
                line.billed_class = "01";
                line.billed_selfpay = 0;
                line.price_parts(1, 0);
                Some((line, Expect::flag("CAT003").line(sn)))
            }
            Plant::AboveCeiling => {
                let candidates = listed(&|it| it.ceiling.is_some());
                let i = *candidates.first()?;
                let ceiling = items[i].ceiling?;
                let mut line = self.line(sn, time, i);
                line.pric = ceiling * 10_000 + self.rng.random_range(1..=200) * 10_000;
                line.price_parts(items[i].class, items[i].selfpay);
                // Disallowed: min(inscp, round((pric − ceiling) × cnt, 2)).
                let over = div_round(
                    ((line.pric - ceiling * 10_000) as i128) * line.cnt as i128,
                    100_000_000,
                ) as i64;
                let disallowed = over.min(line.inscp);
                if disallowed <= 0 {
                    return None;
                }
                Some((
                    line,
                    Expect::new("CAT004", "deduct", Amount::Disallowed(disallowed)).line(sn),
                ))
            }
        }
    }
}
