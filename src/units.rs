//! Exact values as the SPEC types them: fixed-point numbers (money, ratios, quantities,
//! prices) as scaled integers, dates and times as calendar values. Parsing is strict —
//! nothing is trimmed, rounded or guessed — and formatting is the inverse of parsing.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use rust_decimal::Decimal;

/// Decimal places of each fixed-point kind (SPEC §2).
pub const MONEY_SCALE: u32 = 2;
pub const RATIO_SCALE: u32 = 4;
pub const QTY_SCALE: u32 = 4;
pub const PRICE_SCALE: u32 = 6;

/// Why a text is not a valid number of its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberError {
    /// Not `[+-]?digits[.digits]`.
    Malformed,
    /// More decimals than the type allows; never rounded.
    TooManyDecimals { max: u32 },
    /// A sign on a value that must be unsigned (ratios).
    Negative,
    /// A ratio above 1.
    AboveOne,
    /// Does not fit in 18 significant digits.
    OutOfRange,
}

/// Parses `[+-]?digits[.digits]` into an integer count of `10^-scale` units.
/// `"1.50"` at scale 2 is 150; `"1.500"` is `TooManyDecimals` even though the digit is 0.
pub fn parse_fixed(text: &str, scale: u32) -> Result<i64, NumberError> {
    let bytes = text.as_bytes();
    let (negative, digits) = match bytes.first() {
        Some(b'-') => (true, &bytes[1..]),
        Some(b'+') => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    // One pass: the value of every digit (wrapping: it is used only when it fits), the
    // digits on each side of the point, and the integer part's significant digits.
    let (mut value, mut int_digits, mut frac_digits, mut significant) = (0_i64, 0, 0, 0);
    let mut point = false;
    for &b in digits {
        match b {
            b'0'..=b'9' => {
                value = value.wrapping_mul(10).wrapping_add(i64::from(b - b'0'));
                if point {
                    frac_digits += 1;
                } else {
                    int_digits += 1;
                    if significant > 0 || b != b'0' {
                        significant += 1;
                    }
                }
            }
            b'.' if !point => point = true,
            _ => return Err(NumberError::Malformed),
        }
    }
    if int_digits == 0 || (point && frac_digits == 0) {
        return Err(NumberError::Malformed);
    }
    if frac_digits > scale as usize {
        return Err(NumberError::TooManyDecimals { max: scale });
    }
    if significant + scale as usize > 18 {
        return Err(NumberError::OutOfRange);
    }
    value *= 10_i64.pow(scale - frac_digits as u32);
    Ok(if negative { -value } else { value })
}

/// A ratio in [0, 1] with at most 4 decimals, in units of 0.0001.
pub fn parse_ratio(text: &str) -> Result<i64, NumberError> {
    if text.starts_with(['-', '+']) {
        return Err(NumberError::Negative);
    }
    let value = parse_fixed(text, RATIO_SCALE)?;
    if value > 10_i64.pow(RATIO_SCALE) {
        return Err(NumberError::AboveOne);
    }
    Ok(value)
}

/// Writes a scaled integer with exactly `scale` decimals: `format_fixed(-5, 2)` is `-0.05`.
pub fn format_fixed(value: i64, scale: u32) -> String {
    Decimal::new(value, scale).to_string()
}

/// A decimal's physical value written with exactly `scale` decimals (a polars `Decimal`).
pub fn format_decimal(value: i128, scale: usize) -> String {
    let digits = value.unsigned_abs().to_string();
    let sign = if value < 0 { "-" } else { "" };
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{sign}{int}.{frac}")
}

/// Money in fen as people read it: yuan grouped by thousands, 2 decimals
/// (`6,078,523,977.02`). Tables for machines keep [`format_money`].
pub fn format_money_grouped(fen: i64) -> String {
    let plain = format_money(fen);
    let (sign, digits) = match plain.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", plain.as_str()),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let mut grouped = String::with_capacity(int.len() + int.len() / 3);
    for (k, c) in int.chars().enumerate() {
        if k > 0 && (int.len() - k).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}.{frac}")
}

/// Money in fen written as yuan with exactly 2 decimals.
pub fn format_money(fen: i64) -> String {
    format_fixed(fen, MONEY_SCALE)
}

/// Days since 1970-01-01, the physical value of a polars `Date`.
pub fn days_since_epoch(date: NaiveDate) -> i32 {
    (date - NaiveDate::default()).num_days() as i32
}

/// The day (since 1970-01-01) of a time in milliseconds since the epoch: what
/// `days_since_epoch(time_from_millis(millis).date())` gives, without the calendar, for any
/// time chrono can hold.
pub fn day_of_millis(millis: i64) -> i32 {
    millis.div_euclid(86_400_000) as i32
}

pub fn date_from_days(days: i32) -> NaiveDate {
    NaiveDate::default() + chrono::Duration::days(i64::from(days))
}

/// Milliseconds since 1970-01-01 00:00:00 (local time, no zone), a polars `Datetime(ms)`.
pub fn millis_since_epoch(time: NaiveDateTime) -> i64 {
    time.and_utc().timestamp_millis()
}

pub fn time_from_millis(millis: i64) -> NaiveDateTime {
    chrono::DateTime::from_timestamp_millis(millis)
        .map(|t| t.naive_utc())
        .unwrap_or_default()
}

fn digits<const N: usize>(bytes: &[u8]) -> Option<u32> {
    if bytes.len() != N || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        bytes
            .iter()
            .fold(0, |acc, &b| acc * 10 + u32::from(b - b'0')),
    )
}

/// Exactly `YYYY-MM-DD`, a real calendar day.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::from_ymd_opt(
        digits::<4>(&b[0..4])? as i32,
        digits::<2>(&b[5..7])?,
        digits::<2>(&b[8..10])?,
    )
}

/// Exactly `YYYY-MM-DD HH:MM:SS`, a real calendar time.
pub fn parse_time(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() != 19 || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let date = parse_date(&text[..10])?;
    let time = NaiveTime::from_hms_opt(
        digits::<2>(&b[11..13])?,
        digits::<2>(&b[14..16])?,
        digits::<2>(&b[17..19])?,
    )?;
    Some(date.and_time(time))
}

/// A month `YYYY-MM` as (year, month).
pub fn parse_month(text: &str) -> Option<(i32, u32)> {
    let b = text.as_bytes();
    if b.len() != 7 || b[4] != b'-' {
        return None;
    }
    let year = digits::<4>(&b[0..4])? as i32;
    let month = digits::<2>(&b[5..7])?;
    (1..=12).contains(&month).then_some((year, month))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_of_a_time_is_its_calendar_day() {
        let day = 86_400_000;
        for millis in [
            0,
            1,
            day - 1,
            day,
            -1,
            -day,
            -day - 1,
            1_793_836_799_999,
            -2_208_988_800_000,
            4_102_444_800_000 + 12_345,
        ] {
            assert_eq!(
                day_of_millis(millis),
                days_since_epoch(time_from_millis(millis).date()),
                "{millis}"
            );
        }
    }

    #[test]
    fn fixed_point_is_exact_and_strict() {
        assert_eq!(parse_fixed("1.50", 2), Ok(150));
        assert_eq!(parse_fixed("-0.05", 2), Ok(-5));
        assert_eq!(parse_fixed("+12", 2), Ok(1200));
        assert_eq!(parse_fixed("007", 2), Ok(700));
        assert_eq!(
            parse_fixed("1.500", 2),
            Err(NumberError::TooManyDecimals { max: 2 })
        );
        for bad in [
            "", "-", "1.", ".5", "1e3", "1,000", " 1", "1 ", "¥1", "1.2.3",
        ] {
            assert_eq!(parse_fixed(bad, 2), Err(NumberError::Malformed), "{bad:?}");
        }
        assert_eq!(
            parse_fixed("12345678901234567", 2),
            Err(NumberError::OutOfRange)
        );
        assert_eq!(format_fixed(-5, 2), "-0.05");
        assert_eq!(format_money(1_080_000), "10800.00");
        assert_eq!(format_money(0), "0.00");
    }

    proptest::proptest! {
        /// The one-pass parser against the definition: the text is `[+-]?digits[.digits]`,
        /// its decimals at most `scale`, and then its value is the exact decimal's.
        #[test]
        fn fixed_point_agrees_with_the_decimal_of_its_text(
            text in "[+-]?[0-9]{0,20}(\\.[0-9]{0,8})?|[0-9.+-]{0,6}",
            scale in 0_u32..=6,
        ) {
            let body = text.strip_prefix(['+', '-']).unwrap_or(&text);
            let (int, frac) = body.split_once('.').unwrap_or((body, ""));
            let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
            let well_formed = digits(int) && (!body.contains('.') || digits(frac));
            let expected = if !well_formed {
                Err(NumberError::Malformed)
            } else if frac.len() > scale as usize {
                Err(NumberError::TooManyDecimals { max: scale })
            } else if int.trim_start_matches('0').len() + scale as usize > 18 {
                Err(NumberError::OutOfRange)
            } else {
                let d: Decimal = text.trim_start_matches('+').parse().unwrap();
                Ok((d * Decimal::from(10_i64.pow(scale))).trunc().to_string().parse::<i64>().unwrap())
            };
            proptest::prop_assert_eq!(parse_fixed(&text, scale), expected);
        }
    }

    #[test]
    fn ratios_are_unsigned_and_at_most_one() {
        assert_eq!(parse_ratio("0.85"), Ok(8500));
        assert_eq!(parse_ratio("1"), Ok(10000));
        assert_eq!(parse_ratio("1.0001"), Err(NumberError::AboveOne));
        assert_eq!(parse_ratio("-0.1"), Err(NumberError::Negative));
        assert_eq!(
            parse_ratio("0.12345"),
            Err(NumberError::TooManyDecimals { max: 4 })
        );
    }

    #[test]
    fn dates_and_times_are_exact_formats_of_real_days() {
        assert!(parse_date("2024-02-29").is_some());
        for bad in [
            "2023-02-29",
            "2024-2-29",
            "2024/02/29",
            "20240229",
            " 2024-02-29",
        ] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
        assert!(parse_time("2024-02-29 23:59:59").is_some());
        for bad in [
            "2024-02-29 24:00:00",
            "2024-02-29T10:00:00",
            "2024-02-29 10:00",
        ] {
            assert!(parse_time(bad).is_none(), "{bad}");
        }
        let t = parse_time("2024-03-01 08:30:05").unwrap();
        assert_eq!(time_from_millis(millis_since_epoch(t)), t);
        let d = parse_date("1969-12-31").unwrap();
        assert_eq!(date_from_days(days_since_epoch(d)), d);
        assert_eq!(parse_month("2026-10"), Some((2026, 10)));
        assert_eq!(format_money_grouped(607_852_397_702), "6,078,523,977.02");
        assert_eq!(format_money_grouped(-100_000), "-1,000.00");
        assert_eq!(format_money_grouped(99_999), "999.99");
        assert_eq!(format_money_grouped(0), "0.00");
        assert_eq!(parse_month("2026-13"), None);
    }
}

/// `n / d` rounded half away from zero (四舍五入), exactly; `d` must not be 0.
pub fn div_round(n: i128, d: i128) -> i128 {
    let (n, d) = if d < 0 { (-n, -d) } else { (n, d) };
    let q = n / d;
    let r = n % d;
    if 2 * r.abs() >= d { q + n.signum() } else { q }
}

#[cfg(test)]
mod rounding_tests {
    use super::div_round;

    #[test]
    fn halves_round_away_from_zero() {
        assert_eq!(div_round(5, 10), 1);
        assert_eq!(div_round(-5, 10), -1);
        assert_eq!(div_round(4, 10), 0);
        assert_eq!(div_round(15, 10), 2);
        assert_eq!(div_round(25, 10), 3);
        assert_eq!(div_round(-25, 10), -3);
        assert_eq!(div_round(7, -2), -4);
        assert_eq!(div_round(0, 3), 0);
    }
}

/// A polars small string through serde, as a plain string (the stage of SPEC §14 stores
/// ledger entries).
pub mod small_str {
    use polars::prelude::PlSmallStr;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &PlSmallStr, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(value.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PlSmallStr, D::Error> {
        Ok(PlSmallStr::from_string(String::deserialize(d)?))
    }
}
