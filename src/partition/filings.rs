//! The filing registry's parts: [`FilingSpill`] routes the registry, as it is read a chunk
//! at a time, to the part of each filing's insured province, and writes the registry once
//! more, masked, for queries.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::{GROUP_ROWS, Held, split};
use crate::error::OutputError;
use crate::ingest::Table;
use crate::model::prov;
use crate::output::OutputFile;
use crate::output::parquet::{ParquetSink, owning_strings};

/// Where the parts' filings wait, unmasked (REG003 checks the `certno` itself): a
/// directory of the staging area that is removed before the results are committed.
pub const FILING_PARTS: &str = ".filing-parts";

/// The filing registry as it is read: masked in one file, `inputs/filings.parquet`, for
/// queries; by insured province (of `insu_admdvs`), unmasked, for the parts.
pub struct FilingSpill {
    root: PathBuf,
    masked: Option<ParquetSink>,
    parts: BTreeMap<PlSmallStr, ParquetSink>,
    /// The parts' filings also kept in memory (unmasked), while they fit.
    held: Held,
}

impl FilingSpill {
    /// The registry's files under `root`; its parts' rows also kept in memory up to `hold`
    /// bytes.
    pub fn new(root: &Path, hold: Option<usize>) -> Result<FilingSpill, OutputError> {
        let dir = root.join(FILING_PARTS);
        std::fs::create_dir_all(&dir).map_err(|e| OutputError::io(&dir, e))?;
        Ok(FilingSpill {
            root: root.to_owned(),
            masked: None,
            parts: BTreeMap::new(),
            held: Held::up_to(hold),
        })
    }

    /// The masked file for queries, or a part's (unmasked) file, a spill that the part's
    /// check reads back once.
    fn create(path: &Path, like: &DataFrame, mask: bool) -> Result<ParquetSink, OutputError> {
        let scale = crate::ingest::schema::input_scale(Table::Filings);
        let sink = match mask {
            true => ParquetSink::create(
                path,
                &like.clear(),
                &scale,
                ParquetCompression::Lz4Raw,
                true,
            )?,
            false => ParquetSink::spill(path, &like.clear(), &scale)?,
        };
        Ok(sink.with_group_rows(GROUP_ROWS))
    }

    /// Routes a chunk of filings (every chunk has the table's columns, the first too).
    pub fn push(&mut self, chunk: DataFrame) -> Result<(), OutputError> {
        if self.masked.is_none() {
            let path = self.root.join("inputs").join("filings.parquet");
            self.masked = Some(Self::create(&path, &chunk, true)?);
        }
        let io = |e: PolarsError| OutputError::io(self.root.join(FILING_PARTS), e);
        let parts: Vec<PlSmallStr> = chunk
            .column("insu_admdvs")
            .and_then(|c| c.str().cloned())
            .map_err(io)?
            .iter()
            .map(|a| PlSmallStr::from(prov(a.unwrap_or_default())))
            .collect();
        let mut due = Vec::new();
        for (part, piece) in split(&chunk, &parts).map_err(io)? {
            if !self.parts.contains_key(&part) {
                let path = self.root.join(FILING_PARTS).join(format!("{part}.parquet"));
                let sink = Self::create(&path, &piece, false)?;
                self.parts.insert(part.clone(), sink);
            }
            // A held piece would keep the whole chunk's string buffers.
            let piece = if self.held.holds() {
                owning_strings(&piece)
            } else {
                piece
            };
            self.held.keep(&part, 0, &piece);
            self.parts.get_mut(&part).expect("just made").push(piece)?;
            due.push(part);
        }
        // A chunk's rows of a part make its row group (none wait for the next chunk); the
        // parts' groups and the masked file's are written side by side.
        use rayon::prelude::*;
        let sinks: Vec<&mut ParquetSink> = self
            .parts
            .iter_mut()
            .filter(|(part, _)| due.contains(part))
            .map(|(_, sink)| sink)
            .collect();
        let masked = self.masked.as_mut().expect("made above");
        let (parts, masked) = rayon::join(
            || sinks.into_par_iter().try_for_each(|sink| sink.flush()),
            || masked.push(chunk),
        );
        parts.and(masked)
    }

    /// Finishes the files: the parts (sorted), the masked file's manifest entry, and the
    /// parts' filings held in memory.
    pub fn finish(self) -> Result<(Vec<PlSmallStr>, OutputFile, Held), OutputError> {
        let root = self.root;
        let names: Vec<PlSmallStr> = self.parts.keys().cloned().collect();
        for (_, sink) in self.parts {
            sink.finish(&root)?;
        }
        let masked = match self.masked {
            Some(sink) => sink.finish(&root)?,
            None => unreachable!("the registry's last chunk is always handed on"),
        };
        Ok((names, masked, self.held))
    }
}

/// A part's filings (unmasked), as spilled by [`FilingSpill`]; `None` when it has none.
pub fn read_filings(root: &Path, part: &str) -> Result<Option<DataFrame>, OutputError> {
    let path = root.join(FILING_PARTS).join(format!("{part}.parquet"));
    if !path.is_file() {
        return Ok(None);
    }
    let file = std::fs::File::open(&path).map_err(|e| OutputError::io(&path, e))?;
    ParquetReader::new(file)
        .finish()
        .map(Some)
        .map_err(|e| OutputError::io(&path, e))
}
