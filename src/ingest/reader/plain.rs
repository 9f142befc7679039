//! The plain-text fast path: a file that decodes whole and has no quote and no carriage
//! return but before a line feed, split on commas and line feeds in one pass.

use std::borrow::Cow;

use polars::prelude::*;

use super::row::RowParser;
use super::{Parsed, RowRules, TextRow};
use crate::error::InputError;
use crate::ingest::encoding::Encoding;
use crate::ingest::schema::Table;

/// The fast path of [`parse_csv`], for the files hospital systems usually write: the whole
/// file decodes, and it has no quote and no carriage return but before a line feed. Then a
/// record is a line and a field is the text between commas, exactly as the CSV reader
/// would split them, and every field is a slice of the file's text: no copy a record, no
/// decoding a field. `None` for any other file, which the CSV reader parses.
///
/// The whole file decodes exactly when each of its fields does: in UTF-8 and in GB18030
/// alike, no byte of a multi-byte character is a comma, a quote or a line break, and
/// decoding keeps no state across characters.
pub(super) fn parse_plain_text(
    table: Table,
    file: &str,
    encoding: Encoding,
    body: &[u8],
    rules: RowRules<'_>,
) -> Result<Option<Parsed>, InputError> {
    let mut scan = PlainScan::default();
    scan.feed(body);
    if !scan.is_plain() {
        return Ok(None);
    }
    let text: Cow<str> = match encoding {
        Encoding::Utf8 | Encoding::Utf8Bom => match std::str::from_utf8(body) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => return Ok(None),
        },
        Encoding::Gb18030 => {
            match encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(body) {
                Some(text) => text,
                None => return Ok(None),
            }
        }
        Encoding::Parquet | Encoding::NotText => return Ok(None),
    };
    let mut splitter = PlainSplitter::new(table, file, encoding, rules);
    // Lines but the header, at most: room for every row.
    splitter.room = memchr::memchr_iter(b'\n', text.as_bytes()).count();
    splitter.nul_free = memchr::memchr(0, body).is_none();
    let mut whole = |_: DataFrame| -> Result<(), InputError> { unreachable!("one chunk") };
    splitter.feed(&text, usize::MAX, &mut whole)?;
    splitter.finish().map(Some)
}

/// Splits plain text — no quote, no carriage return but before a line feed — into records
/// and hands them to a [`RowParser`]: a record is a line, a field the text between commas,
/// exactly as the CSV reader would split them. Text comes a block of whole lines at a time
/// (the last block may end without a line feed).
struct PlainSplitter<'a> {
    table: Table,
    file: String,
    encoding: Encoding,
    rules: RowRules<'a>,
    /// Made from the header, the first line that is not blank.
    parser: Option<RowParser<'a>>,
    /// The line the next block starts on.
    line: u64,
    /// Rows a frame is made with room for.
    room: usize,
    /// The text is known to hold no NUL.
    nul_free: bool,
}

impl<'a> PlainSplitter<'a> {
    fn new(table: Table, file: &str, encoding: Encoding, rules: RowRules<'a>) -> Self {
        PlainSplitter {
            table,
            file: file.to_owned(),
            encoding,
            rules,
            parser: None,
            line: 1,
            room: 0,
            nul_free: false,
        }
    }

    /// Parses a block of whole lines, handing every `chunk_rows` accepted rows to `chunk`.
    fn feed<E: From<InputError>>(
        &mut self,
        text: &str,
        chunk_rows: usize,
        chunk: &mut dyn FnMut(DataFrame) -> Result<(), E>,
    ) -> Result<(), E> {
        let bytes = text.as_bytes();
        let mut fields: Vec<&str> = Vec::new();
        let mut start = 0;
        // Commas and line feeds are found in one pass; a field ends at either, a line at
        // the second; what follows the last line feed is a last line without one.
        let ends = memchr::memchr2_iter(b',', b'\n', bytes).map(|end| (end, bytes[end] == b','));
        let last = (start_of_rest(bytes) < bytes.len()).then_some((bytes.len(), false));
        for (end, comma) in ends.chain(last) {
            fields.push(&text[start..end]);
            start = end + 1;
            if comma {
                continue;
            }
            let k = fields.len() - 1;
            fields[k] = fields[k].strip_suffix('\r').unwrap_or(fields[k]);
            // A blank line is no record.
            if !(k == 0 && fields[0].is_empty()) {
                self.record(&fields)?;
                if let Some(parser) = &mut self.parser
                    && parser.pending() >= chunk_rows
                {
                    chunk(parser.take_frame())?;
                }
            }
            fields.clear();
            self.line += 1;
        }
        Ok(())
    }

    fn record(&mut self, fields: &[&str]) -> Result<(), InputError> {
        match &mut self.parser {
            Some(parser) => parser.push(self.line, &TextRow { fields }),
            None => {
                let header: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
                let mut parser =
                    RowParser::new(self.table, &self.file, self.encoding, &header, self.rules)?;
                parser.all_decodable = true;
                parser.nul_free = self.nul_free;
                parser.make_room(self.room);
                self.parser = Some(parser);
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<Parsed, InputError> {
        match self.parser {
            Some(parser) => Ok(parser.finish()),
            None => Err(InputError::Empty { file: self.file }),
        }
    }
}

/// Where the text after the last line feed starts.
fn start_of_rest(bytes: &[u8]) -> usize {
    memchr::memrchr(b'\n', bytes).map_or(0, |k| k + 1)
}

/// Whether a file read in blocks can be split plainly ([`PlainSplitter`]): it has no quote
/// and no carriage return but before a line feed.
#[derive(Debug, Default)]
pub struct PlainScan {
    /// Some byte is NUL (not a reason to decline: rows are searched for it).
    nul: bool,
    quote: bool,
    lone_cr: bool,
    /// The last block ended with a carriage return.
    cr_at_end: bool,
}

impl PlainScan {
    /// Takes the file's next block.
    pub fn feed(&mut self, block: &[u8]) {
        let Some(&last) = block.last() else {
            return;
        };
        if self.cr_at_end && block[0] != b'\n' {
            self.lone_cr = true;
        }
        self.quote |= memchr::memchr(b'"', block).is_some();
        self.nul |= memchr::memchr(0, block).is_some();
        self.lone_cr |=
            memchr::memchr_iter(b'\r', &block[..block.len() - 1]).any(|k| block[k + 1] != b'\n');
        self.cr_at_end = last == b'\r';
    }

    pub fn is_plain(&self) -> bool {
        !self.quote && !self.lone_cr && !self.cr_at_end
    }

    pub fn nul_free(&self) -> bool {
        !self.nul
    }
}

/// Bytes of a file [`parse_plain_in_chunks`] reads at a time.
pub const PLAIN_BLOCK: usize = 8 << 20;

/// Parses a UTF-8 file that [`PlainScan`] found plain, read `block` bytes at a time (its
/// bytes after any BOM), handing every `chunk_rows` accepted rows to `chunk` as
/// [`parse_csv_in_chunks`] does (an error if a block is not UTF-8 after all: the file
/// changed since it was scanned).
#[allow(clippy::too_many_arguments)]
pub fn parse_plain_in_chunks<E: From<InputError>>(
    table: Table,
    file: &str,
    encoding: Encoding,
    mut body: impl std::io::Read,
    rules: RowRules<'_>,
    chunk_rows: usize,
    chunk: &mut dyn FnMut(DataFrame) -> Result<(), E>,
    block: usize,
    nul_free: bool,
) -> Result<Parsed, E> {
    let io = |source: std::io::Error| InputError::Io {
        path: file.into(),
        source,
    };
    let mut splitter = PlainSplitter::new(table, file, encoding, rules);
    splitter.room = chunk_rows.min(1 << 20);
    splitter.nul_free = nul_free;
    let mut buffer: Vec<u8> = Vec::with_capacity(block);
    let mut eof = false;
    while !eof {
        // Fill the buffer to a block (after what the last block left), or to the end.
        let kept = buffer.len();
        buffer.resize(kept + block, 0);
        let mut filled = kept;
        while filled < buffer.len() {
            match body.read(&mut buffer[filled..]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io(e).into()),
            }
        }
        buffer.truncate(filled);
        // Whole lines now, the rest with the next block (all of it at the end).
        let cut = if eof {
            buffer.len()
        } else {
            start_of_rest(&buffer)
        };
        let text = std::str::from_utf8(&buffer[..cut]).map_err(|e| InputError::Csv {
            file: file.to_owned(),
            message: format!("not UTF-8 when read again: {e}"),
        })?;
        splitter.feed(text, chunk_rows, chunk)?;
        buffer.drain(..cut);
    }
    Ok(splitter.finish()?)
}
