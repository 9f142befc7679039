//! A hospital directory set aside (SPEC §3): one hospital's broken export never stops the
//! month.
//!
//! When a file of a directory cannot be read as a table (a required file missing, an empty
//! or binary file, a header without a required column...), the month is checked as though
//! the directory were absent, and its rows are still accounted for: each non-blank line
//! after the first of each of its CSV files is one rejected row, and a Parquet file counts
//! the rows its metadata gives (0 when it cannot be read).

use std::io::Read;
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::InputFile;
use super::encoding::{self, Encoding};
use super::reject::{Reason, Reject};
use super::schema::Table;
use crate::error::InputError;

/// A hospital directory set aside, as the manifest lists it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct SetAside {
    pub hospital_dir: String,
    /// What is wrong with it, naming the file.
    pub reason: String,
}

/// A directory set aside with every file it holds and every row of them, rejected.
pub struct SetAsideDir {
    pub entry: SetAside,
    pub files: Vec<InputFile>,
    pub rejects: Vec<Reject>,
}

/// Sets aside hospital directory `dir` of the month for `problem`.
pub fn set_aside(month_dir: &Path, dir: &str, problem: &InputError) -> SetAsideDir {
    let reason = problem.to_string();
    let base = month_dir.join("exports").join(dir);
    let mut files = Vec::new();
    let mut rejects = Vec::new();
    for table in [Table::Setlinfo, Table::Feedetail, Table::Summary] {
        for extension in ["csv", "parquet"] {
            let name = format!("{}.{extension}", table.stem());
            let path = base.join(&name);
            if !path.is_file() {
                continue;
            }
            let rel = format!("exports/{dir}/{name}");
            let (mut file, lines) = if extension == "csv" {
                csv_lines(&path, &rel, table)
            } else {
                parquet_rows(&path, &rel, table, problem)
            };
            file.set_aside = Some(reason.clone());
            rejects.extend(lines.into_iter().map(|line| Reject {
                file: rel.clone(),
                line,
                column: None,
                reason: Reason::SetAside {
                    problem: reason.clone(),
                },
            }));
            files.push(file);
        }
    }
    SetAsideDir {
        entry: SetAside {
            hospital_dir: dir.to_owned(),
            reason,
        },
        files,
        rejects,
    }
}

fn entry(rel: &str, table: Table, size: u64, sha256: String, encoding: Encoding) -> InputFile {
    InputFile {
        path: rel.to_owned(),
        table: table.name(),
        size,
        sha256,
        encoding,
        read: 0,
        accepted: 0,
        rejected: 0,
        set_aside: None,
    }
}

/// The lines of a CSV file that count as rows: the raw bytes split on line feeds, every
/// non-empty line after the first (SPEC §3, to the letter: a CRLF file's blank line is its
/// carriage return, not empty, and counts). A file that cannot be read counts none.
fn csv_lines(path: &Path, rel: &str, table: Table) -> (InputFile, Vec<u64>) {
    let mut hasher = Sha256::new();
    let mut counter = LineCounter::default();
    let detected = encoding::detect_file(path, &mut |block| {
        hasher.update(block);
        counter.feed(block);
    });
    let encoding = match &detected {
        Ok(Ok(d)) => d.encoding,
        _ => Encoding::NotText,
    };
    let size = match &detected {
        Ok(Ok(d)) => d.size,
        _ => std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
    };
    if detected.is_err() {
        // Unreadable (permissions, an I/O error): no line can be told.
        return (entry(rel, table, size, String::new(), encoding), Vec::new());
    }
    let lines = counter.finish();
    let mut file = entry(rel, table, size, hex::encode(hasher.finalize()), encoding);
    file.read = lines.len() as u64;
    file.rejected = file.read;
    (file, lines)
}

/// The rows of a Parquet file, as lines 2, 3, … (SPEC §3: the rows its metadata gives; none
/// when it is the file that could not be read, or its metadata cannot be).
fn parquet_rows(
    path: &Path,
    rel: &str,
    table: Table,
    problem: &InputError,
) -> (InputFile, Vec<u64>) {
    let bytes = std::fs::File::open(path).and_then(|mut f| {
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).map(|_| bytes)
    });
    let Ok(bytes) = bytes else {
        return (
            entry(rel, table, 0, String::new(), Encoding::Parquet),
            Vec::new(),
        );
    };
    let mut file = entry(
        rel,
        table,
        bytes.len() as u64,
        hex::encode(Sha256::digest(&bytes)),
        Encoding::Parquet,
    );
    let failed_here = match problem {
        InputError::Parquet { file, .. } | InputError::ParquetType { file, .. } => file == rel,
        _ => false,
    };
    let rows = if failed_here {
        0
    } else {
        use polars::prelude::SerReader;
        polars::prelude::ParquetReader::new(std::io::Cursor::new(bytes))
            .num_rows()
            .unwrap_or(0)
    };
    file.read = rows as u64;
    file.rejected = file.read;
    (file, (0..rows as u64).map(|row| row + 2).collect())
}

/// Counts the lines of a file fed a block at a time.
#[derive(Debug)]
struct LineCounter {
    /// The physical line being read (from 1).
    line: u64,
    /// The current line has a byte.
    non_empty: bool,
    rows: Vec<u64>,
}

impl Default for LineCounter {
    fn default() -> Self {
        LineCounter {
            line: 1,
            non_empty: false,
            rows: Vec::new(),
        }
    }
}

impl LineCounter {
    fn feed(&mut self, mut block: &[u8]) {
        while !block.is_empty() {
            match memchr::memchr(b'\n', block) {
                Some(k) => {
                    self.take(&block[..k]);
                    self.end_line();
                    block = &block[k + 1..];
                }
                None => {
                    self.take(block);
                    block = &[];
                }
            }
        }
    }

    fn take(&mut self, bytes: &[u8]) {
        self.non_empty |= !bytes.is_empty();
    }

    fn end_line(&mut self) {
        if self.line > 1 && self.non_empty {
            self.rows.push(self.line);
        }
        self.line += 1;
        self.non_empty = false;
    }

    /// The lines that count as rows.
    fn finish(mut self) -> Vec<u64> {
        if self.non_empty {
            self.end_line();
        }
        self.rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(bytes: &[u8], block: usize) -> Vec<u64> {
        let mut counter = LineCounter::default();
        bytes.chunks(block).for_each(|b| counter.feed(b));
        counter.finish()
    }

    #[test]
    fn every_non_empty_line_after_the_first_is_a_row() {
        let text = b"a,b\r\n1,2\r\n\r\n3,4\n\n\x00\x01\n5";
        for block in 1..=text.len() {
            assert_eq!(rows(text, block), vec![2, 3, 4, 6, 7], "block {block}");
        }
        assert_eq!(rows(b"", 4), Vec::<u64>::new());
        assert_eq!(rows(b"header only", 4), Vec::<u64>::new());
        assert_eq!(rows(b"h\n\r\r\n", 4), vec![2]);
        assert_eq!(rows(b"h\r\n\r\n", 4), vec![2]);
    }
}
