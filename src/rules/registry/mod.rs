//! Filing-registry rules: they look at the whole registry (filings.csv), whether or not the
//! person settled this month (SPEC §12).

pub mod duplicate_long_term_filing;
pub mod inconsistent_filing;
pub mod long_term_filing_cancelled_in_lock;
