//! POL006 无参保地政策 — no policy row for the settlement
//!
//! # What it finds
//! A settlement for which policy.csv has no row: none for its pooling area or its province
//! (`XX0000`), its `insutype`, its `med_grp`, its hospital's tier or `*`, valid on its
//! `begndate`. The fund payment is not recomputed (§6 not applied). Not reported for
//! reversed settlements.
//!
//! # Why it matters
//! Without the insured place's policy the payment cannot be checked; the policy table is
//! incomplete for this insured place.
//!
//! # Example
//! A Hengyang resident's general outpatient visit, with no `430000`/`430400` row for
//! `390`/`op`: POL006, flag.
//!
//! # Parameters
//! None.
//!
//! # 说明
//! 参保地政策表中没有适用于该结算的记录，无法复核基金支付：提示，请补充政策表。

use crate::payment::Expected;
use crate::rules::{Context, Finding, Rule};

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    ctx.checked_settlements()
        .filter(|(i, _)| ctx.expected[*i] == Expected::NoPolicy)
        .map(|(i, s)| {
            let detail = ctx.say(
                format!(
                    "参保地 {} 无险种 {}、{} 类别、在 {} 有效的政策记录，未复核基金支付",
                    s.insuplc_admdvs,
                    s.insutype,
                    s.med_grp(),
                    crate::rules::day(s.begndate)
                ),
                format!(
                    "no policy row of {} for insurance {}, group {}, valid on {}: payment not recomputed",
                    s.insuplc_admdvs,
                    s.insutype,
                    s.med_grp(),
                    crate::rules::day(s.begndate)
                ),
            );
            Finding::settlement(rule, ctx, i, detail)
        })
        .collect()
}
