//! `yidi check DIR --provinces P,Q,…` (SPEC §14): checks the parts of a group of insured
//! provinces from a stage whose slices are all finished, and leaves each part's results in
//! the stage for the merge.

use std::path::PathBuf;

use polars::prelude::PlSmallStr;

use super::{SliceRows, Stage, StepDir, StepRecord, stage_error, write_frame, write_packed};
use crate::progress::Progress;

/// What a check needs, checked.
#[derive(Debug, Clone)]
pub struct Options {
    pub stage: PathBuf,
    /// The insured provinces to check (2 digits each).
    pub provinces: Vec<String>,
    pub budget: crate::budget::Budget,
}

/// The directory of the check of `provinces` (sorted).
pub fn group_name(provinces: &[String]) -> String {
    provinces.join("-")
}

/// Checks the group of provinces; the step's directory.
pub fn check(options: &Options, progress: &Progress) -> anyhow::Result<PathBuf> {
    let started = chrono::Utc::now();
    let stage = Stage::open(&options.stage)?;
    if options.provinces.is_empty() {
        // An empty group of a plan with more groups than provinces.
        progress.message("no provinces given: nothing to check");
        return Ok(stage.dir.join("check"));
    }
    let known = stage.provinces();
    let mut provinces = options.provinces.clone();
    provinces.sort();
    provinces.dedup();
    if provinces.len() != options.provinces.len() {
        return Err(stage_error(&stage.dir, "--provinces names a province twice").into());
    }
    if let Some(unknown) = provinces
        .iter()
        .find(|p| !known.iter().any(|k| k.as_str() == p.as_str()))
    {
        return Err(stage_error(
            &stage.dir,
            format!(
                "province {unknown} has no settlement, fee line or filing in this stage (its provinces: {})",
                known.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(",")
            ),
        )
        .into());
    }
    let options_of_month = stage.month_options(options.budget);
    let month = stage.month()?;
    let previous = stage.previous()?;
    let target = stage.dir.join("check").join(group_name(&provinces));
    let step = StepDir::new(&target)?;
    let dir = step.path().to_owned();
    let names: Vec<PlSmallStr> = provinces.iter().map(|p| PlSmallStr::from_str(p)).collect();
    let mut k = 0;
    let mut seconds = std::collections::BTreeMap::new();
    crate::run::check_each(
        &names,
        &SliceRows { stage: &stage },
        &month,
        &options_of_month,
        &previous,
        progress,
        &mut |mut part| {
            let name = &provinces[k];
            k += 1;
            seconds.insert(name.clone(), part.seconds);
            let settlements = std::mem::take(&mut part.settlements);
            write_frame(
                &dir.join(format!("{name}.settlements.parquet")),
                &settlements,
            )?;
            write_packed(&dir.join(format!("{name}.msgpack")), &part)
        },
    )?;
    let record = StepRecord {
        step: "check".into(),
        slice: None,
        provinces: provinces.clone(),
        month: stage.settings.month.clone(),
        config_hash: stage.settings.config.hash(),
        host: super::host(),
        started: started.to_rfc3339(),
        finished: chrono::Utc::now().to_rfc3339(),
        seconds,
        split: Some(stage.split_digest.clone()),
    };
    let path = step.commit(&record)?;
    progress.message(&format!(
        "checked provinces {} into {}",
        provinces.join(","),
        path.display()
    ));
    Ok(path)
}

/// `yidi check DIR --plan M`: the stage's provinces dealt into `groups` groups of about
/// equal rows (largest first, each to the lightest group), one line each, comma-separated
/// (empty when there are more groups than provinces): what a batch engine hands its
/// `check` tasks.
pub fn plan(stage_dir: &std::path::Path, groups: usize) -> anyhow::Result<Vec<Vec<String>>> {
    let stage = Stage::open(stage_dir)?;
    let mut provinces: Vec<(usize, String)> = stage
        .provinces()
        .into_iter()
        .map(|p| (stage.rows(&p), p.to_string()))
        .collect();
    provinces.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut plan: Vec<(usize, Vec<String>)> = vec![(0, Vec::new()); groups.max(1)];
    for (rows, province) in provinces {
        let lightest = plan
            .iter_mut()
            .min_by_key(|(load, names)| (*load, names.len()))
            .expect("at least one group");
        lightest.0 += rows.max(1);
        lightest.1.push(province);
    }
    Ok(plan
        .into_iter()
        .map(|(_, mut names)| {
            names.sort();
            names
        })
        .collect())
}
