//! The tables a query can name: the run's tables, the output root's history, and the
//! month's typed inputs, each with where its Parquet file lives.

/// Where a table's Parquet file lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// `<run>/<name>.parquet`.
    Run,
    /// `<run>/inputs/<name>.parquet` (or `<run>/inputs/<name>/`, one file per insured
    /// province, for the hospitals' tables): a typed, masked input table.
    Input,
    /// `<run>/../<name>.parquet`: the output root's run history.
    Root,
}

/// One table a query can name.
#[derive(Debug, Clone, Copy)]
pub struct Source {
    pub name: &'static str,
    pub place: Place,
    /// Whether every finished run has it (optional inputs may be absent).
    pub required: bool,
    pub about: &'static str,
}

const fn source(name: &'static str, place: Place, required: bool, about: &'static str) -> Source {
    Source {
        name,
        place,
        required,
        about,
    }
}

/// Every table a query can name, in the order `--tables` lists them.
pub const SOURCES: &[Source] = &[
    source(
        "findings",
        Place::Run,
        true,
        "one row per finding (SPEC §9)",
    ),
    source(
        "settlements",
        Place::Run,
        true,
        "every accepted setlinfo row with its status and amounts",
    ),
    source(
        "clearing_by_area",
        Place::Run,
        true,
        "clearing by insured area × treatment area × clr_type",
    ),
    source(
        "clearing_by_province",
        Place::Run,
        true,
        "clearing by insured province × treatment province",
    ),
    source(
        "province_net",
        Place::Run,
        true,
        "each province's receivable, payable and net",
    ),
    source(
        "problems_by_hospital",
        Place::Run,
        true,
        "problem amounts (问题金额) per hospital and rule",
    ),
    source(
        "ledger",
        Place::Run,
        false,
        "held and disputed money across months, one entry per settlement (SPEC §13)",
    ),
    source(
        "ledger_events",
        Place::Run,
        false,
        "the month's ledger events: paid, refused, upheld, reversed, expired",
    ),
    source(
        "releases_by_area",
        Place::Run,
        false,
        "money released this month from the ledger, by area pair",
    ),
    source(
        "releases_by_province",
        Place::Run,
        false,
        "money released this month from the ledger, by province pair",
    ),
    source(
        "rejects",
        Place::Run,
        true,
        "every input row not accepted, with its reason",
    ),
    source(
        "history",
        Place::Root,
        false,
        "one row per rule for each finished run of the output root",
    ),
    source(
        "setlinfo",
        Place::Input,
        true,
        "input: the hospitals' settlements (with hospital_dir, line)",
    ),
    source(
        "feedetail",
        Place::Input,
        true,
        "input: the hospitals' fee lines (with hospital_dir, line)",
    ),
    source(
        "summary",
        Place::Input,
        false,
        "input: the hospitals' own totals (对总账)",
    ),
    source(
        "filings",
        Place::Input,
        true,
        "input: the filing registry (备案)",
    ),
    source(
        "hospitals",
        Place::Input,
        true,
        "input: networked institutions",
    ),
    source(
        "catalogue",
        Place::Input,
        true,
        "input: treatment-province catalogues (就医地目录)",
    ),
    source(
        "policy",
        Place::Input,
        true,
        "input: insured-place payment policy (参保地政策)",
    ),
    source(
        "regions",
        Place::Input,
        true,
        "input: administrative divisions",
    ),
    source(
        "opsp_diseases",
        Place::Input,
        true,
        "input: chronic outpatient diseases by insured province",
    ),
    source(
        "enrollment",
        Place::Input,
        false,
        "input: insurance status of persons",
    ),
    source(
        "ytd",
        Place::Input,
        false,
        "input: year-to-date deductible used and fund paid",
    ),
    source(
        "decisions",
        Place::Input,
        false,
        "input: the agency's decisions on earlier months' ledger entries",
    ),
];
