//! Catalogue rules: every fee line against the treatment province's catalogue valid on its
//! date ("就医地目录", 000 "两看"). The line's catalogue row is found by
//! [`crate::line_audit`].

pub mod billed_class_differs;
pub mod out_of_catalogue;
pub mod price_above_ceiling;
pub mod self_paid_class_billed;

use crate::model::{Money, SetlRow};
use crate::rules::Context;
use crate::units::div_round;

/// A line's disallowed amount scaled by its settlement's effective fund ratio
/// `hifp_pay / inscp_scp_amt` (0 when `inscp_scp_amt` is 0), as one fraction rounded once
/// half away from zero to the fen (SPEC §5).
pub fn deducted(ctx: &Context, settlement: SetlRow, disallowed: i64) -> i64 {
    let s = &ctx.model.settlements[settlement];
    let inscp = s.amount(Money::InscpScpAmt);
    if inscp == 0 {
        return 0;
    }
    div_round(
        i128::from(disallowed) * i128::from(s.amount(Money::HifpPay)),
        i128::from(inscp),
    ) as i64
}
