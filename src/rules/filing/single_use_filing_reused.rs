//! FIL007 单次备案重复使用 — a single-use filing matched more than once
//!
//! # What it finds
//! A referral or emergency filing (`rloc_rea` 21, 22) matched by more than one settlement:
//! every settlement after the first, in order (`setl_time`, `fixmedins_code`, `setl_id`),
//! gets one finding naming the filing. Deemed-filed emergencies and reversed settlements
//! take no part.
//!
//! # Why it matters
//! Jiangxi's referral and emergency filing forms say "限结算一次": the filing settles one
//! stay only (001, forms 2 and 4). A second settlement needs a new filing.
//!
//! # Example
//! Referral filing F1 matched by S1 (settled 10-05) and S2 (settled 10-20): FIL007 on S2,
//! naming F1.
//!
//! # Parameters
//! `single_use_filing_level` of the insured province: `flag` (default) or `hold`.
//!
//! # 说明
//! 转诊、急诊备案限结算一次，同一备案被多次结算：第二次起逐笔提示（可配置为暂缓拨付）。

use polars::prelude::PlHashMap as HashMap;

use crate::codes::RlocRea;
use crate::matching::Outcome;
use crate::model::{FilingRow, SetlRow, prov};
use crate::rules::{Context, Finding, Rule, time};

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    let mut first_use: HashMap<FilingRow, SetlRow> = HashMap::default();
    let mut findings = Vec::new();
    for &i in &ctx.scope.order {
        let Outcome::Matched(f) = ctx.outcomes[i] else {
            continue;
        };
        let filing = &ctx.model.filings[f];
        if ctx.scope.reversed[i]
            || !matches!(filing.rloc_rea, RlocRea::Referral | RlocRea::Emergency)
        {
            continue;
        }
        match first_use.get(&f) {
            None => {
                first_use.insert(f, i);
            }
            Some(&first) => {
                let s = &ctx.model.settlements[i];
                let earlier = &ctx.model.settlements[first];
                let level = ctx
                    .config
                    .for_province(prov(&s.insuplc_admdvs))
                    .single_use_filing_level;
                let detail = ctx.say(
                    format!(
                        "备案 {} 限结算一次，已用于 {} 的结算 {}（{}）",
                        filing.trt_dcla_detl_sn,
                        earlier.fixmedins_code,
                        earlier.setl_id,
                        time(earlier.setl_time)
                    ),
                    format!(
                        "filing {} settles once only; already used by {} settlement {} ({})",
                        filing.trt_dcla_detl_sn,
                        earlier.fixmedins_code,
                        earlier.setl_id,
                        time(earlier.setl_time)
                    ),
                );
                findings.push(
                    Finding::settlement_at(rule, level, ctx, i, detail).with_filing(Some(filing)),
                );
            }
        }
    }
    findings
}
