//! The input files of SPEC §2: each file's columns, their types, and whether they may be
//! empty. This table is the single place the input contract is written down in code; the
//! reader, the Parquet path and the frames all follow it.

use polars::prelude::{DataType, TimeUnit};

pub use crate::codes;

/// What a column holds and how its text is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Kept exactly as written (leading zeros matter).
    Code,
    /// Free text (names).
    Text,
    /// One of a fixed set of codes.
    OneOf(&'static [&'static str]),
    /// `med_type`: one of [`codes::MED_TYPE`] after the configuration's code map.
    MedType,
    /// `rloc_rea`: one of [`codes::RLOC_REA`] after the configuration's code map.
    RlocRea,
    Date,
    Time,
    /// Yuan with at most 2 decimals, held as fen.
    Money,
    /// [0, 1] with at most 4 decimals, held as units of 0.0001.
    Ratio,
    /// At most 4 decimals, held as units of 0.0001.
    Qty,
    /// At most 6 decimals, held as units of 0.000001.
    Price,
    /// A whole number (counts, years).
    Int,
}

impl Kind {
    /// The polars type of the column in the ingested frame. Fixed-point values are scaled
    /// integers (money in fen): exact, compact, and fast to sum.
    pub fn dtype(self) -> DataType {
        match self {
            Kind::Code | Kind::Text | Kind::OneOf(_) | Kind::MedType | Kind::RlocRea => {
                DataType::String
            }
            Kind::Date => DataType::Date,
            Kind::Time => DataType::Datetime(TimeUnit::Milliseconds, None),
            Kind::Money | Kind::Ratio | Kind::Qty | Kind::Price | Kind::Int => DataType::Int64,
        }
    }

    /// Decimal places of a fixed-point kind.
    pub fn scale(self) -> Option<u32> {
        use crate::units::*;
        match self {
            Kind::Money => Some(MONEY_SCALE),
            Kind::Ratio => Some(RATIO_SCALE),
            Kind::Qty => Some(QTY_SCALE),
            Kind::Price => Some(PRICE_SCALE),
            _ => None,
        }
    }
}

/// What an empty field means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Empty {
    /// The field must have a value.
    Required,
    /// Empty is null.
    Null,
    /// Empty money counts as 0.00 (SPEC §2).
    Zero,
}

#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    pub empty: Empty,
}

const fn col(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        kind,
        empty: Empty::Required,
    }
}
const fn opt(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        kind,
        empty: Empty::Null,
    }
}
const fn money(name: &'static str) -> Column {
    Column {
        name,
        kind: Kind::Money,
        empty: Empty::Zero,
    }
}
const fn one_of(name: &'static str, set: &'static [&'static str]) -> Column {
    col(name, Kind::OneOf(set))
}

/// The input tables of a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Regions,
    Hospitals,
    Catalogue,
    Policy,
    OpspDiseases,
    Filings,
    Enrollment,
    Ytd,
    Decisions,
    Setlinfo,
    Feedetail,
    Summary,
}

impl Table {
    pub const ALL: [Table; 12] = [
        Table::Regions,
        Table::Hospitals,
        Table::Catalogue,
        Table::Policy,
        Table::OpspDiseases,
        Table::Filings,
        Table::Enrollment,
        Table::Ytd,
        Table::Decisions,
        Table::Setlinfo,
        Table::Feedetail,
        Table::Summary,
    ];

    /// The file's path relative to the month directory (for exports: to the hospital's
    /// directory), without its `.csv` or `.parquet` extension.
    pub fn stem(self) -> &'static str {
        match self {
            Table::Regions => "reference/regions",
            Table::Hospitals => "reference/hospitals",
            Table::Catalogue => "reference/catalogue",
            Table::Policy => "reference/policy",
            Table::OpspDiseases => "reference/opsp_diseases",
            Table::Filings => "filings",
            Table::Enrollment => "enrollment",
            Table::Ytd => "ytd",
            Table::Decisions => "decisions",
            Table::Setlinfo => "setlinfo",
            Table::Feedetail => "feedetail",
            Table::Summary => "summary",
        }
    }

    /// The name analysts and the manifest know the table by.
    pub fn name(self) -> &'static str {
        self.stem().rsplit('/').next().unwrap_or_default()
    }

    /// A required file stops the run when it is missing.
    pub fn required(self) -> bool {
        !matches!(
            self,
            Table::Enrollment | Table::Ytd | Table::Decisions | Table::Summary
        )
    }

    /// One file per hospital directory under `exports/`.
    pub fn per_hospital(self) -> bool {
        matches!(self, Table::Setlinfo | Table::Feedetail | Table::Summary)
    }

    pub fn columns(self) -> &'static [Column] {
        match self {
            Table::Regions => REGIONS,
            Table::Hospitals => HOSPITALS,
            Table::Catalogue => CATALOGUE,
            Table::Policy => POLICY,
            Table::OpspDiseases => OPSP_DISEASES,
            Table::Filings => FILINGS,
            Table::Enrollment => ENROLLMENT,
            Table::Ytd => YTD,
            Table::Decisions => DECISIONS,
            Table::Setlinfo => SETLINFO,
            Table::Feedetail => FEEDETAIL,
            Table::Summary => SUMMARY,
        }
    }

    pub fn column_index(self, name: &str) -> Option<usize> {
        self.columns().iter().position(|c| c.name == name)
    }
}

use codes::*;

const REGIONS: &[Column] = &[
    col("admdvs", Kind::Code),
    col("name", Kind::Text),
    col("prov", Kind::Code),
];

const HOSPITALS: &[Column] = &[
    col("fixmedins_code", Kind::Code),
    col("fixmedins_name", Kind::Text),
    col("fix_blng_admdvs", Kind::Code),
    one_of("hosp_lv", HOSP_LV),
    col("ydjy_begndate", Kind::Date),
    opt("ydjy_enddate", Kind::Date),
    one_of("ip_flag", FLAG),
    one_of("op_flag", FLAG),
    one_of("opsp_flag", FLAG),
];

const CATALOGUE: &[Column] = &[
    col("prov", Kind::Code),
    col("med_list_codg", Kind::Code),
    col("med_list_name", Kind::Text),
    one_of("list_type", LIST_TYPE),
    one_of("chrgitm_lv", CHRGITM_LV),
    col("selfpay_prop", Kind::Ratio),
    opt("pric_uplmt_amt", Kind::Money),
    col("begndate", Kind::Date),
    opt("enddate", Kind::Date),
];

/// In policy.csv every money and ratio value is required (SPEC §2).
const POLICY: &[Column] = &[
    col("insuplc_admdvs", Kind::Code),
    one_of("insutype", INSUTYPE),
    one_of("med_grp", MED_GRP),
    one_of("dedc_hosp_lv", DEDC_HOSP_LV),
    col("dedc_std", Kind::Money),
    one_of("dedc_basis", DEDC_BASIS),
    col("pool_prop", Kind::Ratio),
    col("cap_year", Kind::Money),
    col("begndate", Kind::Date),
    opt("enddate", Kind::Date),
];

const OPSP_DISEASES: &[Column] = &[
    col("prov", Kind::Code),
    col("opsp_dise_code", Kind::Code),
    col("opsp_dise_name", Kind::Text),
];

const FILINGS: &[Column] = &[
    col("trt_dcla_detl_sn", Kind::Code),
    col("psn_no", Kind::Code),
    opt("certno", Kind::Code),
    opt("psn_name", Kind::Text),
    one_of("insutype", INSUTYPE),
    col("insu_admdvs", Kind::Code),
    col("rloc_rea", Kind::RlocRea),
    col("rloc_admdvs", Kind::Code),
    col("begndate", Kind::Date),
    opt("enddate", Kind::Date),
    col("crte_time", Kind::Time),
    one_of("vali_flag", FLAG),
    col("updt_time", Kind::Time),
];

const ENROLLMENT: &[Column] = &[
    col("psn_no", Kind::Code),
    one_of("insutype", INSUTYPE),
    col("insuplc_admdvs", Kind::Code),
    one_of("psn_insu_stas", PSN_INSU_STAS),
    col("begndate", Kind::Date),
    opt("enddate", Kind::Date),
    opt("wait_end", Kind::Date),
];

const YTD: &[Column] = &[
    col("psn_no", Kind::Code),
    one_of("insutype", INSUTYPE),
    one_of("med_grp", MED_GRP),
    col("year", Kind::Int),
    money("dedc_used"),
    money("hifp_paid"),
];

/// The agency's decisions on earlier months' ledger entries (SPEC §2, §13).
const DECISIONS: &[Column] = &[
    col("fixmedins_code", Kind::Code),
    col("setl_id", Kind::Code),
    one_of("decision", DECISION),
    opt("amount", Kind::Money),
    col("decided_by", Kind::Code),
    col("decided_at", Kind::Time),
    opt("note", Kind::Text),
];

const SETLINFO: &[Column] = &[
    col("setl_id", Kind::Code),
    opt("mdtrt_id", Kind::Code),
    col("psn_no", Kind::Code),
    opt("certno", Kind::Code),
    opt("psn_name", Kind::Text),
    one_of("insutype", INSUTYPE),
    col("insuplc_admdvs", Kind::Code),
    col("fixmedins_code", Kind::Code),
    col("mdtrtarea_admvs", Kind::Code),
    col("med_type", Kind::MedType),
    one_of("clr_type", CLR_TYPE),
    one_of("emg_flag", FLAG),
    col("begndate", Kind::Date),
    col("enddate", Kind::Date),
    col("setl_time", Kind::Time),
    opt("dise_codg", Kind::Code),
    // Required for med_type 14: checked with the row, see `reader::RowChecks`.
    opt("opsp_dise_code", Kind::Code),
    money("medfee_sumamt"),
    money("fulamt_ownpay_amt"),
    money("overlmt_selfpay"),
    money("preselfpay_amt"),
    money("inscp_scp_amt"),
    money("act_pay_dedc"),
    money("hifp_pay"),
    money("cvlserv_pay"),
    money("hifes_pay"),
    money("hifmi_pay"),
    money("hifob_pay"),
    money("maf_pay"),
    money("oth_pay"),
    money("fund_pay_sumamt"),
    money("psn_part_amt"),
    money("acct_pay"),
    money("psn_cash_pay"),
    money("hosp_part_amt"),
    one_of("refd_setl_flag", FLAG),
    opt("init_setl_id", Kind::Code),
];

const FEEDETAIL: &[Column] = &[
    col("setl_id", Kind::Code),
    col("feedetl_sn", Kind::Code),
    col("fee_ocur_time", Kind::Time),
    col("med_list_codg", Kind::Code),
    col("medins_list_codg", Kind::Code),
    col("med_chrgitm_type", Kind::Code),
    col("cnt", Kind::Qty),
    col("pric", Kind::Price),
    money("det_item_fee_sumamt"),
    opt("pric_uplmt_amt", Kind::Money),
    one_of("chrgitm_lv", CHRGITM_LV),
    col("selfpay_prop", Kind::Ratio),
    money("fulamt_ownpay_amt"),
    money("overlmt_amt"),
    money("preselfpay_amt"),
    money("inscp_scp_amt"),
];

const SUMMARY: &[Column] = &[
    col("fixmedins_code", Kind::Code),
    one_of("insutype", INSUTYPE),
    one_of("clr_type", CLR_TYPE),
    col("stmt_begndate", Kind::Date),
    col("stmt_enddate", Kind::Date),
    one_of("refd_setl_flag", FLAG),
    col("fixmedins_setl_cnt", Kind::Int),
    money("medfee_sumamt"),
    money("fund_pay_sumamt"),
    money("acct_pay"),
];

/// The decimal scale of a column of an input table's frame (money, ratios, quantities and
/// prices are scaled integers).
pub fn input_scale(table: Table) -> impl Fn(&str) -> Option<u32> {
    move |name: &str| {
        table
            .column_index(name)
            .and_then(|i| table.columns()[i].kind.scale())
    }
}

/// Columns holding personal data, masked in everything written (SPEC §9).
pub const PII_COLUMNS: &[&str] = &["certno", "psn_name"];

/// A column's name as the schema's own `&'static str` (a reject read back from a stage,
/// SPEC §14, names its column so).
pub fn column_name(name: &str) -> Option<&'static str> {
    Table::ALL
        .iter()
        .flat_map(|t| t.columns())
        .map(|c| c.name)
        .find(|n| *n == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_are_unique_per_table() {
        for table in Table::ALL {
            let mut names: Vec<_> = table.columns().iter().map(|c| c.name).collect();
            names.sort_unstable();
            let before = names.len();
            names.dedup();
            assert_eq!(before, names.len(), "{table:?}");
        }
    }
}
