//! REG003 备案信息不一致 — inconsistent filing
//!
//! # What it finds
//! A filing with `enddate < begndate`, a `certno` that is not 18 characters ending in a
//! valid ISO 7064 MOD 11-2 check character (an `x` must be written `X`; an empty `certno`
//! is not flagged), or an area (`insu_admdvs`, `rloc_admdvs`) missing from regions.csv.
//! One finding per filing, its detail naming every defect.
//!
//! # Why it matters
//! Such a filing was keyed in wrongly (000 Q7); it still takes part in matching, but the
//! agency should correct it before it decides a settlement.
//!
//! # Example
//! certno `360102195501011230` (check character should be 8) and `rloc_admdvs` 990000:
//! one REG003 naming both.
//!
//! # Parameters
//! None.
//!
//! # 说明
//! 备案信息自相矛盾：起止日期倒置、身份证号校验位错误或区划代码不存在。提示。

use crate::rules::{Context, Finding, Rule, day};

/// GB 11643's check of an 18-character resident id (ISO 7064 MOD 11-2).
pub fn certno_is_valid(certno: &str) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let bytes = certno.as_bytes();
    if bytes.len() != 18 || !bytes[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = bytes[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    bytes[17] == CHECK[(sum % 11) as usize]
}

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    ctx.model
        .filings
        .iter()
        .filter_map(|f| {
            let mut defects: Vec<String> = Vec::new();
            if let Some(end) = f.enddate.filter(|&end| end < f.begndate) {
                defects.push(ctx.say(
                    format!("截止日期 {} 早于开始日期 {}", day(end), day(f.begndate)),
                    format!("enddate {} before begndate {}", day(end), day(f.begndate)),
                ));
            }
            if let Some(certno) = f
                .certno
                .as_deref()
                .filter(|c| !c.is_empty() && !certno_is_valid(c))
            {
                let masked = crate::mask::certno(certno);
                defects.push(ctx.say(
                    format!("身份证号 {masked} 长度或校验位错误"),
                    format!("certno {masked} has a wrong length or check character"),
                ));
            }
            for (column, area) in [
                ("insu_admdvs", &f.insu_admdvs),
                ("rloc_admdvs", &f.rloc_admdvs),
            ] {
                if !ctx.model.regions.contains(area) {
                    defects.push(ctx.say(
                        format!("{column} {area} 不在区划表中"),
                        format!("{column} {area} is not in regions"),
                    ));
                }
            }
            (!defects.is_empty()).then(|| {
                Finding::filing(
                    rule,
                    f,
                    defects.join(ctx.say("；".into(), "; ".into()).as_str()),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::certno_is_valid;

    #[test]
    fn iso_7064_check_character() {
        assert!(certno_is_valid("11010519491231002X"));
        assert!(!certno_is_valid("11010519491231002x"));
        assert!(!certno_is_valid("110105194912310021"));
        assert!(!certno_is_valid("1101051949123100"));
    }
}
