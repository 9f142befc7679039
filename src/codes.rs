//! Value sets of the coded columns (SPEC §2, §12): the bottom layer that configuration
//! (code maps onto these sets) and ingestion (rows checked against them) both read.

pub const INSUTYPE: &[&str] = &["310", "390"];
pub const MED_TYPE: &[&str] = &["11", "13", "14", "21", "22", "23", "24"];
pub const CLR_TYPE: &[&str] = &["11", "21", "41", "99"];
pub const RLOC_REA: &[&str] = &["11", "12", "13", "21", "22", "23"];
pub const CHRGITM_LV: &[&str] = &["01", "02", "03"];
pub const LIST_TYPE: &[&str] = &["101", "102", "201", "301"];
pub const HOSP_LV: &[&str] = &[
    "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14",
];
pub const FLAG: &[&str] = &["0", "1"];
pub const MED_GRP: &[&str] = &["ip", "op", "opsp"];
pub const DEDC_HOSP_LV: &[&str] = &["1", "2", "3", "*"];
pub const DEDC_BASIS: &[&str] = &["visit", "year"];
pub const PSN_INSU_STAS: &[&str] = &["1", "2", "4"];
pub const DECISION: &[&str] = &["pay", "refuse"];
