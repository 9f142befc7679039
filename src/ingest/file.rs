//! One input file, CSV or Parquet, located, hashed, its encoding decided, and parsed whole
//! or a chunk of rows at a time.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use sha2::{Digest, Sha256};

use super::InputFile;
use super::encoding::{self, Encoding};
use super::reader::{self, Parsed, RowRules};
use super::schema::Table;
use crate::error::InputError;

/// One file's frame and its manifest entry.
pub(super) struct Loaded {
    pub(super) parsed: Parsed,
    pub(super) file: InputFile,
}

pub(super) fn relative(path: &str) -> String {
    path.replace('\\', "/")
}

/// The two files a table `stem` may be in `dir`: its CSV, its Parquet.
pub(super) fn candidates(dir: &Path, stem: &str) -> [PathBuf; 2] {
    [
        dir.join(format!("{stem}.csv")),
        dir.join(format!("{stem}.parquet")),
    ]
}

/// Finds `<stem>.csv` or `<stem>.parquet` under `dir`.
fn locate(dir: &Path, stem: &str, rel_stem: &str) -> Result<Option<(PathBuf, String)>, InputError> {
    let [csv, parquet] = candidates(dir, stem);
    match (csv.is_file(), parquet.is_file()) {
        (true, true) => Err(InputError::Ambiguous {
            file: relative(rel_stem),
        }),
        (true, false) => Ok(Some((csv, format!("{rel_stem}.csv")))),
        (false, true) => Ok(Some((parquet, format!("{rel_stem}.parquet")))),
        (false, false) => Ok(None),
    }
}

/// Reads one input file, CSV or Parquet; `None` when it is absent.
pub(super) fn load(
    dir: &Path,
    stem: &str,
    rel_stem: &str,
    table: Table,
    rules: RowRules<'_>,
) -> Result<Option<Loaded>, InputError> {
    let mut whole =
        |_: DataFrame| -> Result<(), InputError> { unreachable!("one chunk: the whole file") };
    load_in_chunks(dir, stem, rel_stem, table, rules, usize::MAX, &mut whole)
}

/// Reads one input file, handing every `chunk_rows` accepted rows to `chunk` (a Parquet
/// file's rows at once); the frame of what it returns holds the rows left over.
pub(super) fn load_in_chunks<E: From<InputError>>(
    dir: &Path,
    stem: &str,
    rel_stem: &str,
    table: Table,
    rules: RowRules<'_>,
    chunk_rows: usize,
    chunk: &mut dyn FnMut(DataFrame) -> Result<(), E>,
) -> Result<Option<Loaded>, E> {
    let Some((path, rel)) = locate(dir, stem, rel_stem)? else {
        return if table.required() {
            Err(InputError::MissingFile {
                file: relative(rel_stem),
            }
            .into())
        } else {
            Ok(None)
        };
    };
    let rel = relative(&rel);
    let io = |source| InputError::Io {
        path: path.clone(),
        source,
    };
    let not_text = |e| match e {
        encoding::NotText::Binary { offset } => InputError::Binary {
            file: rel.clone(),
            offset,
        },
        encoding::NotText::Utf16 => InputError::Utf16 { file: rel.clone() },
    };
    if chunk_rows != usize::MAX && rel.ends_with(".csv") {
        // Read as it comes, never whole (a national registry is gigabytes): one pass for
        // the hash and the encoding, one to parse.
        let mut hasher = Sha256::new();
        let mut scan = reader::PlainScan::default();
        let detected = encoding::detect_file(&path, &mut |block| {
            hasher.update(block);
            scan.feed(block);
        })
        .map_err(io)?;
        let detected = detected.map_err(not_text)?;
        let mut file = std::fs::File::open(&path).map_err(io)?;
        std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(detected.skip)).map_err(io)?;
        let utf8 = detected.valid_utf8 && detected.encoding != Encoding::Gb18030;
        let parsed = if utf8 && scan.is_plain() {
            reader::parse_plain_in_chunks(
                table,
                &rel,
                detected.encoding,
                file,
                rules,
                chunk_rows,
                chunk,
                reader::PLAIN_BLOCK,
                scan.nul_free(),
            )?
        } else {
            reader::parse_csv_in_chunks(
                table,
                &rel,
                detected.encoding,
                std::io::BufReader::with_capacity(1 << 20, file),
                reader::Known {
                    decodable: utf8,
                    nul_free: scan.nul_free(),
                },
                rules,
                chunk_rows,
                chunk,
            )?
        };
        let rejected = parsed.rejects.len() as u64;
        let file = InputFile {
            path: rel,
            table: table.name(),
            size: detected.size,
            sha256: hex::encode(hasher.finalize()),
            encoding: detected.encoding,
            read: parsed.read,
            accepted: parsed.read - rejected,
            rejected,
            set_aside: None,
        };
        return Ok(Some(Loaded { parsed, file }));
    }
    let bytes = std::fs::read(&path).map_err(io)?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let (parsed, encoding) = if rel.ends_with(".parquet") {
        let mut parsed = super::parquet::parse_parquet(table, &rel, &bytes, rules)?;
        if chunk_rows != usize::MAX {
            let frame = parsed.frame.clear();
            chunk(std::mem::replace(&mut parsed.frame, frame))?;
        }
        (parsed, Encoding::Parquet)
    } else {
        let (encoding, body, text) = encoding::detect(&bytes).map_err(not_text)?;
        (
            reader::parse_csv(table, &rel, encoding, body, text, rules)?,
            encoding,
        )
    };
    let rejected = parsed.rejects.len() as u64;
    let file = InputFile {
        path: rel,
        table: table.name(),
        size: bytes.len() as u64,
        sha256,
        encoding,
        read: parsed.read,
        accepted: parsed.read - rejected,
        rejected,
        set_aside: None,
    };
    Ok(Some(Loaded { parsed, file }))
}
