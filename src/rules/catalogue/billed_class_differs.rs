//! CAT003 收费类别或自付比例不符 — billed class or self-pay share differs
//!
//! # What it finds
//! A fee line that has a catalogue row (treatment province, valid on its date) whose billed
//! `chrgitm_lv`, or `selfpay_prop` compared as a number, differs from the catalogue's,
//! whatever its `inscp_scp_amt`.
//!
//! # Why it matters
//! The class and the share paid first decide how a line splits between patient and fund;
//! a hospital billing its own values has an outdated or misconfigured catalogue.
//!
//! # Example
//! A 乙类 drug with a catalogue self-pay share of 0.1 billed as 甲类 with 0: CAT003, flag.
//!
//! # Parameters
//! None.
//!
//! # 说明
//! 医院上传的收费项目等级或先行自付比例与就医地目录不一致：仅提示。

use crate::rules::{Context, Finding, Rule};
use crate::units::{RATIO_SCALE, format_fixed};

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    let lines = &ctx.model.fee_lines;
    ctx.checked_lines()
        .filter_map(|(k, i)| {
            let item = ctx.line_item[k]?;
            let differs =
                item.chrgitm_lv.code() != &lines.chrgitm_lv[k] || item.selfpay_prop != lines.selfpay_prop[k];
            differs.then(|| {
                let billed = (&lines.chrgitm_lv[k], format_fixed(lines.selfpay_prop[k], RATIO_SCALE));
                let listed = (item.chrgitm_lv.code(), format_fixed(item.selfpay_prop, RATIO_SCALE));
                let detail = ctx.say(
                    format!(
                        "项目 {} 上传等级 {}、自付比例 {}，目录为等级 {}、自付比例 {}",
                        &lines.med_list_codg[k], billed.0, billed.1, listed.0, listed.1
                    ),
                    format!(
                        "item {} billed as class {} with self-pay {}, the catalogue says class {} with {}",
                        &lines.med_list_codg[k], billed.0, billed.1, listed.0, listed.1
                    ),
                );
                ctx.line_finding(rule, k, i, None, detail)
            })
        })
        .collect()
}
