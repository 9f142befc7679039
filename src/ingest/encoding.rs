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
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Not CSV text (a NUL byte early, a UTF-16 BOM): a file of a directory set aside.
    #[serde(rename = "not-text")]
    NotText,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf8Bom => "utf-8-bom",
            Encoding::Gb18030 => "gb18030",
            Encoding::Parquet => "parquet",
            Encoding::NotText => "not-text",
        }
    }

    /// Decodes one field; `None` when its bytes are invalid in this encoding.
    pub fn decode(self, bytes: &[u8]) -> Option<Cow<'_, str>> {
        match self {
            Encoding::NotText => None,
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

/// Decides the encoding of a whole file and returns it with the bytes after any BOM, and
/// those bytes as text where they were found to be UTF-8 as a whole (the common case: the
/// parser need not check them again).
pub fn detect(bytes: &[u8]) -> Result<(Encoding, &[u8], Option<&str>), NotText> {
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(NotText::Utf16);
    }
    if let Some(offset) = memchr_nul(bytes) {
        return Err(NotText::Binary { offset });
    }
    if let Some(rest) = bytes.strip_prefix(UTF8_BOM) {
        return Ok((Encoding::Utf8Bom, rest, None));
    }
    // Valid as a whole (the common case): no census needed.
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok((Encoding::Utf8, bytes, Some(text)));
    }
    let (chinese, invalid) = utf8_census(bytes);
    let encoding = if invalid == 0 || chinese > invalid {
        Encoding::Utf8
    } else {
        Encoding::Gb18030
    };
    Ok((encoding, bytes, None))
}

/// A NUL byte this early makes a file binary (SPEC §3); a later one rejects only its row.
pub const TEXT_WINDOW: usize = 8 << 10;

/// The first NUL byte within the first [`TEXT_WINDOW`] bytes of a file.
fn memchr_nul(bytes: &[u8]) -> Option<usize> {
    memchr::memchr(0, &bytes[..bytes.len().min(TEXT_WINDOW)])
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

/// The encoding of a file too large to hold whole, decided as [`detect`] decides it, from
/// the file read a block at a time (twice when it is not valid UTF-8 throughout); each
/// byte of the first read also goes to `seen` (the manifest's hash).
pub struct Detected {
    pub encoding: Encoding,
    /// Bytes before the CSV text (a BOM).
    pub skip: u64,
    /// Every byte after the BOM is valid UTF-8.
    pub valid_utf8: bool,
    pub size: u64,
}

const BLOCK: usize = 8 << 20;

/// Reads `path` a block at a time.
fn blocks(
    path: &std::path::Path,
    size: usize,
    each: &mut dyn FnMut(&[u8], u64) -> std::ops::ControlFlow<()>,
) -> std::io::Result<()> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut block = vec![0u8; size];
    let mut offset = 0u64;
    loop {
        let mut filled = 0;
        while filled < size {
            let n = file.read(&mut block[filled..])?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        if filled == 0 || each(&block[..filled], offset).is_break() {
            return Ok(());
        }
        offset += filled as u64;
        if filled < size {
            return Ok(());
        }
    }
}

/// UTF-8 over blocks: an incomplete character at a block's end waits for the next block.
#[derive(Default)]
struct Utf8Stream {
    carry: Vec<u8>,
    chinese: usize,
    invalid: usize,
}

impl Utf8Stream {
    /// Feeds a block; with `census`, counts Chinese and invalid bytes as [`utf8_census`]
    /// does, else only whether some byte is invalid.
    fn feed(&mut self, block: &[u8], census: bool) {
        let joined;
        let bytes = if self.carry.is_empty() {
            block
        } else {
            self.carry.extend_from_slice(block);
            joined = std::mem::take(&mut self.carry);
            &joined[..]
        };
        let cut = match std::str::from_utf8(bytes) {
            Ok(_) => bytes.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => bytes.len() - incomplete_tail(bytes),
        };
        let (whole, tail) = bytes.split_at(cut);
        if census {
            let (chinese, invalid) = utf8_census(whole);
            self.chinese += chinese;
            self.invalid += invalid;
        } else if std::str::from_utf8(whole).is_err() {
            self.invalid += 1;
        }
        self.carry = tail.to_vec();
    }

    /// The end of the file: an incomplete character there is invalid.
    fn finish(&mut self) {
        self.invalid += self.carry.len();
        self.carry.clear();
    }
}

/// The length of an incomplete UTF-8 sequence at the end of `bytes` that more bytes could
/// complete (0 when there is none).
fn incomplete_tail(bytes: &[u8]) -> usize {
    let start = bytes.len().saturating_sub(3);
    for i in (start..bytes.len()).rev() {
        let b = bytes[i];
        if b & 0xC0 == 0x80 {
            continue;
        }
        let need = match b {
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => return 0,
        };
        let have = bytes.len() - i;
        return if have < need
            && std::str::from_utf8(&bytes[i..])
                .err()
                .is_some_and(|e| e.error_len().is_none())
        {
            have
        } else {
            0
        };
    }
    0
}

/// Decides the encoding of the file at `path` as [`detect`] would of its bytes.
pub fn detect_file(
    path: &std::path::Path,
    seen: &mut dyn FnMut(&[u8]),
) -> std::io::Result<Result<Detected, NotText>> {
    detect_file_in_blocks(path, BLOCK, seen)
}

fn detect_file_in_blocks(
    path: &std::path::Path,
    block_size: usize,
    seen: &mut dyn FnMut(&[u8]),
) -> std::io::Result<Result<Detected, NotText>> {
    let mut verdict: Option<NotText> = None;
    let mut bom = false;
    let mut validity = Utf8Stream::default();
    let mut size = 0u64;
    blocks(path, block_size, &mut |block, offset| {
        seen(block);
        size = offset + block.len() as u64;
        let mut body = block;
        if offset == 0 {
            if block.starts_with(b"\xFF\xFE") || block.starts_with(b"\xFE\xFF") {
                verdict = Some(NotText::Utf16);
            }
            if let Some(rest) = block.strip_prefix(UTF8_BOM) {
                bom = true;
                body = rest;
            }
        }
        if verdict.is_none()
            && offset < TEXT_WINDOW as u64
            && let Some(at) = memchr_nul(&block[..block.len().min(TEXT_WINDOW - offset as usize)])
        {
            verdict = Some(NotText::Binary {
                offset: offset as usize + at,
            });
        }
        if validity.invalid == 0 {
            validity.feed(body, false);
        }
        std::ops::ControlFlow::Continue(())
    })?;
    validity.finish();
    if let Some(not_text) = verdict {
        return Ok(Err(not_text));
    }
    let valid_utf8 = validity.invalid == 0;
    let encoding = if bom {
        Encoding::Utf8Bom
    } else if valid_utf8 {
        Encoding::Utf8
    } else {
        let mut census = Utf8Stream::default();
        blocks(path, block_size, &mut |block, _| {
            census.feed(block, true);
            std::ops::ControlFlow::Continue(())
        })?;
        census.finish();
        if census.invalid == 0 || census.chinese > census.invalid {
            Encoding::Utf8
        } else {
            Encoding::Gb18030
        }
    };
    Ok(Ok(Detected {
        encoding,
        skip: if bom { UTF8_BOM.len() as u64 } else { 0 },
        valid_utf8,
        size,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gbk(text: &str) -> Vec<u8> {
        GB18030.encode(text).0.into_owned()
    }

    /// The text comes back only where the whole file was found to be UTF-8: not after a
    /// BOM (not checked), not where some bytes are not UTF-8.
    #[test]
    fn the_text_comes_back_only_when_checked_whole() {
        let clean = "名称\n南昌\n";
        assert_eq!(detect(clean.as_bytes()).unwrap().2, Some(clean));
        let with_bom = [UTF8_BOM, clean.as_bytes()].concat();
        assert_eq!(detect(&with_bom).unwrap().2, None);
        let mixed = [clean.as_bytes(), &gbk("南昌\n")].concat();
        assert_eq!(detect(&mixed).unwrap().2, None);
    }

    #[test]
    fn ascii_and_clean_utf8_are_utf8() {
        assert_eq!(detect(b"a,b\n1,2\n").unwrap().0, Encoding::Utf8);
        assert_eq!(detect("名称\n南昌\n".as_bytes()).unwrap().0, Encoding::Utf8);
        let with_bom = [UTF8_BOM, "名称\n".as_bytes()].concat();
        let (encoding, rest, _) = detect(&with_bom).unwrap();
        assert_eq!(encoding, Encoding::Utf8Bom);
        assert_eq!(rest, "名称\n".as_bytes());
    }

    #[test]
    fn gbk_is_never_read_as_utf8() {
        let bytes = gbk("fixmedins_name\n南昌大学第一附属医院\n吉林大学第一医院\n");
        let (encoding, _, _) = detect(&bytes).unwrap();
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
        let (encoding, _, _) = detect(&bytes).unwrap();
        assert_eq!(encoding, Encoding::Utf8);
        assert!(encoding.decode(&bytes[corrupt_at - 3..]).is_none());
    }

    #[test]
    fn gbk_with_one_invalid_sequence_stays_gbk_and_rejects_it() {
        let mut bytes = gbk("name\n南昌大学第一附属医院\n吉林大学第一医院\n");
        bytes.extend_from_slice(b"\x81\x20\n");
        let (encoding, _, _) = detect(&bytes).unwrap();
        assert_eq!(encoding, Encoding::Gb18030);
        assert!(encoding.decode(b"\x81\x20").is_none());
    }

    /// The file read a block at a time decides as the bytes held whole do, wherever the
    /// blocks cut the characters.
    #[test]
    fn a_file_read_in_blocks_gets_the_encoding_of_its_bytes() {
        use proptest::prelude::*;
        let piece = prop_oneof![
            Just(b"a,b\n".to_vec()),
            Just("南昌大学第一附属医院,".as_bytes().to_vec()),
            Just(gbk("吉林大学第一医院\n")),
            Just(UTF8_BOM.to_vec()),
            Just(vec![0xFF]),
            Just(vec![0xE4, 0xB8]),
            Just(vec![0]),
            any::<u8>().prop_map(|b| vec![b]),
        ];
        let file = prop::collection::vec(piece, 0..40).prop_map(|p| p.concat());
        proptest!(|(bytes in file, block in 4usize..24)| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("f.csv");
            std::fs::write(&path, &bytes).unwrap();
            let mut seen = Vec::new();
            let streamed = detect_file_in_blocks(&path, block, &mut |b| seen.extend_from_slice(b))
                .unwrap()
                .map(|d| {
                    let body = &bytes[d.skip as usize..];
                    prop_assert_eq!(d.valid_utf8, std::str::from_utf8(body).is_ok());
                    prop_assert_eq!(d.size, bytes.len() as u64);
                    Ok((d.encoding, body))
                });
            prop_assert_eq!(&seen, &bytes);
            match (streamed, detect(&bytes)) {
                (Ok(streamed), whole) => {
                    let (encoding, body, _) = whole.unwrap();
                    prop_assert_eq!(streamed?, (encoding, body))
                }
                (Err(e), whole) => prop_assert_eq!(Err(e), whole.map(|_| ())),
            }
        });
    }

    #[test]
    fn binary_and_utf16_are_not_text() {
        assert_eq!(detect(b"PAR1\x00\x01"), Err(NotText::Binary { offset: 4 }));
        assert_eq!(detect(b"\xFF\xFEa\x00"), Err(NotText::Utf16));
    }

    #[test]
    fn a_nul_byte_past_the_first_8_kib_leaves_the_file_text() {
        let mut bytes = vec![b'a'; TEXT_WINDOW];
        bytes.push(0);
        assert_eq!(detect(&bytes).unwrap().0, Encoding::Utf8);
        bytes[TEXT_WINDOW - 1] = 0;
        assert_eq!(
            detect(&bytes),
            Err(NotText::Binary {
                offset: TEXT_WINDOW - 1
            })
        );
    }
}
