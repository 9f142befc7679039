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

mod expect;
mod money;
mod people;
mod planted;
mod rows;

pub use rows::*;

/// A summary.csv group: (insutype, clr_type, refd_setl_flag).
type SummaryKey = (&'static str, &'static str, u8);
/// Its count, medfee_sumamt, fund_pay_sumamt and acct_pay.
type SummarySums = (i64, i64, i64, i64);

#[derive(Debug, Clone, Copy)]
pub(super) enum Plant {
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
