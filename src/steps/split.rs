//! `yidi split <month-dir> --stage DIR --slice I/N` (SPEC §14): slice I reads its share of
//! the hospital directories (slice 0 also the common files) and leaves what it read in the
//! stage, by insured province, as `yidi run` spills it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;

use super::{
    Settings, SliceRecord, StepDir, StepRecord, StoredFile, StoredReject, slice_name, write_frame,
    write_json, write_packed,
};
use crate::ingest::{self, MonthOptions, Slice, Table};
use crate::ledger;
use crate::output::disk;
use crate::partition;
use crate::progress::Progress;

/// What a split needs, checked.
#[derive(Debug, Clone)]
pub struct Options {
    pub month: MonthOptions,
    pub stage: PathBuf,
    pub slice: Slice,
    /// Where the previous month's run is found by default (`<out>/<previous month>/`).
    pub out_root: PathBuf,
    pub previous: ledger::previous::PreviousOptions,
}

/// Runs slice `options.slice` of the month into the stage; the slice's directory.
pub fn split(options: &Options, progress: &Progress) -> anyhow::Result<PathBuf> {
    let started = chrono::Utc::now();
    let month_options = &options.month;
    let slice = options.slice;
    // The previous ledger, found before any work (slice 0 records it for every step).
    let previous = if slice.reads_common() {
        let mut previous =
            ledger::previous::locate(&options.out_root, &month_options.month, &options.previous)?;
        // Recorded for steps that may run in another directory.
        previous.source.path = previous.source.path.map(|path| {
            std::path::absolute(&path)
                .map(|p| p.display().to_string())
                .unwrap_or(path)
        });
        Some(previous)
    } else {
        None
    };
    let target = options
        .stage
        .join("split")
        .join(slice_name(slice.index, slice.count));
    let step = StepDir::new(&target)?;
    let dir = step.path().to_owned();
    // Every slice's parts go to the one stage: it takes what a run's staging would.
    if let Some(warning) = disk::check_room(&options.stage, &month_options.month_dir) {
        progress.message(&warning);
    }
    // A stage is for other machines: nothing held in memory.
    let mut spill = partition::Spill::new(&dir, month_options.budget, false)?;
    let mut filing_spill = if slice.reads_common() {
        Some(partition::FilingSpill::new(&dir, None)?)
    } else {
        None
    };
    let read_options = ingest::ReadOptions {
        slice,
        ..month_options.read_options()
    };
    let month = ingest::read_month_into(
        &month_options.month_dir,
        read_options,
        progress,
        &mut |rows| spill.push(rows).map_err(anyhow::Error::from),
        &mut |chunk| match &mut filing_spill {
            Some(filings) => filings.push(chunk).map_err(anyhow::Error::from),
            None => Ok(()),
        },
    )
    .with_context(|| format!("reading {}", month_options.month_dir.display()))?;
    for aside in &month.set_aside {
        progress.message(&format!(
            "exports/{} set aside, not cleared this month: {}",
            aside.hospital_dir, aside.reason
        ));
    }
    let spilled = spill.finish()?;
    let write = progress.stage("stage", 0, "files");
    let record = SliceRecord {
        files: month.files.iter().map(StoredFile::of).collect(),
        rejects: month.rejects.iter().map(StoredReject::of).collect(),
        rejected_fee_lines: month.rejected_fee_lines.clone(),
        dir_mismatches: month.dir_mismatches.clone(),
        set_aside: month.set_aside.clone(),
        by_hospital: spilled
            .by_hospital
            .iter()
            .map(|(code, n)| (code.to_string(), *n))
            .collect(),
        parts: spilled
            .parts
            .iter()
            .map(|(part, n)| (part.to_string(), *n))
            .collect::<BTreeMap<_, _>>(),
    };
    write_packed(&dir.join("slice.msgpack"), &record)?;
    write_frame(&dir.join("summary.parquet"), &month.summary)?;
    if let (Some(filings), Some(previous)) = (filing_spill, &previous) {
        let (filing_parts, _, _) = filings.finish()?;
        let common = dir.join("common");
        std::fs::create_dir_all(&common).map_err(|e| crate::error::OutputError::io(&common, e))?;
        for table in Table::ALL.into_iter().filter(|t| !t.per_hospital()) {
            if let Some(frame) = month.table(table) {
                write_frame(&common.join(format!("{}.parquet", table.name())), frame)?;
            }
        }
        if let Some(path) = &previous.source.path {
            let copy = common.join("previous-ledger.csv");
            std::fs::copy(path, &copy).map_err(|e| crate::error::OutputError::io(&copy, e))?;
        }
        let settings = Settings {
            month: month_options.month.clone(),
            month_dir: std::path::absolute(&month_options.month_dir)
                .unwrap_or_else(|_| month_options.month_dir.clone()),
            config: month_options.config.clone(),
            lang: month_options.lang,
            strict: month_options.strict,
            previous: super::StoredPrevious::of(&previous.source),
            filing_parts: filing_parts.iter().map(|p| p.to_string()).collect(),
        };
        write_json(&dir.join("settings.json"), &settings)?;
    }
    let record = StepRecord {
        step: "split".into(),
        slice: Some(slice.to_string()),
        provinces: Vec::new(),
        month: month_options.month.clone(),
        config_hash: month_options.config.hash(),
        host: super::host(),
        started: started.to_rfc3339(),
        finished: chrono::Utc::now().to_rfc3339(),
        seconds: Default::default(),
        split: None,
    };
    let path = step.commit(&record)?;
    write.finish(&format!(
        "slice {slice}: {} hospital directories, {} provinces, into {}",
        month
            .files
            .iter()
            .filter(|f| f.table == Table::Setlinfo.name())
            .count(),
        spilled.parts.len(),
        path.display()
    ));
    Ok(path)
}
