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
/// decoding keeps no state across characters. `valid`: the body as text, where it was
/// already found to be UTF-8 (it is not checked again).
pub(super) fn parse_plain_text(
    table: Table,
    file: &str,
    encoding: Encoding,
    body: &[u8],
    valid: Option<&str>,
    rules: RowRules<'_>,
) -> Result<Option<Parsed>, InputError> {
    let mut scan = PlainScan::default();
    scan.feed(body);
    if !scan.is_plain() {
        return Ok(None);
    }
    let text: Cow<str> = match encoding {
        Encoding::Utf8 | Encoding::Utf8Bom => {
            match valid.map_or_else(|| std::str::from_utf8(body), Ok) {
                Ok(text) => Cow::Borrowed(text),
                Err(_) => return Ok(None),
            }
        }
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
    splitter.nul_free = scan.nul_free();
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
    /// The header, once read.
    header: Vec<String>,
    /// Bytes of lines, about, a parser takes when rows are parsed side by side.
    piece: usize,
    /// Rows parsed side by side ([`PlainSplitter::feed_side_by_side`]), in file order,
    /// waiting to be handed on: their frames, and what they read and rejected.
    parsed: Vec<Parsed>,
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
            header: Vec::new(),
            piece: 1 << 20,
            parsed: Vec::new(),
        }
    }

    /// Feeds whole lines of a file whose rows are checked each alone (no key that must not
    /// repeat, no settlement to link to): once the header is read, the lines are cut into
    /// pieces parsed side by side, each by a parser of its own that starts at the piece's
    /// line. What they give is what feeding the lines in order gives ([`PlainSplitter::feed`]).
    fn feed_side_by_side<E: From<InputError>>(
        &mut self,
        mut text: &str,
        chunk_rows: usize,
        chunk: &mut dyn FnMut(DataFrame) -> Result<(), E>,
    ) -> Result<(), E> {
        use rayon::prelude::*;
        // The header (after any blank lines) is read in order.
        while self.parser.is_none() && !text.is_empty() {
            let end = memchr::memchr(b'\n', text.as_bytes()).map_or(text.len(), |k| k + 1);
            let mut none = |_: DataFrame| -> Result<(), InputError> { unreachable!("no rows") };
            self.feed(&text[..end], usize::MAX, &mut none)?;
            text = &text[end..];
        }
        if text.is_empty() {
            return Ok(());
        }
        // Pieces of whole lines, each with the line it starts on and its line feeds.
        let bytes = text.as_bytes();
        let size = bytes
            .len()
            .div_ceil((bytes.len() / self.piece.max(1)).clamp(1, 64));
        let mut pieces: Vec<(&str, u64, usize)> = Vec::new();
        let (mut start, mut line) = (0, self.line);
        while start < bytes.len() {
            let cut = (start + size).min(bytes.len());
            let end = match memchr::memchr(b'\n', &bytes[cut - 1..]) {
                Some(k) => cut + k,
                None => bytes.len(),
            };
            let feeds = memchr::memchr_iter(b'\n', &bytes[start..end]).count();
            pieces.push((&text[start..end], line, feeds));
            line += feeds as u64;
            start = end;
        }
        let (table, file, encoding, rules, nul_free) = (
            self.table,
            self.file.as_str(),
            self.encoding,
            self.rules,
            self.nul_free,
        );
        let header = &self.header;
        let parsed = pieces
            .into_par_iter()
            .map(|(piece, line, feeds)| -> Result<Parsed, InputError> {
                let mut parser = RowParser::new(table, file, encoding, header, rules)?;
                parser.all_decodable = true;
                parser.nul_free = nul_free;
                parser.make_room(feeds + 1);
                let mut splitter = PlainSplitter::new(table, file, encoding, rules);
                splitter.parser = Some(parser);
                splitter.line = line;
                let mut whole =
                    |_: DataFrame| -> Result<(), InputError> { unreachable!("one chunk") };
                splitter.feed(piece, usize::MAX, &mut whole)?;
                splitter.finish()
            })
            .collect::<Result<Vec<Parsed>, InputError>>()?;
        self.line = line;
        self.parsed.extend(parsed);
        let waiting: usize = self.parsed.iter().map(|p| p.frame.height()).sum();
        if waiting >= chunk_rows {
            chunk(self.take_parsed_frame())?;
        }
        Ok(())
    }

    /// The rows parsed side by side and not yet handed on, as one frame (what they read
    /// and rejected is kept for [`PlainSplitter::finish`]).
    fn take_parsed_frame(&mut self) -> DataFrame {
        let mut frames = self.parsed.iter_mut().map(|p| {
            let empty = p.frame.clear();
            std::mem::replace(&mut p.frame, empty)
        });
        let mut frame = frames.next().expect("rows parsed");
        for more in frames {
            frame
                .vstack_mut_owned(more)
                .expect("frames of one table share its schema");
        }
        frame.rechunk_mut_par();
        frame
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
        let ends = Separators::new(bytes).map(|end| (end, bytes[end] == b','));
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
                self.header = header;
                parser.all_decodable = true;
                parser.nul_free = self.nul_free;
                parser.make_room(self.room);
                self.parser = Some(parser);
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Parsed, InputError> {
        let side_by_side = (!self.parsed.is_empty()).then(|| self.take_parsed_frame());
        let mut parsed = match self.parser {
            Some(parser) => parser.finish(),
            None => return Err(InputError::Empty { file: self.file }),
        };
        if let Some(frame) = side_by_side {
            // The header's parser read no row: the pieces' rows are the file's, in order.
            parsed.frame = frame;
            for piece in self.parsed {
                parsed.read += piece.read;
                parsed.rejects.extend(piece.rejects);
                parsed.rejected_setl_ids.extend(piece.rejected_setl_ids);
            }
        }
        Ok(parsed)
    }
}

/// The places of the commas and line feeds of a text, in order: a mask of them is made for
/// 64 bytes at a time (16 bytes a comparison), and its bits are read off one by one. A
/// field of a hospital's file is about 8 bytes, so this finds them in half the time of
/// searching for each one ([`memchr::memchr2_iter`]).
struct Separators<'a> {
    bytes: &'a [u8],
    /// Where the block of the mask starts.
    base: usize,
    /// The separators of the block not yet given, a bit a byte.
    mask: u64,
}

impl<'a> Separators<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Separators {
            bytes,
            base: 0,
            mask: block_mask(bytes),
        }
    }
}

/// Bit `i` set where byte `i` of the first 64 bytes of `block` is a comma or a line feed.
fn block_mask(block: &[u8]) -> u64 {
    use wide::u8x16;
    let Some(block) = block.get(..64) else {
        return block
            .iter()
            .enumerate()
            .filter(|(_, b)| matches!(b, b',' | b'\n'))
            .fold(0, |mask, (i, _)| mask | 1 << i);
    };
    let (comma, line_feed) = (u8x16::splat(b','), u8x16::splat(b'\n'));
    block
        .chunks_exact(16)
        .enumerate()
        .fold(0, |mask, (k, lane)| {
            let lane = u8x16::new(lane.try_into().expect("16 bytes"));
            let found = (lane.cmp_eq(comma) | lane.cmp_eq(line_feed)).move_mask() as u64;
            mask | found << (16 * k)
        })
}

impl Iterator for Separators<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            self.base += 64;
            if self.base >= self.bytes.len() {
                return None;
            }
            self.mask = block_mask(&self.bytes[self.base..]);
        }
        let at = self.base + self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        Some(at)
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
    // A row checked alone (no key that must not repeat, no settlement to link to) can be
    // checked on any core: the filing registry, a file of millions of rows, is.
    let independent = rules.unique_key.is_empty() && rules.settlements.is_none();
    let mut splitter = PlainSplitter::new(table, file, encoding, rules);
    // Side by side, the header's parser takes no row: the pieces' parsers make their room.
    splitter.room = if independent {
        0
    } else {
        chunk_rows.min(1 << 20)
    };
    // About eight parsers a block (1 MiB each for a block of 8 MiB).
    splitter.piece = block / 8;
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
        if independent {
            splitter.feed_side_by_side(text, chunk_rows, chunk)?;
        } else {
            splitter.feed(text, chunk_rows, chunk)?;
        }
        buffer.drain(..cut);
    }
    Ok(splitter.finish()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The separators are every comma and line feed, in order, whatever the length of
        /// the text (a block of 64 bytes and the shorter rest) and whatever else it holds.
        #[test]
        fn the_separators_are_every_comma_and_line_feed(
            text in proptest::collection::vec(
                prop_oneof![Just(b','), Just(b'\n'), Just(b'\r'), Just(b'"'), any::<u8>()],
                0..300,
            )
        ) {
            let expected: Vec<usize> = memchr::memchr2_iter(b',', b'\n', &text).collect();
            prop_assert_eq!(Separators::new(&text).collect::<Vec<_>>(), expected);
        }
    }

    #[test]
    fn a_separator_at_either_end_of_a_block_is_found() {
        let mut text = vec![b'a'; 130];
        for at in [0, 63, 64, 127, 128, 129] {
            text[at] = if at % 2 == 0 { b',' } else { b'\n' };
        }
        let found: Vec<usize> = Separators::new(&text).collect();
        assert_eq!(found, [0, 63, 64, 127, 128, 129]);
    }
}
