//! Row views of the ingested frames that the rules read: settlements, filings, hospitals.
//!
//! Typed copies of the columns the row-level rules need, built once per run. The three
//! large frames (settlements, fee lines, filings) are taken from the month and freed as
//! they are converted, so a month is never held twice; texts are inline small strings or,
//! for the fee lines, one buffer a column or interned codes. Dates are days since 1970-01-01, times
//! milliseconds, money fen.

use std::collections::BTreeMap;

use polars::prelude::{PlHashMap as HashMap, PlHashSet as HashSet};

use polars::prelude::*;

use crate::units;

use crate::ingest::Month;

/// The money columns of setlinfo, in SPEC order.
pub const SETTLEMENT_MONEY: [&str; 18] = [
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
    "act_pay_dedc",
    "hifp_pay",
    "cvlserv_pay",
    "hifes_pay",
    "hifmi_pay",
    "hifob_pay",
    "maf_pay",
    "oth_pay",
    "fund_pay_sumamt",
    "psn_part_amt",
    "acct_pay",
    "psn_cash_pay",
    "hosp_part_amt",
];

pub fn money_index(name: &str) -> usize {
    SETTLEMENT_MONEY
        .iter()
        .position(|m| *m == name)
        .expect("a setlinfo money column")
}

/// A text column's values, each through `f` (nulls stay `None`).
fn texts<T: Clone>(frame: &DataFrame, name: &str, f: impl Fn(&str) -> T) -> Vec<Option<T>> {
    frame
        .column(name)
        .and_then(|c| c.str().cloned())
        .map(|c| c.iter().map(|v| v.map(&f)).collect())
        .unwrap_or_else(|_| vec![None; frame.height()])
}

fn strings(frame: &DataFrame, name: &str) -> Vec<Option<String>> {
    texts(frame, name, str::to_owned)
}

fn required(frame: &DataFrame, name: &str) -> Vec<String> {
    strings(frame, name)
        .into_iter()
        .map(Option::unwrap_or_default)
        .collect()
}

/// A text column as small strings (inline up to 24 bytes: no allocation a cell).
fn smalls(frame: &DataFrame, name: &str) -> Vec<Option<PlSmallStr>> {
    texts(frame, name, PlSmallStr::from_str)
}

fn required_smalls(frame: &DataFrame, name: &str) -> Vec<PlSmallStr> {
    smalls(frame, name)
        .into_iter()
        .map(Option::unwrap_or_default)
        .collect()
}

/// An integer column's values (dates as days, times as milliseconds), each through `f`,
/// in one pass.
fn map_ints<T>(column: &Column, f: impl Fn(Option<i64>) -> T) -> Vec<T> {
    match column.dtype() {
        DataType::Date => column
            .date()
            .map(|d| d.physical().iter().map(|v| f(v.map(i64::from))).collect())
            .unwrap_or_default(),
        DataType::Datetime(..) => column
            .datetime()
            .map(|d| d.physical().iter().map(&f).collect())
            .unwrap_or_default(),
        _ => column
            .i64()
            .map(|c| c.iter().map(&f).collect())
            .unwrap_or_default(),
    }
}

fn ints(frame: &DataFrame, name: &str) -> Vec<Option<i64>> {
    map_ints(frame.column(name).expect("a column of the schema"), |v| v)
}

/// An integer column with nulls as 0 (no `Option` a cell in between).
pub(crate) fn column_ints(column: &Column) -> Vec<i64> {
    map_ints(column, Option::unwrap_or_default)
}

fn dates(frame: &DataFrame, name: &str) -> Vec<Option<i32>> {
    ints(frame, name)
        .into_iter()
        .map(|v| v.map(|d| d as i32))
        .collect()
}

/// One accepted setlinfo row.
#[derive(Debug, Clone)]
pub struct Settlement {
    pub hospital_dir: PlSmallStr,
    pub line: i64,
    pub setl_id: PlSmallStr,
    pub psn_no: PlSmallStr,
    pub insutype: PlSmallStr,
    pub insuplc_admdvs: PlSmallStr,
    pub fixmedins_code: PlSmallStr,
    pub mdtrtarea_admvs: PlSmallStr,
    pub med_type: PlSmallStr,
    pub clr_type: PlSmallStr,
    pub emg_flag: bool,
    pub begndate: i32,
    pub enddate: i32,
    pub setl_time: i64,
    pub opsp_dise_code: Option<PlSmallStr>,
    pub reversal: bool,
    pub init_setl_id: Option<PlSmallStr>,
    /// In the order of [`SETTLEMENT_MONEY`], fen.
    pub money: [i64; 18],
}

impl Settlement {
    pub fn amount(&self, column: &str) -> i64 {
        self.money[money_index(column)]
    }

    pub fn fund_pay_sumamt(&self) -> i64 {
        self.amount("fund_pay_sumamt")
    }

    pub fn is_inpatient(&self) -> bool {
        matches!(self.med_type.as_str(), "21" | "22" | "23" | "24")
    }

    /// `emg_flag = 1`, or med_type 13 or 24 (SPEC §4).
    pub fn is_emergency(&self) -> bool {
        self.emg_flag || matches!(self.med_type.as_str(), "13" | "24")
    }

    /// The policy group of its med_type (SPEC §2 policy.csv).
    pub fn med_grp(&self) -> &'static str {
        match self.med_type.as_str() {
            "14" => "opsp",
            "11" | "13" => "op",
            _ => "ip",
        }
    }
}

pub fn settlements(frame: &DataFrame) -> Vec<Settlement> {
    let n = frame.height();
    let dir = required_smalls(frame, "hospital_dir");
    let line = ints(frame, "line");
    let setl_id = required_smalls(frame, "setl_id");
    let psn_no = required_smalls(frame, "psn_no");
    let insutype = required_smalls(frame, "insutype");
    let insuplc = required_smalls(frame, "insuplc_admdvs");
    let fixmedins = required_smalls(frame, "fixmedins_code");
    let area = required_smalls(frame, "mdtrtarea_admvs");
    let med_type = required_smalls(frame, "med_type");
    let clr_type = required_smalls(frame, "clr_type");
    let emg = required_smalls(frame, "emg_flag");
    let begndate = dates(frame, "begndate");
    let enddate = dates(frame, "enddate");
    let setl_time = ints(frame, "setl_time");
    let opsp = smalls(frame, "opsp_dise_code");
    let refd = required_smalls(frame, "refd_setl_flag");
    let init = smalls(frame, "init_setl_id");
    let money: Vec<Vec<Option<i64>>> = SETTLEMENT_MONEY.iter().map(|m| ints(frame, m)).collect();
    (0..n)
        .map(|i| Settlement {
            hospital_dir: dir[i].clone(),
            line: line[i].unwrap_or_default(),
            setl_id: setl_id[i].clone(),
            psn_no: psn_no[i].clone(),
            insutype: insutype[i].clone(),
            insuplc_admdvs: insuplc[i].clone(),
            fixmedins_code: fixmedins[i].clone(),
            mdtrtarea_admvs: area[i].clone(),
            med_type: med_type[i].clone(),
            clr_type: clr_type[i].clone(),
            emg_flag: emg[i] == "1",
            begndate: begndate[i].unwrap_or_default(),
            enddate: enddate[i].unwrap_or_default(),
            setl_time: setl_time[i].unwrap_or_default(),
            opsp_dise_code: opsp[i].clone(),
            reversal: refd[i] == "1",
            init_setl_id: init[i].clone(),
            money: std::array::from_fn(|m| money[m][i].unwrap_or_default()),
        })
        .collect()
}

/// One accepted filing (备案).
#[derive(Debug, Clone)]
pub struct Filing {
    pub trt_dcla_detl_sn: PlSmallStr,
    pub psn_no: PlSmallStr,
    pub certno: Option<PlSmallStr>,
    pub insutype: PlSmallStr,
    pub insu_admdvs: PlSmallStr,
    pub rloc_rea: PlSmallStr,
    pub rloc_admdvs: PlSmallStr,
    pub begndate: i32,
    pub enddate: Option<i32>,
    pub crte_time: i64,
    pub valid: bool,
    pub updt_time: i64,
}

impl Filing {
    pub fn is_long_term(&self) -> bool {
        matches!(self.rloc_rea.as_str(), "11" | "12" | "13")
    }
}

pub fn filings(frame: &DataFrame) -> Vec<Filing> {
    let sn = required_smalls(frame, "trt_dcla_detl_sn");
    let psn = required_smalls(frame, "psn_no");
    let certno = smalls(frame, "certno");
    let insutype = required_smalls(frame, "insutype");
    let insu = required_smalls(frame, "insu_admdvs");
    let rea = required_smalls(frame, "rloc_rea");
    let rloc = required_smalls(frame, "rloc_admdvs");
    let beg = dates(frame, "begndate");
    let end = dates(frame, "enddate");
    let crte = ints(frame, "crte_time");
    let vali = required_smalls(frame, "vali_flag");
    let updt = ints(frame, "updt_time");
    (0..frame.height())
        .map(|i| Filing {
            trt_dcla_detl_sn: sn[i].clone(),
            psn_no: psn[i].clone(),
            certno: certno[i].clone(),
            insutype: insutype[i].clone(),
            insu_admdvs: insu[i].clone(),
            rloc_rea: rea[i].clone(),
            rloc_admdvs: rloc[i].clone(),
            begndate: beg[i].unwrap_or_default(),
            enddate: end[i],
            crte_time: crte[i].unwrap_or_default(),
            valid: vali[i] == "1",
            updt_time: updt[i].unwrap_or_default(),
        })
        .collect()
}

/// One hospital of the registry (the first row of each code; later ones were rejected).
#[derive(Debug, Clone)]
pub struct Hospital {
    pub fixmedins_code: String,
    pub fixmedins_name: String,
    pub fix_blng_admdvs: String,
    pub hosp_lv: String,
    pub ydjy_begndate: i32,
    pub ydjy_enddate: Option<i32>,
    pub ip: bool,
    pub op: bool,
    pub opsp: bool,
}

pub fn hospitals(frame: &DataFrame) -> HashMap<String, Hospital> {
    let code = required(frame, "fixmedins_code");
    let name = required(frame, "fixmedins_name");
    let area = required(frame, "fix_blng_admdvs");
    let lv = required(frame, "hosp_lv");
    let beg = dates(frame, "ydjy_begndate");
    let end = dates(frame, "ydjy_enddate");
    let ip = required(frame, "ip_flag");
    let op = required(frame, "op_flag");
    let opsp = required(frame, "opsp_flag");
    let mut map = HashMap::with_capacity_and_hasher(frame.height(), Default::default());
    for i in 0..frame.height() {
        map.entry(code[i].clone()).or_insert_with(|| Hospital {
            fixmedins_code: code[i].clone(),
            fixmedins_name: name[i].clone(),
            fix_blng_admdvs: area[i].clone(),
            hosp_lv: lv[i].clone(),
            ydjy_begndate: beg[i].unwrap_or_default(),
            ydjy_enddate: end[i],
            ip: ip[i] == "1",
            op: op[i] == "1",
            opsp: opsp[i] == "1",
        });
    }
    map
}

/// One enrollment row.
#[derive(Debug, Clone)]
pub struct Enrollment {
    pub insured: bool,
    pub begndate: i32,
    pub enddate: Option<i32>,
    pub wait_end: Option<i32>,
}

/// Enrollment rows by (`psn_no`, `insutype`).
pub fn enrollment(frame: &DataFrame) -> HashMap<(PlSmallStr, PlSmallStr), Vec<Enrollment>> {
    let psn = required_smalls(frame, "psn_no");
    let insutype = required_smalls(frame, "insutype");
    let stas = required_smalls(frame, "psn_insu_stas");
    let beg = dates(frame, "begndate");
    let end = dates(frame, "enddate");
    let wait = dates(frame, "wait_end");
    let mut map: HashMap<(PlSmallStr, PlSmallStr), Vec<Enrollment>> = HashMap::default();
    for i in 0..frame.height() {
        map.entry((psn[i].clone(), insutype[i].clone()))
            .or_default()
            .push(Enrollment {
                insured: stas[i] == "1",
                begndate: beg[i].unwrap_or_default(),
                enddate: end[i],
                wait_end: wait[i],
            });
    }
    map
}

/// The chronic outpatient diseases each insured province settles cross-province.
pub fn opsp_diseases(frame: &DataFrame) -> HashSet<(String, String)> {
    let prov = required(frame, "prov");
    let code = required(frame, "opsp_dise_code");
    prov.into_iter().zip(code).collect()
}

/// Area code → name, for details people read.
pub fn region_names(frame: &DataFrame) -> BTreeMap<String, String> {
    required(frame, "admdvs")
        .into_iter()
        .zip(required(frame, "name"))
        .collect()
}

/// What the rules read of a month.
pub struct Model {
    pub settlements: Vec<Settlement>,
    pub fee_lines: FeeLines,
    /// (hospital directory, raw `setl_id`) of the rejected fee lines.
    pub rejected_fee_lines: HashSet<(String, String)>,
    pub catalogue: Catalogue,
    pub policy: Vec<PolicyRow>,
    pub ytd: HashMap<(String, String, String), (i64, i64)>,
    pub summary: DataFrame,
    pub filings: Vec<Filing>,
    pub hospitals: HashMap<String, Hospital>,
    pub enrollment: Option<HashMap<(PlSmallStr, PlSmallStr), Vec<Enrollment>>>,
    pub opsp_diseases: HashSet<(String, String)>,
    pub regions: crate::ingest::Regions,
}

impl Model {
    /// The rows of `month`, with year-to-date figures of `year` (the month being cleared).
    /// The three large frames (settlements, fee lines, filings) are taken from `month` and
    /// freed as they are converted: write what needs them first.
    pub fn new(month: &mut Month, year: i32) -> Model {
        let feedetail = std::mem::take(&mut month.feedetail);
        let setlinfo = std::mem::take(&mut month.setlinfo);
        let filing_frame = std::mem::take(&mut month.filings);
        let month = &*month;
        let regions = crate::ingest::Regions::new(
            required(&month.regions, "admdvs")
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        );
        // The three large tables are built side by side, the small ones beside them.
        let (fee_lines, ((settlements, filings), (catalogue, enrollment))) = rayon::join(
            || FeeLines::new(feedetail),
            || {
                rayon::join(
                    || {
                        // Each frame is freed as soon as its rows are built.
                        rayon::join(
                            move || settlements(&setlinfo),
                            move || filings(&filing_frame),
                        )
                    },
                    || {
                        rayon::join(
                            || catalogue(&month.catalogue),
                            || month.enrollment.as_ref().map(enrollment),
                        )
                    },
                )
            },
        );
        Model {
            settlements,
            fee_lines,
            rejected_fee_lines: month.rejected_fee_lines.iter().cloned().collect(),
            catalogue,
            policy: policy(&month.policy),
            ytd: month.ytd.as_ref().map(|f| ytd(f, year)).unwrap_or_default(),
            summary: month.summary.clone(),
            filings,
            hospitals: hospitals(&month.hospitals),
            enrollment,
            opsp_diseases: opsp_diseases(&month.opsp_diseases),
            regions,
        }
    }
}

/// The first two digits of an area code.
pub fn prov(area: &str) -> &str {
    area.get(..2).unwrap_or(area)
}

/// A column of text, every value in one buffer: for the tens of millions of fee lines, a
/// `String` a cell would cost an allocation and 24 bytes more each.
#[derive(Debug, Default, Clone)]
pub struct TextColumn {
    text: String,
    /// Where each value ends in `text`.
    ends: Vec<usize>,
}

impl TextColumn {
    /// A text column's values, a null as the empty text.
    pub fn from_column(values: &Column) -> TextColumn {
        let mut column = TextColumn::default();
        if let Ok(values) = values.str() {
            column.ends.reserve(values.len());
            for value in values.iter() {
                column.text.push_str(value.unwrap_or_default());
                column.ends.push(column.text.len());
            }
        } else {
            column.ends = vec![0; values.len()];
        }
        column
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

impl std::ops::Index<usize> for TextColumn {
    type Output = str;

    fn index(&self, k: usize) -> &str {
        let start = if k == 0 { 0 } else { self.ends[k - 1] };
        &self.text[start..self.ends[k]]
    }
}

/// A column of few distinct texts (a hospital directory, a code): each value once, and a
/// 4-byte index a row.
#[derive(Debug, Default, Clone)]
pub struct CodeColumn {
    values: Vec<PlSmallStr>,
    index: Vec<u32>,
}

impl CodeColumn {
    /// A text column's values, a null as the empty text.
    pub fn from_column(values: &Column) -> CodeColumn {
        let mut column = CodeColumn::default();
        let mut known: HashMap<PlSmallStr, u32> = HashMap::default();
        let Ok(values) = values.str() else {
            column.values.push(PlSmallStr::EMPTY);
            column.index = vec![0; values.len()];
            return column;
        };
        column.index.reserve(values.len());
        // Runs of one value are common (a hospital's directory): checked before the map.
        let mut last: Option<(&str, u32)> = None;
        for value in values.iter() {
            let value = value.unwrap_or_default();
            let k = match last {
                Some((text, k)) if text == value => k,
                _ => {
                    let k = *known.entry(PlSmallStr::from_str(value)).or_insert_with(|| {
                        column.values.push(PlSmallStr::from_str(value));
                        (column.values.len() - 1) as u32
                    });
                    last = Some((value, k));
                    k
                }
            };
            column.index.push(k);
        }
        column
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}

impl std::ops::Index<usize> for CodeColumn {
    type Output = str;

    fn index(&self, k: usize) -> &str {
        &self.values[self.index[k] as usize]
    }
}

/// The fee lines, column by column (they are the largest table: no row structs).
pub struct FeeLines {
    pub hospital_dir: CodeColumn,
    pub line: Vec<i64>,
    pub setl_id: TextColumn,
    pub feedetl_sn: TextColumn,
    pub fee_ocur_day: Vec<i32>,
    pub med_list_codg: CodeColumn,
    /// Units of 0.0001.
    pub cnt: Vec<i64>,
    /// Units of 0.000001.
    pub pric: Vec<i64>,
    pub det_item_fee_sumamt: Vec<i64>,
    pub chrgitm_lv: CodeColumn,
    /// Units of 0.0001.
    pub selfpay_prop: Vec<i64>,
    pub fulamt_ownpay_amt: Vec<i64>,
    pub overlmt_amt: Vec<i64>,
    pub preselfpay_amt: Vec<i64>,
    pub inscp_scp_amt: Vec<i64>,
}

/// What one fee-line column becomes.
enum Built {
    Text(TextColumn),
    Code(CodeColumn),
    Numbers(Vec<i64>),
}

impl FeeLines {
    /// Takes the fee-line frame and converts it column by column, each frame column freed
    /// once converted (the frame and the rows are never both whole in memory).
    pub fn new(mut frame: DataFrame) -> FeeLines {
        use rayon::prelude::*;
        const TEXT: [&str; 2] = ["setl_id", "feedetl_sn"];
        const CODES: [&str; 3] = ["hospital_dir", "med_list_codg", "chrgitm_lv"];
        const NUMBERS: [&str; 10] = [
            "line",
            "cnt",
            "pric",
            "det_item_fee_sumamt",
            "selfpay_prop",
            "fulamt_ownpay_amt",
            "overlmt_amt",
            "preselfpay_amt",
            "inscp_scp_amt",
            "fee_ocur_time",
        ];
        let columns: Vec<(&str, Column)> = TEXT
            .iter()
            .chain(&CODES)
            .chain(&NUMBERS)
            .map(|&name| {
                let column = frame
                    .drop_in_place(name)
                    .expect("a fee-line column of the schema");
                (name, column)
            })
            .collect();
        // The columns no rule reads go now.
        drop(frame);
        let mut built: Vec<(&str, Built)> = columns
            .into_par_iter()
            .map(|(name, column)| {
                let built = if TEXT.contains(&name) {
                    Built::Text(TextColumn::from_column(&column))
                } else if CODES.contains(&name) {
                    Built::Code(CodeColumn::from_column(&column))
                } else if name == "fee_ocur_time" {
                    Built::Numbers(
                        column_ints(&column)
                            .into_iter()
                            .map(|t| {
                                i64::from(units::days_since_epoch(
                                    units::time_from_millis(t).date(),
                                ))
                            })
                            .collect(),
                    )
                } else {
                    Built::Numbers(column_ints(&column))
                };
                (name, built)
            })
            .collect();
        let mut take = |name: &str| {
            let k = built
                .iter()
                .position(|(n, _)| *n == name)
                .expect("a built column");
            built.swap_remove(k).1
        };
        let mut text = |name: &str| match take(name) {
            Built::Text(t) => t,
            _ => unreachable!("{name} is a text column"),
        };
        let (setl_id, feedetl_sn) = (text("setl_id"), text("feedetl_sn"));
        let mut code = |name: &str| match take(name) {
            Built::Code(c) => c,
            _ => unreachable!("{name} is a code column"),
        };
        let (hospital_dir, med_list_codg, chrgitm_lv) = (
            code("hospital_dir"),
            code("med_list_codg"),
            code("chrgitm_lv"),
        );
        let mut number = |name: &str| match take(name) {
            Built::Numbers(v) => v,
            _ => unreachable!("{name} is a number column"),
        };
        FeeLines {
            hospital_dir,
            line: number("line"),
            setl_id,
            feedetl_sn,
            fee_ocur_day: number("fee_ocur_time")
                .into_iter()
                .map(|d| d as i32)
                .collect(),
            med_list_codg,
            cnt: number("cnt"),
            pric: number("pric"),
            det_item_fee_sumamt: number("det_item_fee_sumamt"),
            chrgitm_lv,
            selfpay_prop: number("selfpay_prop"),
            fulamt_ownpay_amt: number("fulamt_ownpay_amt"),
            overlmt_amt: number("overlmt_amt"),
            preselfpay_amt: number("preselfpay_amt"),
            inscp_scp_amt: number("inscp_scp_amt"),
        }
    }

    pub fn len(&self) -> usize {
        self.setl_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.setl_id.is_empty()
    }
}

/// One catalogue row (就医地目录).
#[derive(Debug, Clone)]
pub struct CatalogueItem {
    pub chrgitm_lv: String,
    pub selfpay_prop: i64,
    /// Fen; `None` is no ceiling.
    pub pric_uplmt_amt: Option<i64>,
    pub begndate: i32,
    pub enddate: Option<i32>,
    /// Its place in the file, for ties.
    pub order: usize,
}

/// Catalogue rows by treatment province, then `med_list_codg` (looked up by `&str`).
pub type Catalogue = HashMap<String, HashMap<String, Vec<CatalogueItem>>>;

pub fn catalogue(frame: &DataFrame) -> Catalogue {
    let prov = required(frame, "prov");
    let code = required(frame, "med_list_codg");
    let lv = required(frame, "chrgitm_lv");
    let sp = ints(frame, "selfpay_prop");
    let up = ints(frame, "pric_uplmt_amt");
    let beg = dates(frame, "begndate");
    let end = dates(frame, "enddate");
    let mut map: Catalogue = HashMap::default();
    for i in 0..frame.height() {
        map.entry(prov[i].clone())
            .or_default()
            .entry(code[i].clone())
            .or_default()
            .push(CatalogueItem {
                chrgitm_lv: lv[i].clone(),
                selfpay_prop: sp[i].unwrap_or_default(),
                pric_uplmt_amt: up[i],
                begndate: beg[i].unwrap_or_default(),
                enddate: end[i],
                order: i,
            });
    }
    map
}

/// The catalogue row valid on `day`: the latest `begndate`, ties to the first in the file.
pub fn catalogue_item(rows: &[CatalogueItem], day: i32) -> Option<&CatalogueItem> {
    rows.iter()
        .filter(|r| r.begndate <= day && r.enddate.is_none_or(|end| day <= end))
        .min_by_key(|r| (std::cmp::Reverse(r.begndate), r.order))
}

/// One policy row (参保地政策).
#[derive(Debug, Clone)]
pub struct PolicyRow {
    pub insuplc_admdvs: String,
    pub insutype: String,
    pub med_grp: String,
    pub dedc_hosp_lv: String,
    pub dedc_std: i64,
    pub per_year: bool,
    /// Units of 0.0001.
    pub pool_prop: i64,
    pub cap_year: i64,
    pub begndate: i32,
    pub enddate: Option<i32>,
}

pub fn policy(frame: &DataFrame) -> Vec<PolicyRow> {
    let area = required(frame, "insuplc_admdvs");
    let insutype = required(frame, "insutype");
    let grp = required(frame, "med_grp");
    let lv = required(frame, "dedc_hosp_lv");
    let dedc = ints(frame, "dedc_std");
    let basis = required(frame, "dedc_basis");
    let pool = ints(frame, "pool_prop");
    let cap = ints(frame, "cap_year");
    let beg = dates(frame, "begndate");
    let end = dates(frame, "enddate");
    (0..frame.height())
        .map(|i| PolicyRow {
            insuplc_admdvs: area[i].clone(),
            insutype: insutype[i].clone(),
            med_grp: grp[i].clone(),
            dedc_hosp_lv: lv[i].clone(),
            dedc_std: dedc[i].unwrap_or_default(),
            per_year: basis[i] == "year",
            pool_prop: pool[i].unwrap_or_default(),
            cap_year: cap[i].unwrap_or_default(),
            begndate: beg[i].unwrap_or_default(),
            enddate: end[i],
        })
        .collect()
}

/// A hospital's tier for the policy (SPEC §2): 3 for 01–04 and 12, 2 for 05–07 and 13,
/// 1 for the rest.
pub fn tier(hosp_lv: &str) -> &'static str {
    match hosp_lv {
        "01" | "02" | "03" | "04" | "12" => "3",
        "05" | "06" | "07" | "13" => "2",
        _ => "1",
    }
}

/// Year-to-date (`dedc_used`, `hifp_paid`) by (`psn_no`, `insutype`, `med_grp`) for `year`;
/// several rows of one key are summed.
pub fn ytd(frame: &DataFrame, year: i32) -> HashMap<(String, String, String), (i64, i64)> {
    let psn = required(frame, "psn_no");
    let insutype = required(frame, "insutype");
    let grp = required(frame, "med_grp");
    let years = ints(frame, "year");
    let used = ints(frame, "dedc_used");
    let paid = ints(frame, "hifp_paid");
    let mut map: HashMap<(String, String, String), (i64, i64)> = HashMap::default();
    for i in 0..frame.height() {
        if years[i] != Some(i64::from(year)) {
            continue;
        }
        let entry = map
            .entry((psn[i].clone(), insutype[i].clone(), grp[i].clone()))
            .or_default();
        entry.0 += used[i].unwrap_or_default();
        entry.1 += paid[i].unwrap_or_default();
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(values: &[Option<&str>]) -> Column {
        StringChunked::from_iter_options("c".into(), values.iter().copied()).into_column()
    }

    #[test]
    fn a_code_column_gives_back_every_value_and_stores_each_once() {
        let values = [
            Some("H1"),
            Some("H1"),
            Some("H2"),
            None,
            Some("H1"),
            Some("H2"),
        ];
        let column = CodeColumn::from_column(&texts(&values));
        assert_eq!(column.len(), values.len());
        for (k, value) in values.iter().enumerate() {
            assert_eq!(&column[k], value.unwrap_or_default(), "row {k}");
        }
        // H1, H2 and the empty text of the null.
        assert_eq!(column.values.len(), 3);
    }

    #[test]
    fn a_text_column_gives_back_every_value() {
        let values = [
            Some("S000000000001"),
            None,
            Some(""),
            Some("南昌"),
            Some("1"),
        ];
        let column = TextColumn::from_column(&texts(&values));
        assert_eq!(column.len(), values.len());
        for (k, value) in values.iter().enumerate() {
            assert_eq!(&column[k], value.unwrap_or_default(), "row {k}");
        }
    }

    #[test]
    fn fee_lines_are_converted_whole_from_a_frame_they_consume() {
        let frame = df!(
            "hospital_dir" => ["H1", "H1", "H2"],
            "line" => [2i64, 3, 2],
            "setl_id" => ["S1", "S1", "S9"],
            "feedetl_sn" => ["1", "2", "1"],
            "fee_ocur_time" => [0i64, 86_400_000, 2 * 86_400_000],
            "med_list_codg" => ["XA1", "XB2", "XA1"],
            "cnt" => [10_000i64, 20_000, 5_000],
            "pric" => [1_000_000i64, 2_000_000, 3_000_000],
            "det_item_fee_sumamt" => [100i64, 400, 150],
            "chrgitm_lv" => ["01", "02", "01"],
            "selfpay_prop" => [0i64, 1_000, 0],
            "fulamt_ownpay_amt" => [0i64, 0, 150],
            "overlmt_amt" => [0i64, 0, 0],
            "preselfpay_amt" => [0i64, 40, 0],
            "inscp_scp_amt" => [100i64, 360, 0],
        )
        .unwrap();
        let lines = FeeLines::new(frame);
        assert_eq!(lines.len(), 3);
        assert_eq!(&lines.hospital_dir[2], "H2");
        assert_eq!(&lines.setl_id[1], "S1");
        assert_eq!(&lines.feedetl_sn[1], "2");
        assert_eq!(&lines.med_list_codg[2], "XA1");
        assert_eq!(&lines.chrgitm_lv[1], "02");
        assert_eq!(lines.line, [2, 3, 2]);
        assert_eq!(lines.fee_ocur_day, [0, 1, 2]);
        assert_eq!(lines.det_item_fee_sumamt, [100, 400, 150]);
        assert_eq!(lines.preselfpay_amt, [0, 40, 0]);
        assert_eq!(lines.inscp_scp_amt, [100, 360, 0]);
    }
}
