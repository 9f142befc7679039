//! Claims that appear twice or overlap: the same settlement id, the same claim under
//! another id, inpatient stays that overlap, and a settlement of an earlier month's
//! ledger uploaded again.

pub mod duplicate_claim;
pub mod duplicate_setl_id;
pub mod overlapping_stays;
pub mod uploaded_again;
