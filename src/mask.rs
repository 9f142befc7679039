//! Masking personal data (SPEC §9): nothing the program writes shows a full `certno` or
//! `psn_name`.

/// Keeps the first 6 and last 4 characters (`360102********1234`); shorter than 10: all `*`.
pub fn certno(text: &str) -> String {
    let mut masked = String::with_capacity(text.len());
    certno_into(text, &mut masked);
    masked
}

/// [`certno`] into `masked` (cleared first): a column of millions is masked into one
/// buffer, with no string allocated a value.
pub fn certno_into(text: &str, masked: &mut String) {
    masked.clear();
    let chars = text.chars().count();
    if chars < 10 {
        masked.extend(std::iter::repeat_n('*', chars));
        return;
    }
    // Where the 7th and the 4th-from-last characters begin.
    let at = |n: usize| text.char_indices().nth(n).map_or(text.len(), |(i, _)| i);
    let (hidden, tail) = match text.is_ascii() {
        true => (6, text.len() - 4),
        false => (at(6), at(chars - 4)),
    };
    masked.push_str(&text[..hidden]);
    masked.extend(std::iter::repeat_n('*', chars - 10));
    masked.push_str(&text[tail..]);
}

/// Keeps the first character and hides the rest behind `**`, whatever its length
/// (`张**`), so the mask does not tell how long the name is.
pub fn name(text: &str) -> String {
    let mut masked = String::with_capacity(8);
    name_into(text, &mut masked);
    masked
}

/// [`name`] into `masked` (cleared first).
pub fn name_into(text: &str, masked: &mut String) {
    masked.clear();
    if let Some(first) = text.chars().next() {
        masked.push(first);
        masked.push_str("**");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certno_keeps_six_and_four() {
        assert_eq!(certno("360102199001011234"), "360102********1234");
        assert_eq!(certno("36010219900101123X"), "360102********123X");
        assert_eq!(certno("123456789"), "*********");
        assert_eq!(
            certno("1234567890"),
            "1234567890"
                .chars()
                .take(6)
                .chain("7890".chars())
                .collect::<String>()
        );
        assert_eq!(certno(""), "");
    }

    proptest::proptest! {
        /// Whatever the text (ASCII or not, of any length), six characters and four are
        /// kept and each other one is a `*`.
        #[test]
        fn certno_hides_all_but_six_and_four(text in "[0-9X\u{4e00}-\u{4e05}]{0,24}") {
            let chars: Vec<char> = text.chars().collect();
            let expected: String = match chars.len() {
                ..10 => "*".repeat(chars.len()),
                n => chars[..6]
                    .iter()
                    .chain(std::iter::repeat_n(&'*', n - 10))
                    .chain(&chars[n - 4..])
                    .collect(),
            };
            proptest::prop_assert_eq!(certno(&text), expected);
        }
    }

    #[test]
    fn name_keeps_the_first_character() {
        assert_eq!(name("张三丰"), "张**");
        assert_eq!(name("李四"), "李**");
        assert_eq!(name(""), "");
    }
}
