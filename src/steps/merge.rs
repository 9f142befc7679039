//! `yidi merge DIR --out OUT` (SPEC §14): puts a stage's checked parts together into
//! `OUT/<YYYY-MM>/`, exactly what `yidi run` writes for the same month, with the same lock
//! and atomic commit, and a manifest that lists the steps.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::{STEP_FILE, SliceRows, Stage, StepRecord, read_json, read_packed, stage_error};
use crate::error::OutputError;
use crate::ingest::Table;
use crate::output::key_ranges::KeyRanges;
use crate::output::parquet::ParquetSink;
use crate::output::{OutputFile, Staging};
use crate::progress::Progress;
use crate::run::{self, FailOn, Part};

/// What a merge needs, checked.
#[derive(Debug, Clone)]
pub struct Options {
    pub stage: PathBuf,
    pub out_root: PathBuf,
    pub wait: bool,
    pub fail_on: FailOn,
    /// The command line as typed, for the manifest.
    pub arguments: Vec<String>,
}

/// The finished check steps of a stage: each province's step directory, every province
/// of the month checked exactly once.
fn checked_parts(stage: &Stage) -> anyhow::Result<(BTreeMap<String, PathBuf>, Vec<StepRecord>)> {
    let check = stage.dir.join("check");
    let mut by_province: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut records = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&check)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                && p.join(STEP_FILE).is_file()
        })
        .collect();
    dirs.sort();
    for dir in dirs {
        let record: StepRecord = read_json(&dir.join(STEP_FILE))?;
        if record.config_hash != stage.settings.config.hash()
            || record.month != stage.settings.month
            || record.split.as_deref() != Some(stage.split_digest.as_str())
        {
            return Err(stage_error(
                &dir,
                format!(
                    "checked from another split of the month (a slice was split again since, from other files or options): check provinces {} again",
                    record.provinces.join(",")
                ),
            )
            .into());
        }
        for province in &record.provinces {
            if let Some(first) = by_province.insert(province.clone(), dir.clone()) {
                return Err(stage_error(
                    &stage.dir,
                    format!(
                        "province {province} checked twice: {} and {}; remove one",
                        first.display(),
                        dir.display()
                    ),
                )
                .into());
            }
        }
        records.push(record);
    }
    let known = stage.provinces();
    let missing: Vec<&str> = known
        .iter()
        .map(|p| p.as_str())
        .filter(|p| !by_province.contains_key(*p))
        .collect();
    if !missing.is_empty() {
        return Err(stage_error(
            &stage.dir,
            format!(
                "province {} not checked: run `yidi check {} --provinces {}`",
                missing.join(", "),
                stage.dir.display(),
                missing.join(",")
            ),
        )
        .into());
    }
    if let Some(extra) = by_province
        .keys()
        .find(|p| !known.iter().any(|k| k.as_str() == p.as_str()))
    {
        return Err(stage_error(
            &stage.dir,
            format!("province {extra} was checked but has no rows in this split: check again"),
        )
        .into());
    }
    Ok((by_province, records))
}

/// The settlements and fee lines of every part, typed under `inputs/` (masked already), the
/// rows `yidi run` writes (its row groups follow how the month was read: SPEC's tables are
/// byte for byte the run's, the analysts' `inputs/` hold the same rows).
fn write_parts(stage: &Stage, dir: &Path) -> Result<Vec<OutputFile>, OutputError> {
    let names = stage.provinces();
    let tables = [Table::Setlinfo, Table::Feedetail];
    let with_rows: Vec<&PlSmallStr> = names.iter().filter(|p| stage.rows(p) > 0).collect();
    let jobs: Vec<(String, usize)> = if with_rows.is_empty() {
        // A month without a row still has one empty file a table, as a run writes.
        vec![("empty".to_owned(), 0), ("empty".to_owned(), 1)]
    } else {
        with_rows
            .iter()
            .flat_map(|p| [(p.to_string(), 0), (p.to_string(), 1)])
            .collect()
    };
    // One file at a time (polars reads and encodes each on every core): from a job of a
    // parallel iterator, a thread waiting for polars' pool takes the iterator's next job
    // and starts reading it too, so every part's rows came into memory at once (a
    // half-national merge was killed at 24 GiB).
    jobs.iter()
        .map(|(part, k)| {
            let table = tables[*k];
            let path = dir
                .join("inputs")
                .join(table.name())
                .join(format!("{part}.parquet"));
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| OutputError::io(parent, e))?;
            }
            let empty = crate::ingest::empty_hospital_frame(table);
            let mut sink = ParquetSink::create(
                &path,
                &empty,
                &crate::ingest::schema::input_scale(table),
                ParquetCompression::Lz4Raw,
                false,
            )?
            .with_group_rows(crate::partition::GROUP_ROWS);
            for (slice, record) in stage.slices.iter().zip(&stage.records) {
                if !record.parts.contains_key(part.as_str()) {
                    continue;
                }
                // The one table, a row group at a time: a national month's part is
                // millions of rows, and two are written side by side.
                let rows = crate::partition::read_part_table(slice, table, part)?;
                let group = crate::partition::GROUP_ROWS;
                for offset in (0..rows.height()).step_by(group) {
                    sink.push(rows.slice(offset as i64, group))?;
                }
            }
            sink.finish(dir)
        })
        .collect()
}

/// Merges the stage into `<out>/<YYYY-MM>/`.
pub fn merge(options: &Options, progress: &Progress) -> anyhow::Result<run::Outcome> {
    let started = chrono::Utc::now();
    let stage = Stage::open(&options.stage)?;
    let (by_province, checks) = checked_parts(&stage)?;
    // A month with no part is checked here, as one empty part: the default budget is ample.
    let month_options = stage.month_options(Default::default());
    let _lock = run::lock(
        &options.out_root,
        &month_options.month,
        options.wait,
        progress,
    )?;
    let later_months =
        crate::ledger::previous::later_months(&options.out_root, &month_options.month);
    let mut month = stage.month()?;
    run::add_previous_file(&mut month, &stage.settings.previous.source());
    let previous = stage.previous()?;
    let staging = Staging::new(&options.out_root, &month_options.month)?;
    let dir = staging.path().to_owned();

    let inputs_stage = progress.stage("inputs", 0, "tables");
    let mut inputs = write_parts(&stage, &dir)?;
    let filings = stage.slices[0].join("inputs").join("filings.parquet");
    let copy = dir.join("inputs").join("filings.parquet");
    std::fs::copy(&filings, &copy).map_err(|e| OutputError::io(&copy, e))?;
    let filing_rows =
        ParquetReader::new(std::fs::File::open(&copy).map_err(|e| OutputError::io(&copy, e))?)
            .num_rows()
            .map_err(|e| OutputError::io(&copy, e))?;
    inputs.push(crate::output::table::describe(&dir, &copy, filing_rows)?);
    inputs.extend(run::write_inputs(&dir, &month)?);
    inputs_stage.finish(&format!("{} typed files under inputs/", inputs.len()));

    // The parts in the order `yidi run` checks them; a month with none has one empty part.
    let mut by_hospital: BTreeMap<PlSmallStr, usize> = BTreeMap::new();
    for record in &stage.records {
        for (code, n) in &record.by_hospital {
            *by_hospital.entry(PlSmallStr::from_str(code)).or_default() += n;
        }
    }
    let mut settlements = KeyRanges::new(&by_hospital, Default::default(), &dir)?;
    let mut parts: Vec<Part> = Vec::new();
    if by_province.is_empty() {
        crate::run::check_each(
            &[],
            &SliceRows { stage: &stage },
            &month,
            &month_options,
            &previous,
            progress,
            &mut |mut part| {
                settlements.push(std::mem::take(&mut part.settlements))?;
                parts.push(part);
                Ok(())
            },
        )?;
    }
    let seconds: BTreeMap<&String, [f64; 6]> = checks
        .iter()
        .flat_map(|c| &c.seconds)
        .map(|(p, s)| (p, *s))
        .collect();
    for (province, check_dir) in &by_province {
        let mut part: Part = read_packed(&check_dir.join(format!("{province}.msgpack")))?;
        part.seconds = seconds.get(province).copied().unwrap_or_default();
        part.settlements =
            super::read_frame(&check_dir.join(format!("{province}.settlements.parquet")))?;
        settlements.push(std::mem::take(&mut part.settlements))?;
        parts.push(part);
    }
    let checked = run::finish_parts(
        parts,
        settlements,
        &month,
        &month_options,
        &previous,
        progress,
    )
    .map_err(|e| match e {
        // A check step's gathering that does not read back: the checks' files.
        crate::error::InputError::Stage { message, .. } => super::stage_error(
            &stage.dir.join("check"),
            format!("{message}; check the provinces again"),
        ),
        other => other,
    })?;

    let mut steps: Vec<serde_json::Value> = Vec::new();
    for record in stage.steps.iter().chain(&checks) {
        steps.push(serde_json::to_value(record).map_err(|e| OutputError::io(&dir, e))?);
    }
    run::finish_month(
        staging,
        month,
        checked,
        inputs,
        &run::Finish {
            command: "merge",
            arguments: options.arguments.clone(),
            started,
            fail_on: options.fail_on,
            previous: stage.settings.previous.source(),
            later_months,
            steps,
        },
        &month_options,
        progress,
    )
}
