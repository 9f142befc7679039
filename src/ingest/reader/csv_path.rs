//! Files through the `csv` crate (quotes, lone carriage returns, bytes that do not decode),
//! held whole or read as they come, each row at the physical line it starts on.

use std::borrow::Cow;

use csv::ByteRecord;
use polars::prelude::*;

use super::plain::parse_plain_text;
use super::row::RowParser;
use super::{Parsed, RowRules};
use crate::error::InputError;
use crate::ingest::encoding::Encoding;
use crate::ingest::schema::Table;

/// Parses a whole CSV file (its bytes after any BOM; `text`: the same, where they were
/// found to be UTF-8 already).
pub fn parse_csv<'a>(
    table: Table,
    file: &str,
    encoding: Encoding,
    body: &[u8],
    text: Option<&str>,
    rules: RowRules<'a>,
) -> Result<Parsed, InputError> {
    if let Some(parsed) = parse_plain_text(table, file, encoding, body, text, rules)? {
        return Ok(parsed);
    }
    parse_csv_reader(table, file, encoding, body, rules)
}

/// [`parse_csv`] by the CSV reader: for files with quotes, a lone carriage return, or bytes
/// that do not decode.
pub(super) fn parse_csv_reader(
    table: Table,
    file: &str,
    encoding: Encoding,
    body: &[u8],
    rules: RowRules<'_>,
) -> Result<Parsed, InputError> {
    let mut whole =
        |_: DataFrame| -> Result<(), InputError> { unreachable!("one chunk: the whole file") };
    // A UTF-8 file valid as a whole has every field valid (the CSV delimiters are ASCII,
    // and no multi-byte character holds an ASCII byte): one check instead of one a field.
    let all_decodable =
        matches!(encoding, Encoding::Utf8 | Encoding::Utf8Bom) && std::str::from_utf8(body).is_ok();
    let known = Known {
        decodable: all_decodable,
        nul_free: memchr::memchr(0, body).is_none(),
    };
    let mut starts = StartLines::default();
    parse_records(
        table,
        file,
        encoding,
        body,
        known,
        rules,
        usize::MAX,
        &mut whole,
        &mut |position| starts.line(body, position.byte()),
    )
}

/// What is known of a whole file before its rows are parsed, so that no row need be
/// searched for it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Known {
    /// Every field decodes.
    pub decodable: bool,
    /// No byte is NUL.
    pub nul_free: bool,
}

/// The physical line a record starts on, in a file held whole. The CSV reader's own count
/// is that of the byte where it began looking for the record, before the line breaks and
/// blank lines it skipped: in a file with CRLF line breaks every record after the header
/// would be one line short, and a record after blank lines more.
#[derive(Debug, Default)]
struct StartLines {
    /// Bytes whose line feeds are counted in `lines`.
    counted: usize,
    lines: u64,
}

impl StartLines {
    /// The line of the record the reader began looking for at byte `from` of `body`
    /// (records come in file order, so each call counts on from the last).
    fn line(&mut self, body: &[u8], from: u64) -> u64 {
        let from = (from as usize).min(body.len());
        let skipped = body[from..]
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count();
        let start = from + skipped;
        if start > self.counted {
            self.lines += memchr::memchr_iter(b'\n', &body[self.counted..start]).count() as u64;
            self.counted = start;
        }
        1 + self.lines
    }
}

/// [`StartLines`] for a file read as it comes: the bytes the CSV reader has taken but whose
/// line feeds are not yet counted are kept (a block and a record at most), the rest are
/// counted and let go.
#[derive(Debug, Default)]
struct StreamedLines {
    /// The file's bytes from offset `base` on, as the reader took them.
    window: Vec<u8>,
    base: u64,
    starts: StartLines,
}

impl StreamedLines {
    /// The line of the record the reader began looking for at byte `from` of the file.
    fn line(&mut self, from: u64) -> u64 {
        let from = from.saturating_sub(self.base);
        let line = self.starts.line(&self.window, from);
        // What is counted is never looked at again.
        let counted = self.starts.counted;
        self.window.drain(..counted);
        self.base += counted as u64;
        self.starts.counted = 0;
        line
    }
}

/// A reader that keeps what it reads for [`StreamedLines`].
struct Tee<R> {
    inner: R,
    lines: std::rc::Rc<std::cell::RefCell<StreamedLines>>,
}

impl<R: std::io::Read> std::io::Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.lines.borrow_mut().window.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

/// Parses a CSV file (its bytes after any BOM, read as they come), handing every
/// `chunk_rows` accepted rows to `chunk` as a frame; the frame of what [`Parsed`] returns
/// holds the rows left over. A row's line is the physical line it starts on, counted as
/// the file is read ([`StreamedLines`]).
#[allow(clippy::too_many_arguments)]
pub fn parse_csv_in_chunks<'a, E: From<InputError>>(
    table: Table,
    file: &str,
    encoding: Encoding,
    body: impl std::io::Read,
    known: Known,
    rules: RowRules<'a>,
    chunk_rows: usize,
    chunk: &mut dyn FnMut(DataFrame) -> Result<(), E>,
) -> Result<Parsed, E> {
    let lines = std::rc::Rc::new(std::cell::RefCell::new(StreamedLines::default()));
    let body = Tee {
        inner: body,
        lines: lines.clone(),
    };
    parse_records(
        table,
        file,
        encoding,
        body,
        known,
        rules,
        chunk_rows,
        chunk,
        &mut |position| lines.borrow_mut().line(position.byte()),
    )
}

/// [`parse_csv_in_chunks`], each row's line given by `line_of` from the reader's position.
#[allow(clippy::too_many_arguments)]
fn parse_records<'a, E: From<InputError>>(
    table: Table,
    file: &str,
    encoding: Encoding,
    body: impl std::io::Read,
    known: Known,
    rules: RowRules<'a>,
    chunk_rows: usize,
    chunk: &mut dyn FnMut(DataFrame) -> Result<(), E>,
    line_of: &mut dyn FnMut(&csv::Position) -> u64,
) -> Result<Parsed, E> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let mut record = ByteRecord::new();
    let header = match reader.read_byte_record(&mut record) {
        Ok(true) => record.clone(),
        Ok(false) => {
            return Err(InputError::Empty {
                file: file.to_owned(),
            }
            .into());
        }
        Err(error) => {
            return Err(InputError::Csv {
                file: file.to_owned(),
                message: error.to_string(),
            }
            .into());
        }
    };
    let header: Vec<String> = header
        .iter()
        .map(|h| encoding.decode(h).map(Cow::into_owned))
        .collect::<Option<_>>()
        .ok_or_else(|| InputError::Header {
            file: file.to_owned(),
        })?;
    let mut parser = RowParser::new(table, file, encoding, &header, rules)?;
    parser.all_decodable = known.decodable;
    parser.nul_free = known.nul_free;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {
                let line = record.position().map_or(0, &mut *line_of);
                parser.push(line, &record);
                if parser.pending() >= chunk_rows {
                    chunk(parser.take_frame())?;
                }
            }
            Ok(false) => break,
            Err(error) => {
                return Err(match error.kind() {
                    csv::ErrorKind::Io(source) => InputError::Io {
                        path: file.into(),
                        source: std::io::Error::new(source.kind(), source.to_string()),
                    },
                    _ => InputError::Csv {
                        file: file.to_owned(),
                        message: error.to_string(),
                    },
                }
                .into());
            }
        }
    }
    Ok(parser.finish())
}
