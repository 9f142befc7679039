//! Hospital rules: is the hospital networked for direct settlement, for this visit, where
//! it says it is.

pub mod hospital_not_networked;
pub mod treatment_area_mismatch;
pub mod visit_type_not_networked;

use crate::model::{Hospital, Settlement};
use crate::units;

/// The registry row of a settlement's hospital, when networked on its settlement date.
pub fn networked_on_settlement_day<'h>(
    hospital: Option<&'h Hospital>,
    s: &Settlement,
) -> Option<&'h Hospital> {
    let day = units::days_since_epoch(units::time_from_millis(s.setl_time).date());
    hospital.filter(|h| h.ydjy_begndate <= day && h.ydjy_enddate.is_none_or(|end| day <= end))
}
