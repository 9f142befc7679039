//! The reference tables as the checks read them: the treatment-place catalogue, the
//! insured-place policy, hospital tiers, and year-to-date figures.

use polars::prelude::PlHashMap as HashMap;

use polars::prelude::*;

use super::*;

/// One catalogue row (就医地目录).
#[derive(Debug, Clone)]
pub struct CatalogueItem {
    pub chrgitm_lv: ChrgitmLv,
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
    let lv = coded(frame, "chrgitm_lv", ChrgitmLv::parse);
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
                chrgitm_lv: lv[i],
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
    pub insutype: Insutype,
    pub med_grp: MedGrp,
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
    let insutype = coded(frame, "insutype", Insutype::parse);
    let grp = coded(frame, "med_grp", MedGrp::parse);
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
            insutype: insutype[i],
            med_grp: grp[i],
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
pub fn ytd(frame: &DataFrame, year: i32) -> HashMap<(String, Insutype, MedGrp), (i64, i64)> {
    let psn = required(frame, "psn_no");
    let insutype = coded(frame, "insutype", Insutype::parse);
    let grp = coded(frame, "med_grp", MedGrp::parse);
    let years = ints(frame, "year");
    let used = ints(frame, "dedc_used");
    let paid = ints(frame, "hifp_paid");
    let mut map: HashMap<(String, Insutype, MedGrp), (i64, i64)> = HashMap::default();
    for i in 0..frame.height() {
        if years[i] != Some(i64::from(year)) {
            continue;
        }
        let entry = map
            .entry((psn[i].clone(), insutype[i], grp[i]))
            .or_default();
        entry.0 += used[i].unwrap_or_default();
        entry.1 += paid[i].unwrap_or_default();
    }
    map
}
