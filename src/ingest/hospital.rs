//! The hospitals' directories under `exports/`: found, each one's files read (what cannot
//! be read is the caller's to set aside, SPEC §3), and their rows' `fixmedins_code` checked
//! against the directory's name.

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::*;

use super::file::{Loaded, load};
use super::reader::{Regions, RowRules};
use super::schema::Table;
use super::{DirMismatch, set_aside};
use crate::config::Config;
use crate::error::InputError;

/// A hospital directory read, or set aside.
pub(super) enum Hospital {
    Read(Box<HospitalExport>),
    SetAside(set_aside::SetAsideDir),
}

/// What one hospital directory under `exports/` holds.
pub(super) struct HospitalExport {
    pub(super) dir: String,
    pub(super) setlinfo: Loaded,
    pub(super) feedetail: Loaded,
    pub(super) summary: Option<Loaded>,
}

pub(super) fn read_hospital(
    month_dir: &Path,
    dir: &str,
    regions: &Regions,
    config: &Config,
) -> Result<HospitalExport, InputError> {
    let base = month_dir.join("exports").join(dir);
    let rel = |stem: &str| format!("exports/{dir}/{stem}");
    let codes = Some(&config.codes);
    let setlinfo = load(
        &base,
        "setlinfo",
        &rel("setlinfo"),
        Table::Setlinfo,
        RowRules {
            areas: Some((regions, &["insuplc_admdvs", "mdtrtarea_admvs"])),
            codes,
            ..RowRules::default()
        },
    )?
    .expect("setlinfo is required");
    let accepted: PlHashSet<String> = setlinfo
        .parsed
        .frame
        .column("setl_id")
        .ok()
        .and_then(|c| c.str().ok().cloned())
        .map(|ids| ids.iter().flatten().map(str::to_owned).collect())
        .unwrap_or_default();
    let feedetail = load(
        &base,
        "feedetail",
        &rel("feedetail"),
        Table::Feedetail,
        RowRules {
            unique_key: &["setl_id", "feedetl_sn"],
            settlements: Some(&accepted),
            codes,
            ..RowRules::default()
        },
    )?
    .expect("feedetail is required");
    let summary = load(
        &base,
        "summary",
        &rel("summary"),
        Table::Summary,
        RowRules {
            codes,
            ..RowRules::default()
        },
    )?;
    Ok(HospitalExport {
        dir: dir.to_owned(),
        setlinfo,
        feedetail,
        summary,
    })
}

/// The hospital directories under `exports/`, sorted by name.
pub(super) fn hospital_dirs(month_dir: &Path) -> Result<Vec<String>, InputError> {
    let exports = month_dir.join("exports");
    let entries = std::fs::read_dir(&exports).map_err(|source| InputError::Io {
        path: exports.clone(),
        source,
    })?;
    let mut dirs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| InputError::Io {
            path: exports.clone(),
            source,
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() && !name.starts_with('.') {
            dirs.push(name);
        }
    }
    if dirs.is_empty() {
        return Err(InputError::NoExports { path: exports });
    }
    dirs.sort();
    Ok(dirs)
}

/// The `fixmedins_code`s in a hospital's settlements that differ from its directory name.
pub(super) fn mismatches(dir: &str, setlinfo: &DataFrame) -> Vec<DirMismatch> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    if let Ok(codes) = setlinfo
        .column("fixmedins_code")
        .and_then(|c| c.str().cloned())
    {
        for code in codes.iter().flatten().filter(|c| *c != dir) {
            *counts.entry(code.to_owned()).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .map(|(fixmedins_code, rows)| DirMismatch {
            hospital_dir: dir.to_owned(),
            fixmedins_code,
            rows,
        })
        .collect()
}
