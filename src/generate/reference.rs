//! The reference tables of a generated month: regions of all 31 provinces, networked
//! hospitals, each province's catalogue, each province's policy and chronic diseases.
//! Everything here is a pure function of the plan (no randomness beyond the seed), kept in
//! memory by the case generator, which must know what a run will look up.

use std::fmt::Write as _;

use chrono::NaiveDate;

use super::Plan;
use super::text::{money, ratio};

/// The 31 provincial-level divisions: code and short name.
pub const PROVINCES: [(&str, &str); 31] = [
    ("11", "北京"),
    ("12", "天津"),
    ("13", "河北"),
    ("14", "山西"),
    ("15", "内蒙古"),
    ("21", "辽宁"),
    ("22", "吉林"),
    ("23", "黑龙江"),
    ("31", "上海"),
    ("32", "江苏"),
    ("33", "浙江"),
    ("34", "安徽"),
    ("35", "福建"),
    ("36", "江西"),
    ("37", "山东"),
    ("41", "河南"),
    ("42", "湖北"),
    ("43", "湖南"),
    ("44", "广东"),
    ("45", "广西"),
    ("46", "海南"),
    ("50", "重庆"),
    ("51", "四川"),
    ("52", "贵州"),
    ("53", "云南"),
    ("54", "西藏"),
    ("61", "陕西"),
    ("62", "甘肃"),
    ("63", "青海"),
    ("64", "宁夏"),
    ("65", "新疆"),
];

/// The province whose residents' chronic outpatient policy is missing (POL006 cases).
pub const NO_OPSP_POLICY_PROVINCE: usize = 0;

/// The chronic outpatient diseases every province settles cross-province (the national 5),
/// then the ones some provinces add.
pub const NATIONAL_DISEASES: [(&str, &str); 5] = [
    ("M03900", "高血压"),
    ("M01600", "糖尿病"),
    ("M00500", "恶性肿瘤门诊放化疗"),
    ("M07800", "尿毒症透析"),
    ("M08300", "器官移植术后抗排异治疗"),
];
pub const EXTRA_DISEASES: [(&str, &str); 3] = [
    ("M02200", "慢性阻塞性肺疾病"),
    ("M04700", "冠心病"),
    ("M06900", "类风湿关节炎"),
];
/// Listed by no province (POL004 cases).
pub const UNLISTED_DISEASE: &str = "M09999";

pub fn area(prov: usize, city: usize) -> String {
    format!("{}{city:02}00", PROVINCES[prov].0)
}

pub fn province_area(prov: usize) -> String {
    format!("{}0000", PROVINCES[prov].0)
}

/// A networked hospital.
#[derive(Debug, Clone)]
pub struct Hospital {
    pub index: usize,
    pub code: String,
    pub prov: usize,
    pub area: String,
    pub hosp_lv: &'static str,
    /// Leaves the network in the middle of the month: later settlements are HOS001.
    pub leaves: Option<NaiveDate>,
    /// Not networked for chronic outpatient settlement: med_type 14 is HOS002.
    pub no_opsp: bool,
    /// Exports its own totals (summary.csv).
    pub summary: bool,
    /// Its summary is off by one settlement in one group (AMT003).
    pub summary_off: bool,
    pub encoding: FileEncoding,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileEncoding {
    Utf8,
    Utf8Bom,
    Gbk,
}

const LEVELS: [&str; 14] = [
    "02", "03", "05", "06", "08", "11", "12", "13", "14", "01", "04", "07", "09", "10",
];

/// The policy tier of an NHSA hospital grade (SPEC §2).
pub fn tier(hosp_lv: &str) -> u8 {
    match hosp_lv {
        "01" | "02" | "03" | "04" | "12" => 3,
        "05" | "06" | "07" | "13" => 2,
        _ => 1,
    }
}

pub fn hospitals(plan: &Plan) -> Vec<Hospital> {
    (0..plan.hospitals)
        .map(|h| {
            let prov = h % PROVINCES.len();
            let city = (h / PROVINCES.len()) % plan.cities + 1;
            let area = area(prov, city);
            Hospital {
                index: h,
                code: format!("H{area}{h:05}"),
                prov,
                area,
                hosp_lv: LEVELS[(h * 7 + h / 31) % LEVELS.len()],
                leaves: (h % 40 == 5).then(|| plan.first_day() + chrono::Days::new(14)),
                no_opsp: h % 25 == 9,
                summary: h % 5 == 0,
                summary_off: h % 20 == 10,
                encoding: match h % 7 {
                    3 => FileEncoding::Gbk,
                    4 => FileEncoding::Utf8Bom,
                    _ => FileEncoding::Utf8,
                },
            }
        })
        .collect()
}

/// A catalogue item: the same national code in every province.
#[derive(Debug, Clone)]
pub struct Item {
    pub code: String,
    pub name: String,
    pub list_type: &'static str,
    pub chrgitm_type: &'static str,
    /// 1 甲, 2 乙, 3 丙.
    pub class: u8,
    /// Units of 0.0001.
    pub selfpay: i64,
    /// Fen; the usual unit price.
    pub price: i64,
    /// Fen, for some 甲/乙 items.
    pub ceiling: Option<i64>,
    /// Whether it is used on inpatient stays only (beds, surgery).
    pub inpatient: bool,
}

impl Item {
    pub fn class_code(&self) -> &'static str {
        ["01", "02", "03"][self.class as usize - 1]
    }
}

/// Deterministic, seed-dependent per-item choices.
fn mix(seed: u64, i: u64) -> u64 {
    let mut z = seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub fn items(plan: &Plan) -> Vec<Item> {
    (0..plan.items)
        .map(|i| {
            let r = mix(plan.seed, i as u64);
            let (code, name, list_type, chrgitm_type, base) = match i % 10 {
                0..=4 => (
                    format!("XA{:021}", 100_000_000_000 + i),
                    format!("西药{i}"),
                    "101",
                    "09",
                    100 + (r % 30_000) as i64,
                ),
                5 => (
                    format!("T{:022}", 2_000_000_000 + i),
                    format!("中药饮片{i}"),
                    "102",
                    "10",
                    50 + (r % 5_000) as i64,
                ),
                6 | 7 => (
                    format!("{:015}", 110_000_000_000_000u64 + i as u64),
                    format!("诊疗项目{i}"),
                    "201",
                    if i % 20 == 6 { "01" } else { "05" },
                    500 + (r % 50_000) as i64,
                ),
                _ => (
                    format!("C{:019}", 1_000_000_000_000_000_000u64 + i as u64),
                    format!("医用耗材{i}"),
                    "301",
                    "08",
                    1_000 + (r % 200_000) as i64,
                ),
            };
            let class = match (r >> 20) % 20 {
                0..=8 => 1,
                9..=17 => 2,
                _ => 3,
            };
            let selfpay = if class == 2 {
                [500, 1000, 2000, 3000][((r >> 28) % 4) as usize]
            } else {
                0
            };
            let ceiling = (class < 3 && (r >> 36) % 10 < 3).then(|| base + base / 5);
            Item {
                code,
                name,
                list_type,
                chrgitm_type,
                class,
                selfpay,
                price: base,
                ceiling,
                inpatient: list_type == "201" && i % 20 == 6,
            }
        })
        .collect()
}

/// Whether a province's catalogue leaves the item out (CAT001 cases bill these).
pub fn omitted(prov: usize, item: usize) -> bool {
    (item + prov * 7).is_multiple_of(50)
}

pub fn regions_csv(plan: &Plan) -> String {
    let mut out = String::from("admdvs,name,prov\n");
    for (p, (code, name)) in PROVINCES.iter().enumerate() {
        for city in 1..=plan.cities {
            let _ = writeln!(out, "{},{name}第{city}统筹区,{code}", area(p, city));
        }
        let _ = writeln!(out, "{code}9900,{name}省本级,{code}");
    }
    out
}

pub fn hospitals_csv(hospitals: &[Hospital]) -> String {
    let mut out = String::from(
        "fixmedins_code,fixmedins_name,fix_blng_admdvs,hosp_lv,ydjy_begndate,ydjy_enddate,ip_flag,op_flag,opsp_flag\n",
    );
    for h in hospitals {
        let _ = writeln!(
            out,
            "{},{}第{}医院,{},{},2018-01-01,{},1,1,{}",
            h.code,
            PROVINCES[h.prov].1,
            h.index + 1,
            h.area,
            h.hosp_lv,
            h.leaves.map(|d| d.to_string()).unwrap_or_default(),
            if h.no_opsp { 0 } else { 1 }
        );
    }
    out
}

pub fn catalogue_csv(items: &[Item]) -> String {
    let mut out = String::from(
        "prov,med_list_codg,med_list_name,list_type,chrgitm_lv,selfpay_prop,pric_uplmt_amt,begndate,enddate\n",
    );
    for (p, (prov, _)) in PROVINCES.iter().enumerate() {
        for (i, item) in items.iter().enumerate() {
            if omitted(p, i) {
                continue;
            }
            if i % 97 == 1 {
                // An older row, since replaced: the current row's later begndate applies.
                let _ = writeln!(
                    out,
                    "{prov},{},{},{},03,0,,2019-01-01,",
                    item.code, item.name, item.list_type
                );
            }
            let _ = writeln!(
                out,
                "{prov},{},{},{},{},{},{},2021-01-01,",
                item.code,
                item.name,
                item.list_type,
                item.class_code(),
                ratio(item.selfpay),
                item.ceiling.map(money).unwrap_or_default()
            );
        }
    }
    out
}

/// One policy row, as the generator computes with it.
#[derive(Debug, Clone)]
pub struct PolicyRow {
    pub area: String,
    pub insutype: &'static str,
    pub med_grp: &'static str,
    /// 1–3, or 0 for `*`.
    pub tier: u8,
    pub dedc: i64,
    pub yearly: bool,
    /// Units of 0.0001.
    pub pool: i64,
    pub cap: i64,
    pub begndate: NaiveDate,
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a real date")
}

pub fn policy(_plan: &Plan) -> Vec<PolicyRow> {
    let mut rows = Vec::new();
    for p in 0..PROVINCES.len() {
        let prov = province_area(p);
        let bump = (p % 3) as i64 * 10_000;
        for insutype in ["310", "390"] {
            let employee = insutype == "310";
            // An older inpatient row for every tier, superseded by the 2024 rows below.
            rows.push(PolicyRow {
                area: prov.clone(),
                insutype,
                med_grp: "ip",
                tier: 0,
                dedc: 100_000,
                yearly: false,
                pool: 5_000,
                cap: 10_000_000,
                begndate: date(2020, 1, 1),
            });
            for tier in [0u8, 1, 2, 3] {
                let (dedc, pool) = match (employee, tier) {
                    (true, 1) => (30_000, 9_000),
                    (true, 2) => (50_000, 8_800),
                    (true, 3) => (80_000, 8_500),
                    (true, _) => (60_000, 8_700),
                    (false, 1) => (20_000, 8_000),
                    (false, 2) => (40_000, 7_000),
                    (false, 3) => (60_000, 6_000),
                    (false, _) => (50_000, 6_500),
                };
                rows.push(PolicyRow {
                    area: prov.clone(),
                    insutype,
                    med_grp: "ip",
                    tier,
                    dedc: dedc + bump,
                    yearly: false,
                    pool,
                    cap: if employee { 30_000_000 } else { 20_000_000 },
                    begndate: date(2024, 1, 1),
                });
            }
            rows.push(PolicyRow {
                area: prov.clone(),
                insutype,
                med_grp: "op",
                tier: 0,
                dedc: if employee { 20_000 } else { 10_000 },
                yearly: true,
                pool: if employee { 6_000 } else { 5_000 },
                cap: if employee { 300_000 } else { 150_000 },
                begndate: date(2024, 1, 1),
            });
            if p != NO_OPSP_POLICY_PROVINCE || employee {
                rows.push(PolicyRow {
                    area: prov.clone(),
                    insutype,
                    med_grp: "opsp",
                    tier: 0,
                    dedc: if employee { 30_000 } else { 20_000 },
                    yearly: true,
                    pool: if employee { 7_000 } else { 6_000 },
                    cap: 2_000_000,
                    begndate: date(2024, 1, 1),
                });
            }
        }
        // The domain documents' Nanchang example, for every province's first area: an
        // employee's stay at a tier-3 hospital, 800 deductible a stay, 85%.
        rows.push(PolicyRow {
            area: area(p, 1),
            insutype: "310",
            med_grp: "ip",
            tier: 3,
            dedc: 80_000,
            yearly: false,
            pool: 8_500,
            cap: 30_000_000,
            begndate: date(2024, 7, 1),
        });
    }
    rows
}

pub fn policy_csv(rows: &[PolicyRow]) -> String {
    let mut out = String::from(
        "insuplc_admdvs,insutype,med_grp,dedc_hosp_lv,dedc_std,dedc_basis,pool_prop,cap_year,begndate,enddate\n",
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},",
            r.area,
            r.insutype,
            r.med_grp,
            if r.tier == 0 {
                "*".to_owned()
            } else {
                r.tier.to_string()
            },
            money(r.dedc),
            if r.yearly { "year" } else { "visit" },
            ratio(r.pool),
            money(r.cap),
            r.begndate
        );
    }
    out
}

/// SPEC §2's lookup: (area, tier), (area, `*`), (province, tier), (province, `*`); among
/// the rows of one level valid on `day`, the latest `begndate`, ties to the first row.
pub fn lookup<'a>(
    rows: &'a [PolicyRow],
    insured: &str,
    insutype: &str,
    med_grp: &str,
    tier: Option<u8>,
    day: NaiveDate,
) -> Option<&'a PolicyRow> {
    let prov = format!("{}0000", &insured[..2]);
    let mut levels: Vec<(&str, u8)> = Vec::new();
    for place in [insured, prov.as_str()] {
        if let Some(t) = tier {
            levels.push((place, t));
        }
        levels.push((place, 0));
    }
    levels.into_iter().find_map(|(place, t)| {
        let mut best: Option<&PolicyRow> = None;
        for r in rows.iter().filter(|r| {
            r.area == place
                && r.insutype == insutype
                && r.med_grp == med_grp
                && r.tier == t
                && r.begndate <= day
        }) {
            if best.is_none_or(|b| r.begndate > b.begndate) {
                best = Some(r);
            }
        }
        best
    })
}

pub fn diseases_csv() -> String {
    let mut out = String::from("prov,opsp_dise_code,opsp_dise_name\n");
    for (p, (prov, _)) in PROVINCES.iter().enumerate() {
        for (code, name) in NATIONAL_DISEASES {
            let _ = writeln!(out, "{prov},{code},{name}");
        }
        for (k, (code, name)) in EXTRA_DISEASES.iter().enumerate() {
            if (p + k) % 3 == 0 {
                let _ = writeln!(out, "{prov},{code},{name}");
            }
        }
    }
    out
}
