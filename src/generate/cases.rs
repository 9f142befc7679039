//! One hospital's share of a generated month: its cases (a person, their filings and
//! settlements, normal or carrying one planted anomaly), written as the hospital's exports
//! and as its rows of the shared files, together with what a run must find in them.
//!
//! Every case lives inside one hospital and its persons belong to it alone, so hospitals
//! are generated independently (in parallel, each from its own seeded generator) and the
//! expected findings and clearing of a month are the sums of its hospitals'. Each planted
//! anomaly is built so that it triggers its rule and nothing else; the rules that follow
//! from a hospital's own state (HOS001 after it leaves the network, HOS002 where it is not
//! networked for chronic outpatients) are derived for every settlement it holds.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

use super::Plan;
use super::reference::{self, Hospital, Item, PROVINCES, PolicyRow};
use super::text::{self, fixed, money, ratio};
use crate::units::div_round;

/// What a case plants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Normal,
    Emergency,
    CleanReversal,
    Fil001,
    Fil002,
    Fil003,
    Fil004,
    Fil005,
    Fil006,
    Fil007,
    Reg001,
    Reg002,
    Reg003,
    Hos002,
    Hos003,
    Cat001,
    Cat002,
    Cat003,
    Cat004,
    Dup001,
    Dup002,
    Dup003,
    Rev001,
    Rev002,
    Pol001,
    Pol002,
    Pol003,
    Pol004,
    Pol005,
    Pol006,
    Amt001,
    Amt002,
    Amt004,
    Per001,
    Rte001,
}

/// The planted kinds, cycled through by the cases that carry one.
pub const PLANTED: [Kind; 34] = [
    Kind::Emergency,
    Kind::CleanReversal,
    Kind::Fil001,
    Kind::Fil002,
    Kind::Fil003,
    Kind::Fil004,
    Kind::Fil005,
    Kind::Fil006,
    Kind::Fil007,
    Kind::Reg001,
    Kind::Reg002,
    Kind::Reg003,
    Kind::Hos002,
    Kind::Hos003,
    Kind::Cat001,
    Kind::Cat002,
    Kind::Cat003,
    Kind::Cat004,
    Kind::Dup001,
    Kind::Dup002,
    Kind::Dup003,
    Kind::Rev001,
    Kind::Rev002,
    Kind::Pol001,
    Kind::Pol002,
    Kind::Pol003,
    Kind::Pol004,
    Kind::Pol005,
    Kind::Pol006,
    Kind::Amt001,
    Kind::Amt002,
    Kind::Amt004,
    Kind::Per001,
    Kind::Rte001,
];

/// The money columns of setlinfo, in SPEC order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Money {
    pub medfee: i64,
    pub fulamt: i64,
    pub overlmt: i64,
    pub preselfpay: i64,
    pub inscp: i64,
    pub dedc: i64,
    pub hifp: i64,
    pub cvlserv: i64,
    pub hifes: i64,
    pub hifmi: i64,
    pub hifob: i64,
    pub maf: i64,
    pub oth: i64,
    pub fund: i64,
    pub psn_part: i64,
    pub acct: i64,
    pub cash: i64,
    pub hosp_part: i64,
}

impl Money {
    fn columns(&self) -> [i64; 18] {
        [
            self.medfee,
            self.fulamt,
            self.overlmt,
            self.preselfpay,
            self.inscp,
            self.dedc,
            self.hifp,
            self.cvlserv,
            self.hifes,
            self.hifmi,
            self.hifob,
            self.maf,
            self.oth,
            self.fund,
            self.psn_part,
            self.acct,
            self.cash,
            self.hosp_part,
        ]
    }

    fn negated(&self) -> Money {
        let c = self.columns().map(|v| -v);
        Money {
            medfee: c[0],
            fulamt: c[1],
            overlmt: c[2],
            preselfpay: c[3],
            inscp: c[4],
            dedc: c[5],
            hifp: c[6],
            cvlserv: c[7],
            hifes: c[8],
            hifmi: c[9],
            hifob: c[10],
            maf: c[11],
            oth: c[12],
            fund: c[13],
            psn_part: c[14],
            acct: c[15],
            cash: c[16],
            hosp_part: c[17],
        }
    }
}

#[derive(Debug, Clone)]
struct Person {
    psn_no: String,
    certno: String,
    name: String,
    insutype: &'static str,
    insured: String,
}

#[derive(Debug, Clone)]
struct Line {
    sn: u32,
    time: NaiveDateTime,
    item: usize,
    /// Units of 0.0001.
    cnt: i64,
    /// Units of 0.000001.
    pric: i64,
    sum: i64,
    billed_class: &'static str,
    billed_selfpay: i64,
    fulamt: i64,
    pre: i64,
    inscp: i64,
}

/// How an expected finding's amount follows from the final money.
#[derive(Debug, Clone, Copy)]
enum Amount {
    Null,
    /// The row's `fund_pay_sumamt` (hold findings).
    Fund,
    Fixed(i64),
    /// A catalogue line's disallowed amount, scaled by the fund ratio.
    Disallowed(i64),
}

#[derive(Debug, Clone)]
struct Expect {
    rule: &'static str,
    level: &'static str,
    feedetl_sn: Option<u32>,
    trt: Option<String>,
    amount: Amount,
}

impl Expect {
    fn new(rule: &'static str, level: &'static str, amount: Amount) -> Expect {
        Expect {
            rule,
            level,
            feedetl_sn: None,
            trt: None,
            amount,
        }
    }
    fn hold(rule: &'static str) -> Expect {
        Expect::new(rule, "hold", Amount::Fund)
    }
    fn flag(rule: &'static str) -> Expect {
        Expect::new(rule, "flag", Amount::Null)
    }
    fn naming(mut self, filing: &str) -> Expect {
        self.trt = Some(filing.to_owned());
        self
    }
    fn line(mut self, sn: u32) -> Expect {
        self.feedetl_sn = Some(sn);
        self
    }
}

#[derive(Debug, Clone)]
struct Setl {
    id: String,
    person: Person,
    mdtrtarea: String,
    med_type: &'static str,
    emg: bool,
    begndate: NaiveDate,
    enddate: NaiveDate,
    setl_time: NaiveDateTime,
    dise: &'static str,
    opsp: Option<&'static str>,
    m: Money,
    reversal: bool,
    init: Option<String>,
    lines: Vec<Line>,
    /// A line counted in the totals but left out of feedetail.csv (AMT002).
    dropped_line: Option<u32>,
    excluded: bool,
    copy: bool,
    reversed: bool,
    /// Takes part in §6's accumulation (also excluded same-area rows).
    accumulates: bool,
    matched: Option<String>,
    expected_hifp: Option<i64>,
    /// Added to the policy's payment: POL001 (+), POL002 (−).
    hifp_delta: i64,
    expects: Vec<Expect>,
}

impl Setl {
    fn med_grp(&self) -> &'static str {
        match self.med_type {
            "21" | "22" | "23" | "24" => "ip",
            "14" => "opsp",
            _ => "op",
        }
    }
    fn inpatient(&self) -> bool {
        self.med_grp() == "ip"
    }
    fn clr_type(&self) -> &'static str {
        if self.inpatient() { "21" } else { "11" }
    }
    fn checked(&self) -> bool {
        !self.excluded && !self.reversal && !self.copy
    }
}

/// One clearing group's sums (SPEC §7), fen.
#[derive(Debug, Clone, Default)]
pub struct Agg {
    pub setl_cnt: u64,
    pub persons: u64,
    pub reversed_cnt: u64,
    /// medfee, hifp, hifmi, hifob, maf, oth_fund, fund, acct, cash, held, disputed, cleared.
    pub money: [i64; 12],
}

impl Agg {
    pub fn add(&mut self, other: &Agg) {
        self.setl_cnt += other.setl_cnt;
        self.persons += other.persons;
        self.reversed_cnt += other.reversed_cnt;
        for (a, b) in self.money.iter_mut().zip(other.money) {
            *a += b;
        }
    }
}

/// One hospital's contribution to the shared files and to the expectations.
#[derive(Debug, Default)]
pub struct Chunk {
    pub setlinfo: String,
    pub feedetail: String,
    pub summary: Option<String>,
    pub filings: String,
    pub enrollment: String,
    pub ytd: String,
    pub findings: String,
    pub settlements: String,
    /// By (insured area, treatment area, clr_type).
    pub clearing: BTreeMap<(String, String, String), Agg>,
    pub settlement_rows: u64,
    pub fee_lines: u64,
    pub filing_rows: u64,
}

pub struct Shared<'a> {
    pub plan: &'a Plan,
    pub items: &'a [Item],
    pub policy: &'a [PolicyRow],
}

struct Gen<'a> {
    shared: &'a Shared<'a>,
    h: &'a Hospital,
    rng: Xoshiro256PlusPlus,
    /// Items this hospital's province lists: outpatient, inpatient.
    op_items: Vec<usize>,
    ip_items: Vec<usize>,
    omitted_items: Vec<usize>,
    setl_seq: u32,
    filing_seq: u32,
    chunk: Chunk,
    setls: Vec<Setl>,
    first: NaiveDate,
    last: NaiveDate,
}

fn at(day: NaiveDate, h: u32, m: u32) -> NaiveDateTime {
    day.and_time(NaiveTime::from_hms_opt(h, m, 0).expect("a real time"))
}

const DISEASES: [&str; 8] = [
    "J18.900", "I10.x00", "E11.900", "K35.800", "I63.900", "M17.900", "J44.100", "N18.500",
];

pub fn generate(shared: &Shared<'_>, h: &Hospital) -> Chunk {
    let plan = shared.plan;
    let seed = plan.seed ^ (h.index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut op_items = Vec::new();
    let mut ip_items = Vec::new();
    let mut omitted_items = Vec::new();
    for (i, item) in shared.items.iter().enumerate() {
        if reference::omitted(h.prov, i) {
            omitted_items.push(i);
            continue;
        }
        ip_items.push(i);
        if !item.inpatient {
            op_items.push(i);
        }
    }
    let mut g = Gen {
        shared,
        h,
        rng: Xoshiro256PlusPlus::seed_from_u64(seed),
        op_items,
        ip_items,
        omitted_items,
        setl_seq: 0,
        filing_seq: 0,
        chunk: Chunk::default(),
        setls: Vec::new(),
        first: plan.first_day(),
        last: plan.last_day(),
    };
    let cases = plan.cases_per_hospital(h.index);
    for j in 0..cases {
        let kind = g.kind_of(j);
        g.case(j, kind);
        for _ in 0..plan.noise_filings {
            g.noise_filing(j);
        }
    }
    g.finish()
}

impl Gen<'_> {
    fn kind_of(&self, j: usize) -> Kind {
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

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.rng.random_range(0..from.len())]
    }

    fn person(&mut self, j: usize, tag: char, insured: String, insutype: &'static str) -> Person {
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
    fn area_elsewhere(&mut self, other_than: &[usize]) -> String {
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
    fn area_same_province(&mut self) -> String {
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

    fn next_setl_id(&mut self, prefix: char) -> String {
        self.setl_seq += 1;
        format!("{prefix}{:05}{:07}", self.h.index, self.setl_seq)
    }

    fn next_filing_id(&mut self) -> String {
        self.filing_seq += 1;
        format!("F{:05}{:07}", self.h.index, self.filing_seq)
    }

    #[allow(clippy::too_many_arguments)]
    fn filing(
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
    fn covering_filing(
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

    fn noise_filing(&mut self, j: usize) {
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
    fn dates(&mut self, inpatient: bool) -> (NaiveDate, NaiveDate, NaiveDateTime) {
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

    fn lines(&mut self, inpatient: bool, begn: NaiveDate, end: NaiveDate) -> Vec<Line> {
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

    fn line(&mut self, sn: u32, time: NaiveDateTime, item: usize) -> Line {
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

    fn settlement(&mut self, p: &Person, med_type: &'static str) -> Setl {
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
    fn normal_med_type(&mut self, insutype: &str, cross: bool) -> &'static str {
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
    fn cross_case(
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

    fn enroll(&mut self, p: &Person) {
        let _ = writeln!(
            self.chunk.enrollment,
            "{},{},{},1,2012-01-01,,",
            p.psn_no, p.insutype, p.insured
        );
    }

    fn case(&mut self, j: usize, kind: Kind) {
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

    fn filing_finding(&mut self, rule: &str, id: &str, p: &Person, rloc: &str) {
        let _ = writeln!(
            self.chunk.findings,
            "{rule},flag,,,,{id},{},{},{rloc},",
            p.psn_no, p.insured
        );
    }

    /// HOS001 after the hospital leaves the network; HOS002 for chronic outpatients where
    /// it is not networked for them.
    fn derived_findings(&self, s: &mut Setl) {
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
    fn planted_line(
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

    /// Totals from the lines, the fund payment by the insured place's policy (§6, in
    /// settlement order), the other funds and the person's share.
    fn money(&mut self, group: &mut [Setl]) {
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
    fn ytd(&mut self, p: &Person, grp: &'static str, year: i32, row: &PolicyRow) -> (i64, i64) {
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

    fn finish(mut self) -> Chunk {
        let setls = std::mem::take(&mut self.setls);
        let h = self.h;
        let mut setlinfo = String::with_capacity(setls.len() * 400);
        let mut feedetail =
            String::with_capacity(setls.iter().map(|s| s.lines.len()).sum::<usize>() * 160);
        setlinfo.push_str(SETLINFO_HEADER);
        feedetail.push_str(FEEDETAIL_HEADER);
        let mut summary: BTreeMap<SummaryKey, SummarySums> = BTreeMap::new();
        let mut persons: BTreeMap<(String, String, String), HashSet<String>> = BTreeMap::new();
        for (k, s) in setls.iter().enumerate() {
            let line = k + 2;
            write_setlinfo(&mut setlinfo, h, s);
            if !s.copy {
                for l in &s.lines {
                    if Some(l.sn) != s.dropped_line {
                        write_line(&mut feedetail, self.shared.items, s, l);
                        self.chunk.fee_lines += 1;
                    }
                }
            }
            let day = s.setl_time.date();
            if day >= self.first && day <= self.last {
                let e = summary
                    .entry((s.person.insutype, s.clr_type(), s.reversal as u8))
                    .or_default();
                e.0 += 1;
                e.1 += s.m.medfee;
                e.2 += s.m.fund;
                e.3 += s.m.acct;
            }
            // What the run must give this row.
            let deducted: i64 = s
                .expects
                .iter()
                .filter(|e| e.level == "deduct")
                .map(|e| self.resolve(s, e.amount).unwrap_or(0))
                .sum();
            let held = s.expects.iter().any(|e| e.level == "hold");
            let status = if s.excluded {
                "excluded"
            } else if s.reversed {
                "reversed"
            } else if held {
                "held"
            } else {
                "cleared"
            };
            let (disputed, held_amount, cleared) = match status {
                "cleared" => {
                    let disputed = deducted.min(s.m.hifp).max(0);
                    (disputed, 0, s.m.fund - disputed)
                }
                "held" => (0, s.m.fund, 0),
                _ => (0, 0, 0),
            };
            let _ = writeln!(
                self.chunk.settlements,
                "{},{},{line},{status},{},{},{},{},{}",
                h.code,
                s.id,
                s.matched
                    .as_deref()
                    .filter(|_| !s.excluded && !s.reversal && !s.copy)
                    .unwrap_or(""),
                s.expected_hifp.map(money).unwrap_or_default(),
                money(disputed),
                money(held_amount),
                money(cleared)
            );
            for e in &s.expects {
                let amount = self.resolve(s, e.amount);
                let _ = writeln!(
                    self.chunk.findings,
                    "{},{},{},{},{},{},{},{},{},{}",
                    e.rule,
                    e.level,
                    h.code,
                    s.id,
                    e.feedetl_sn.map(|n| n.to_string()).unwrap_or_default(),
                    e.trt.as_deref().unwrap_or(""),
                    s.person.psn_no,
                    s.person.insured,
                    h.area,
                    amount.map(money).unwrap_or_default()
                );
            }
            if status != "excluded" {
                let key = (
                    s.person.insured.clone(),
                    h.area.clone(),
                    s.clr_type().to_owned(),
                );
                let agg = self.chunk.clearing.entry(key.clone()).or_default();
                if status == "reversed" {
                    agg.reversed_cnt += 1;
                } else {
                    agg.setl_cnt += 1;
                    persons
                        .entry(key)
                        .or_default()
                        .insert(s.person.psn_no.clone());
                    let m = &s.m;
                    let row = [
                        m.medfee,
                        m.hifp,
                        m.hifmi,
                        m.hifob,
                        m.maf,
                        m.cvlserv + m.hifes + m.oth,
                        m.fund,
                        m.acct,
                        m.cash,
                        held_amount,
                        disputed,
                        cleared,
                    ];
                    for (a, v) in agg.money.iter_mut().zip(row) {
                        *a += v;
                    }
                }
            }
        }
        for (key, set) in persons {
            if let Some(agg) = self.chunk.clearing.get_mut(&key) {
                agg.persons = set.len() as u64;
            }
        }
        if h.summary {
            let mut text = String::from(SUMMARY_HEADER);
            for (n, ((insutype, clr_type, refd), (cnt, medfee, fund, acct))) in
                summary.iter().enumerate()
            {
                let cnt = if h.summary_off && n == 0 {
                    cnt + 1
                } else {
                    *cnt
                };
                let _ = writeln!(
                    text,
                    "{},{insutype},{clr_type},{},{},{refd},{cnt},{},{},{}",
                    h.code,
                    self.first,
                    self.last,
                    money(*medfee),
                    money(*fund),
                    money(*acct)
                );
            }
            if h.summary_off && !summary.is_empty() {
                let _ = writeln!(
                    self.chunk.findings,
                    "AMT003,flag,{},,,,,{},{},",
                    h.code, h.area, h.area
                );
            }
            self.chunk.summary = Some(text);
        }
        self.chunk.settlement_rows = setls.len() as u64;
        self.chunk.setlinfo = setlinfo;
        self.chunk.feedetail = feedetail;
        self.chunk
    }

    fn resolve(&self, s: &Setl, amount: Amount) -> Option<i64> {
        match amount {
            Amount::Null => None,
            Amount::Fund => Some(s.m.fund),
            Amount::Fixed(v) => Some(v),
            Amount::Disallowed(d) => Some(if s.m.inscp == 0 {
                0
            } else {
                div_round(d as i128 * s.m.hifp as i128, s.m.inscp as i128) as i64
            }),
        }
    }
}

/// A summary.csv group: (insutype, clr_type, refd_setl_flag).
type SummaryKey = (&'static str, &'static str, u8);
/// Its count, medfee_sumamt, fund_pay_sumamt and acct_pay.
type SummarySums = (i64, i64, i64, i64);

#[derive(Debug, Clone, Copy)]
enum Plant {
    OutOfCatalogue,
    SelfPaidInScope,
    ClassDiffers,
    AboveCeiling,
}

impl Line {
    /// The line's total (`cnt × pric`, rounded half away from zero) and its parts by class.
    fn price_parts(&mut self, class: u8, selfpay: i64) {
        self.sum = div_round(self.cnt as i128 * self.pric as i128, 100_000_000) as i64;
        self.fulamt = 0;
        self.pre = 0;
        self.inscp = 0;
        match class {
            1 => self.inscp = self.sum,
            2 => {
                self.pre = div_round(self.sum as i128 * selfpay as i128, 10_000) as i64;
                self.inscp = self.sum - self.pre;
            }
            _ => self.fulamt = self.sum,
        }
    }
}

pub const SETLINFO_HEADER: &str = "setl_id,mdtrt_id,psn_no,certno,psn_name,insutype,insuplc_admdvs,fixmedins_code,mdtrtarea_admvs,med_type,clr_type,emg_flag,begndate,enddate,setl_time,dise_codg,opsp_dise_code,medfee_sumamt,fulamt_ownpay_amt,overlmt_selfpay,preselfpay_amt,inscp_scp_amt,act_pay_dedc,hifp_pay,cvlserv_pay,hifes_pay,hifmi_pay,hifob_pay,maf_pay,oth_pay,fund_pay_sumamt,psn_part_amt,acct_pay,psn_cash_pay,hosp_part_amt,refd_setl_flag,init_setl_id\n";
pub const FEEDETAIL_HEADER: &str = "setl_id,feedetl_sn,fee_ocur_time,med_list_codg,medins_list_codg,med_chrgitm_type,cnt,pric,det_item_fee_sumamt,pric_uplmt_amt,chrgitm_lv,selfpay_prop,fulamt_ownpay_amt,overlmt_amt,preselfpay_amt,inscp_scp_amt\n";
pub const SUMMARY_HEADER: &str = "fixmedins_code,insutype,clr_type,stmt_begndate,stmt_enddate,refd_setl_flag,fixmedins_setl_cnt,medfee_sumamt,fund_pay_sumamt,acct_pay\n";
pub const FILINGS_HEADER: &str = "trt_dcla_detl_sn,psn_no,certno,psn_name,insutype,insu_admdvs,rloc_rea,rloc_admdvs,begndate,enddate,crte_time,vali_flag,updt_time\n";
pub const ENROLLMENT_HEADER: &str =
    "psn_no,insutype,insuplc_admdvs,psn_insu_stas,begndate,enddate,wait_end\n";
pub const YTD_HEADER: &str = "psn_no,insutype,med_grp,year,dedc_used,hifp_paid\n";
pub const FINDINGS_HEADER: &str = "rule,level,fixmedins_code,setl_id,feedetl_sn,trt_dcla_detl_sn,psn_no,insuplc_admdvs,fix_blng_admdvs,amount\n";
pub const SETTLEMENTS_HEADER: &str = "fixmedins_code,setl_id,line,status,trt_dcla_detl_sn,expected_hifp,disputed_amount,held_amount,cleared_amount\n";

fn write_setlinfo(out: &mut String, h: &Hospital, s: &Setl) {
    let p = &s.person;
    let _ = write!(
        out,
        "{},M{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
        s.id,
        s.id,
        p.psn_no,
        p.certno,
        p.name,
        p.insutype,
        p.insured,
        h.code,
        s.mdtrtarea,
        s.med_type,
        s.clr_type(),
        s.emg as u8,
        s.begndate,
        s.enddate,
        s.setl_time.format("%Y-%m-%d %H:%M:%S"),
        s.dise,
        s.opsp.unwrap_or("")
    );
    for v in s.m.columns() {
        out.push(',');
        out.push_str(&money(v));
    }
    let _ = writeln!(
        out,
        ",{},{}",
        s.reversal as u8,
        s.init.as_deref().unwrap_or("")
    );
}

fn write_line(out: &mut String, items: &[Item], s: &Setl, l: &Line) {
    let it = &items[l.item];
    let _ = writeln!(
        out,
        "{},{},{},{},H{},{},{},{},{},{},{},{},{},0.00,{},{}",
        s.id,
        l.sn,
        l.time.format("%Y-%m-%d %H:%M:%S"),
        it.code,
        l.item,
        it.chrgitm_type,
        fixed(l.cnt, 4),
        fixed(l.pric, 6),
        money(l.sum),
        it.ceiling.map(money).unwrap_or_default(),
        l.billed_class,
        ratio(l.billed_selfpay),
        money(l.fulamt),
        money(l.pre),
        money(l.inscp)
    );
}
