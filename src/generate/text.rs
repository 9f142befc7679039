//! How generated values are written: money with exactly 2 decimals, ratios, quantities and
//! prices with no more decimals than they need (never more than SPEC §2 allows), personal
//! data that looks real (18-digit ids with their ISO 7064 check character, Chinese names).

/// Fen as yuan with 2 decimals.
pub fn money(fen: i64) -> String {
    crate::units::format_money(fen)
}

/// A fixed-point value of `scale` decimals, trailing zeros dropped.
pub fn fixed(value: i64, scale: u32) -> String {
    let text = crate::units::format_fixed(value, scale);
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// Units of 0.0001 as a ratio.
pub fn ratio(value: i64) -> String {
    fixed(value, 4)
}

/// The ISO 7064 MOD 11-2 check character of the first 17 digits of a resident id.
pub fn check_char(first17: &str) -> char {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .chars()
        .zip(WEIGHTS)
        .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
        .sum();
    ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'][(sum % 11) as usize]
}

/// A valid 18-character resident id for a person of `area` born on `birth` (YYYYMMDD).
pub fn certno(area: &str, birth: &str, serial: u32) -> String {
    let first17 = format!("{area}{birth}{:03}", serial % 1000);
    let check = check_char(&first17);
    format!("{first17}{check}")
}

const SURNAMES: [&str; 20] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗",
];
const GIVEN: [&str; 24] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "华", "建国", "桂英", "志强", "淑珍", "海燕",
];

pub fn name(k: u64) -> String {
    format!(
        "{}{}",
        SURNAMES[(k % 20) as usize],
        GIVEN[((k / 20) % 24) as usize]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_written_as_spec_reads_them() {
        assert_eq!(money(-5), "-0.05");
        assert_eq!(ratio(8500), "0.85");
        assert_eq!(ratio(10000), "1");
        assert_eq!(ratio(0), "0");
        assert_eq!(fixed(1_500_000, 6), "1.5");
        // The worked example of GB 11643: 11010519491231002X.
        assert_eq!(check_char("11010519491231002"), 'X');
    }
}
