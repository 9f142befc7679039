//! Deciding a CSV file's text encoding from the file as a whole, and decoding its fields
//! strictly.
//!
//! Chinese hospital systems and Excel write UTF-8 (with or without a BOM) or GB18030/GBK.
//! The decision is made once per file, never per row: a UTF-8 file with one corrupted row
//! stays UTF-8 (that row is rejected), and a GBK file is never read as UTF-8. GB18030
//! accepts most byte pairs, so "it decodes" is weak evidence for it; UTF-8's multi-byte
//! sequences are so constrained that GBK text almost never forms Chinese characters in
//! them. The file is UTF-8 when it has no invalid UTF-8 byte, or when the bytes of its
//! valid UTF-8 Chinese characters outnumber its invalid bytes; otherwise it is GB18030. Bytes invalid in the chosen
//! encoding never become U+FFFD: their row is rejected.

use std::borrow::Cow;

use encoding_rs::GB18030;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Encoding {
    #[serde(rename = "utf-8")]
    Utf8,
    #[serde(rename = "utf-8-bom")]
    Utf8Bom,
    #[serde(rename = "gb18030")]
    Gb18030,
    /// Not text: a Parquet input.
    #[serde(rename = "parquet")]
    Parquet,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf8Bom => "utf-8-bom",
            Encoding::Gb18030 => "gb18030",
            Encoding::Parquet => "parquet",
        }
    }

    /// Decodes one field; `None` when its bytes are invalid in this encoding.
    pub fn decode(self, bytes: &[u8]) -> Option<Cow<'_, str>> {
        match self {
            Encoding::Utf8 | Encoding::Utf8Bom | Encoding::Parquet => {
                std::str::from_utf8(bytes).ok().map(Cow::Borrowed)
            }
            // ASCII is the same text in every supported encoding.
            Encoding::Gb18030 if bytes.is_ascii() => {
                std::str::from_utf8(bytes).ok().map(Cow::Borrowed)
            }
            Encoding::Gb18030 => GB18030.decode_without_bom_handling_and_without_replacement(bytes),
        }
    }
}

/// Why a file cannot be read as CSV text at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotText {
    /// A NUL byte: a binary file (a spreadsheet, an archive, a Parquet file named .csv).
    Binary { offset: usize },
    /// A UTF-16 byte-order mark: export it again as UTF-8 or GBK.
    Utf16,
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Decides the encoding of a whole file and returns it with the bytes after any BOM.
pub fn detect(bytes: &[u8]) -> Result<(Encoding, &[u8]), NotText> {
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(NotText::Utf16);
    }
    if let Some(offset) = memchr_nul(bytes) {
        return Err(NotText::Binary { offset });
    }
    if let Some(rest) = bytes.strip_prefix(UTF8_BOM) {
        return Ok((Encoding::Utf8Bom, rest));
    }
    // Valid as a whole (the common case): no census needed.
    if std::str::from_utf8(bytes).is_ok() {
        return Ok((Encoding::Utf8, bytes));
    }
    let (chinese, invalid) = utf8_census(bytes);
    let encoding = if invalid == 0 || chinese > invalid {
        Encoding::Utf8
    } else {
        Encoding::Gb18030
    };
    Ok((encoding, bytes))
}

fn memchr_nul(bytes: &[u8]) -> Option<usize> {
    memchr::memchr(0, bytes)
}

/// Chinese text as UTF-8 writes it: CJK ideographs, CJK punctuation, full-width forms.
fn is_chinese(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{303F}' | '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{FF00}'..='\u{FFEF}')
}

/// Counts the bytes of valid UTF-8 Chinese characters and the bytes of invalid sequences.
/// Read as UTF-8, GBK text is mostly invalid bytes, and what happens to be valid falls in
/// other scripts' two-byte range (a misaligned pair); it forms a three-byte Chinese
/// character only by rare chance. A UTF-8 file with a few corrupted bytes is the other way
/// round: many Chinese characters, few invalid bytes.
fn utf8_census(mut bytes: &[u8]) -> (usize, usize) {
    let chinese_len = |text: &str| {
        text.chars()
            .filter(|&c| is_chinese(c))
            .map(char::len_utf8)
            .sum::<usize>()
    };
    let (mut chinese, mut invalid) = (0, 0);
    loop {
        match std::str::from_utf8(bytes) {
            Ok(text) => return (chinese + chinese_len(text), invalid),
            Err(error) => {
                let (good, rest) = bytes.split_at(error.valid_up_to());
                chinese += std::str::from_utf8(good).map(chinese_len).unwrap_or(0);
                let bad = error.error_len().unwrap_or(rest.len()).clamp(1, rest.len());
                invalid += bad;
                bytes = &rest[bad..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gbk(text: &str) -> Vec<u8> {
        GB18030.encode(text).0.into_owned()
    }

    #[test]
    fn ascii_and_clean_utf8_are_utf8() {
        assert_eq!(detect(b"a,b\n1,2\n").unwrap().0, Encoding::Utf8);
        assert_eq!(detect("名称\n南昌\n".as_bytes()).unwrap().0, Encoding::Utf8);
        let with_bom = [UTF8_BOM, "名称\n".as_bytes()].concat();
        let (encoding, rest) = detect(&with_bom).unwrap();
        assert_eq!(encoding, Encoding::Utf8Bom);
        assert_eq!(rest, "名称\n".as_bytes());
    }

    #[test]
    fn gbk_is_never_read_as_utf8() {
        let bytes = gbk("fixmedins_name\n南昌大学第一附属医院\n吉林大学第一医院\n");
        let (encoding, _) = detect(&bytes).unwrap();
        assert_eq!(encoding, Encoding::Gb18030);
        assert_eq!(
            encoding.decode(&gbk("南昌大学")).as_deref(),
            Some("南昌大学")
        );
    }

    #[test]
    fn utf8_with_one_corrupted_row_stays_utf8() {
        let mut bytes = "name\n南昌大学第一附属医院\n吉林大学第一医院\n湘雅医院\n"
            .as_bytes()
            .to_vec();
        let corrupt_at = bytes.len() - 5;
        bytes[corrupt_at] = 0xFF;
        let (encoding, _) = detect(&bytes).unwrap();
        assert_eq!(encoding, Encoding::Utf8);
        assert!(encoding.decode(&bytes[corrupt_at - 3..]).is_none());
    }

    #[test]
    fn gbk_with_one_invalid_sequence_stays_gbk_and_rejects_it() {
        let mut bytes = gbk("name\n南昌大学第一附属医院\n吉林大学第一医院\n");
        bytes.extend_from_slice(b"\x81\x20\n");
        let (encoding, _) = detect(&bytes).unwrap();
        assert_eq!(encoding, Encoding::Gb18030);
        assert!(encoding.decode(b"\x81\x20").is_none());
    }

    #[test]
    fn binary_and_utf16_are_not_text() {
        assert_eq!(detect(b"PAR1\x00\x01"), Err(NotText::Binary { offset: 4 }));
        assert_eq!(detect(b"\xFF\xFEa\x00"), Err(NotText::Utf16));
    }
}
