//! Claims that appear twice or overlap: the same settlement id, the same claim under
//! another id, and inpatient stays that overlap.

pub mod duplicate_claim;
pub mod duplicate_setl_id;
pub mod overlapping_stays;
