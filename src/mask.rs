//! Masking personal data (SPEC §9): nothing the program writes shows a full `certno` or
//! `psn_name`.

/// Keeps the first 6 and last 4 characters (`360102********1234`); shorter than 10: all `*`.
pub fn certno(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() < 10 {
        return "*".repeat(chars.len());
    }
    let hidden = chars.len() - 10;
    chars[..6]
        .iter()
        .chain(std::iter::repeat_n(&'*', hidden))
        .chain(&chars[chars.len() - 4..])
        .collect()
}

/// Keeps the first character and hides the rest behind `**`, whatever its length
/// (`张**`), so the mask does not tell how long the name is.
pub fn name(text: &str) -> String {
    match text.chars().next() {
        Some(first) => format!("{first}**"),
        None => String::new(),
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

    #[test]
    fn name_keeps_the_first_character() {
        assert_eq!(name("张三丰"), "张**");
        assert_eq!(name("李四"), "李**");
        assert_eq!(name(""), "");
    }
}
