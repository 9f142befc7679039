//! Row views of the ingested frames that the rules read: settlements, filings, hospitals.
//!
//! Typed copies of the columns the row-level rules need, built once per run. The three
//! large frames (settlements, fee lines, filings) are taken from the month and freed as
//! they are converted, so a month is never held twice; texts are inline small strings or,
//! for the fee lines, one buffer a column or interned codes. Dates are days since 1970-01-01, times
//! milliseconds, money fen.

use std::collections::BTreeMap;
use std::sync::Arc;

use polars::prelude::{PlHashMap as HashMap, PlHashSet as HashSet};

use polars::prelude::*;

use crate::codes::{ChrgitmLv, ClrType, Insutype, MedGrp, MedType, RlocRea};
use crate::ingest::Month;

mod fee_lines;
mod money;
mod reference;
mod rows;

pub use fee_lines::{CodeColumn, FeeLines, TextColumn, keys_by_view};
pub use money::{Amounts, Money};
pub use reference::{
    Catalogue, CatalogueItem, PolicyRow, catalogue, catalogue_item, policy, tier, ytd,
};
pub use rows::{FilingRow, LineRow, PerLine, PerSettlement, SetlRow, TiSlice, TiVec};

/// A text column's values, each through `f` (nulls stay `None`).
pub(super) fn texts<T: Clone>(
    frame: &DataFrame,
    name: &str,
    f: impl Fn(&str) -> T,
) -> Vec<Option<T>> {
    frame
        .column(name)
        .and_then(|c| c.str().cloned())
        .map(|c| c.iter().map(|v| v.map(&f)).collect())
        .unwrap_or_else(|_| vec![None; frame.height()])
}

pub(super) fn strings(frame: &DataFrame, name: &str) -> Vec<Option<String>> {
    texts(frame, name, str::to_owned)
}

pub(super) fn required(frame: &DataFrame, name: &str) -> Vec<String> {
    strings(frame, name)
        .into_iter()
        .map(Option::unwrap_or_default)
        .collect()
}

/// A text column as small strings (inline up to 24 bytes: no allocation a cell).
pub(super) fn smalls(frame: &DataFrame, name: &str) -> Vec<Option<PlSmallStr>> {
    texts(frame, name, PlSmallStr::from_str)
}

pub(super) fn required_smalls(frame: &DataFrame, name: &str) -> Vec<PlSmallStr> {
    smalls(frame, name)
        .into_iter()
        .map(Option::unwrap_or_default)
        .collect()
}

/// An integer column's values (dates as days, times as milliseconds), each through `f`,
/// in one pass.
pub(super) fn map_ints<T>(column: &Column, f: impl Fn(Option<i64>) -> T) -> Vec<T> {
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

pub(super) fn ints(frame: &DataFrame, name: &str) -> Vec<Option<i64>> {
    map_ints(frame.column(name).expect("a column of the schema"), |v| v)
}

/// An integer column with nulls as 0 (no `Option` a cell in between): a chunk without
/// nulls is copied whole.
pub(crate) fn column_ints(column: &Column) -> Vec<i64> {
    fn extend<T: polars_arrow::types::NativeType + Into<i64>>(
        out: &mut Vec<i64>,
        chunk: &polars_arrow::array::PrimitiveArray<T>,
    ) {
        match chunk.validity().filter(|v| v.unset_bits() > 0) {
            None => out.extend(chunk.values().iter().map(|&v| v.into())),
            Some(valid) => out.extend(
                chunk
                    .values()
                    .iter()
                    .zip(valid.iter())
                    .map(|(&v, ok)| if ok { v.into() } else { 0 }),
            ),
        }
    }
    let mut out = Vec::with_capacity(column.len());
    match column.dtype() {
        DataType::Date => {
            if let Ok(dates) = column.date() {
                dates
                    .physical()
                    .downcast_iter()
                    .for_each(|c| extend(&mut out, c));
            }
        }
        DataType::Datetime(..) => {
            if let Ok(times) = column.datetime() {
                times
                    .physical()
                    .downcast_iter()
                    .for_each(|c| extend(&mut out, c));
            }
        }
        _ => {
            if let Ok(ints) = column.i64() {
                ints.downcast_iter().for_each(|c| extend(&mut out, c));
            }
        }
    }
    out
}

/// A coded column's values as its enum. Ingestion admits only codes of the set (SPEC §12),
/// so every accepted row's code parses.
pub(super) fn coded<T>(frame: &DataFrame, name: &str, parse: fn(&str) -> Option<T>) -> Vec<T> {
    let column = frame.column(name).and_then(|c| c.str().cloned());
    let column = column.expect("a coded column of the schema");
    column
        .iter()
        .map(|v| parse(v.unwrap_or_default()).expect("ingestion admits only the codes of the set"))
        .collect()
}

pub(super) fn dates(frame: &DataFrame, name: &str) -> Vec<Option<i32>> {
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
    pub insutype: Insutype,
    pub insuplc_admdvs: PlSmallStr,
    pub fixmedins_code: PlSmallStr,
    pub mdtrtarea_admvs: PlSmallStr,
    pub med_type: MedType,
    pub clr_type: ClrType,
    pub emg_flag: bool,
    pub begndate: i32,
    pub enddate: i32,
    pub setl_time: i64,
    pub opsp_dise_code: Option<PlSmallStr>,
    pub reversal: bool,
    pub init_setl_id: Option<PlSmallStr>,
    pub money: Amounts,
}

impl Settlement {
    pub fn amount(&self, column: Money) -> i64 {
        self.money[column]
    }

    pub fn fund_pay_sumamt(&self) -> i64 {
        self.amount(Money::FundPaySumamt)
    }

    pub fn is_inpatient(&self) -> bool {
        self.med_type.is_inpatient()
    }

    /// `emg_flag = 1`, or med_type 13 or 24 (SPEC §4).
    pub fn is_emergency(&self) -> bool {
        self.emg_flag || self.med_type.is_emergency()
    }

    /// The policy group of its med_type (SPEC §2 policy.csv).
    pub fn med_grp(&self) -> MedGrp {
        self.med_type.group()
    }
}

pub fn settlements(frame: &DataFrame) -> PerSettlement<Settlement> {
    let n = frame.height();
    let dir = required_smalls(frame, "hospital_dir");
    let line = ints(frame, "line");
    let setl_id = required_smalls(frame, "setl_id");
    let psn_no = required_smalls(frame, "psn_no");
    let insutype = coded(frame, "insutype", Insutype::parse);
    let insuplc = required_smalls(frame, "insuplc_admdvs");
    let fixmedins = required_smalls(frame, "fixmedins_code");
    let area = required_smalls(frame, "mdtrtarea_admvs");
    let med_type = coded(frame, "med_type", MedType::parse);
    let clr_type = coded(frame, "clr_type", ClrType::parse);
    let emg = required_smalls(frame, "emg_flag");
    let begndate = dates(frame, "begndate");
    let enddate = dates(frame, "enddate");
    let setl_time = ints(frame, "setl_time");
    let opsp = smalls(frame, "opsp_dise_code");
    let refd = required_smalls(frame, "refd_setl_flag");
    let init = smalls(frame, "init_setl_id");
    let money: Vec<Vec<Option<i64>>> = Money::ALL.iter().map(|m| ints(frame, m.name())).collect();
    (0..n)
        .map(|i| Settlement {
            hospital_dir: dir[i].clone(),
            line: line[i].unwrap_or_default(),
            setl_id: setl_id[i].clone(),
            psn_no: psn_no[i].clone(),
            insutype: insutype[i],
            insuplc_admdvs: insuplc[i].clone(),
            fixmedins_code: fixmedins[i].clone(),
            mdtrtarea_admvs: area[i].clone(),
            med_type: med_type[i],
            clr_type: clr_type[i],
            emg_flag: emg[i] == "1",
            begndate: begndate[i].unwrap_or_default(),
            enddate: enddate[i].unwrap_or_default(),
            setl_time: setl_time[i].unwrap_or_default(),
            opsp_dise_code: opsp[i].clone(),
            reversal: refd[i] == "1",
            init_setl_id: init[i].clone(),
            money: Amounts(std::array::from_fn(|m| money[m][i].unwrap_or_default())),
        })
        .collect()
}

/// One accepted filing (备案).
#[derive(Debug, Clone)]
pub struct Filing {
    pub trt_dcla_detl_sn: PlSmallStr,
    pub psn_no: PlSmallStr,
    pub certno: Option<PlSmallStr>,
    pub insutype: Insutype,
    pub insu_admdvs: PlSmallStr,
    pub rloc_rea: RlocRea,
    pub rloc_admdvs: PlSmallStr,
    pub begndate: i32,
    pub enddate: Option<i32>,
    pub crte_time: i64,
    pub valid: bool,
    pub updt_time: i64,
}

impl Filing {
    pub fn is_long_term(&self) -> bool {
        self.rloc_rea.is_long_term()
    }
}

pub fn filings(frame: &DataFrame) -> TiVec<FilingRow, Filing> {
    let sn = required_smalls(frame, "trt_dcla_detl_sn");
    let psn = required_smalls(frame, "psn_no");
    let certno = smalls(frame, "certno");
    let insutype = coded(frame, "insutype", Insutype::parse);
    let insu = required_smalls(frame, "insu_admdvs");
    let rea = coded(frame, "rloc_rea", RlocRea::parse);
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
            insutype: insutype[i],
            insu_admdvs: insu[i].clone(),
            rloc_rea: rea[i],
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
pub fn enrollment(frame: &DataFrame) -> HashMap<(PlSmallStr, Insutype), Vec<Enrollment>> {
    let psn = required_smalls(frame, "psn_no");
    let insutype = coded(frame, "insutype", Insutype::parse);
    let stas = required_smalls(frame, "psn_insu_stas");
    let beg = dates(frame, "begndate");
    let end = dates(frame, "enddate");
    let wait = dates(frame, "wait_end");
    let mut map: HashMap<(PlSmallStr, Insutype), Vec<Enrollment>> = HashMap::default();
    for i in 0..frame.height() {
        map.entry((psn[i].clone(), insutype[i]))
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
    pub settlements: PerSettlement<Settlement>,
    pub fee_lines: FeeLines,
    /// (hospital directory, raw `setl_id`) of the rejected fee lines.
    pub rejected_fee_lines: HashSet<(String, String)>,
    /// The month's, shared by its parts (built once: [`catalogue`]).
    pub catalogue: Arc<Catalogue>,
    pub policy: Vec<PolicyRow>,
    pub ytd: HashMap<(String, Insutype, MedGrp), (i64, i64)>,
    pub summary: DataFrame,
    pub filings: TiVec<FilingRow, Filing>,
    pub hospitals: HashMap<String, Hospital>,
    pub enrollment: Option<HashMap<(PlSmallStr, Insutype), Vec<Enrollment>>>,
    pub opsp_diseases: HashSet<(String, String)>,
    pub regions: crate::ingest::Regions,
}

impl Model {
    /// The rows of `month`, with year-to-date figures of `year` (the month being cleared),
    /// and the month's `catalogue` (of `month.catalogue`). The three large frames
    /// (settlements, fee lines, filings) are taken from `month` and freed as they are
    /// converted: write what needs them first.
    pub fn new(month: &mut Month, year: i32, catalogue: Arc<Catalogue>) -> Model {
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
        let (fee_lines, ((settlements, filings), enrollment)) = rayon::join(
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
                    || month.enrollment.as_ref().map(enrollment),
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
