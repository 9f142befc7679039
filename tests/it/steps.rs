//! A month in steps (SPEC §14): `split`, `check`, `merge` give, table for table and byte
//! for byte, what `yidi run` writes (the typed `inputs/` of settlements and fee lines: the
//! same rows) — for months of several sizes, any number of slices
//! and any grouping of provinces, and across two months through the ledger; a stage with
//! a slice or province missing, unfinished or doubled is refused, naming it; a step rerun
//! writes the same bytes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proptest::prelude::*;

use crate::util::{manifest, yidi};

fn sample(month: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample_data")
        .join(month)
}

/// The files under `dir` that `keep` takes, by path.
fn files(dir: &Path, keep: &dyn Fn(&Path) -> bool) -> BTreeMap<String, Vec<u8>> {
    fn walk(
        root: &Path,
        dir: &Path,
        keep: &dyn Fn(&Path) -> bool,
        into: &mut BTreeMap<String, Vec<u8>>,
    ) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, keep, into);
            } else if keep(&path) {
                let name = path.strip_prefix(root).unwrap().display().to_string();
                into.insert(name, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut all = BTreeMap::new();
    walk(dir, dir, keep, &mut all);
    all
}

/// Every CSV and Parquet file under a finished month (the tables and `inputs/`), by path.
fn tables(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    files(dir, &|p| {
        p.extension().is_some_and(|e| e == "csv" || e == "parquet")
    })
}

fn assert_same_tables(run: &Path, merged: &Path) {
    let (a, b) = (tables(run), tables(merged));
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "the same files"
    );
    for (name, bytes) in &a {
        if name.starts_with("inputs/setlinfo/") || name.starts_with("inputs/feedetail/") {
            // Their row groups follow how the month was read: the same rows, in order.
            let frame = |bytes: &Vec<u8>| {
                use polars::prelude::SerReader;
                polars::prelude::ParquetReader::new(std::io::Cursor::new(bytes.clone()))
                    .finish()
                    .unwrap()
            };
            assert!(
                frame(bytes).equals_missing(&frame(&b[name])),
                "{name}: other rows in run and merge"
            );
        } else {
            assert!(bytes == &b[name], "{name} differs between run and merge");
        }
    }
    assert!(a.contains_key("findings.csv") && a.contains_key("inputs/filings.parquet"));
}

fn ok(args: &[&str]) {
    yidi().arg("--quiet").args(args).assert().success();
}

fn run(month: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec![
        "run",
        month.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    yidi()
        .arg("--quiet")
        .args(&args)
        .assert()
        .code(predicates::ord::le(1));
}

fn split(month: &Path, stage: &Path, slice: usize, slices: usize, extra: &[&str]) {
    let slice = format!("{slice}/{slices}");
    let mut args = vec![
        "split",
        month.to_str().unwrap(),
        "--stage",
        stage.to_str().unwrap(),
        "--slice",
        &slice,
    ];
    args.extend(extra);
    ok(&args);
}

fn check(stage: &Path, provinces: &[String]) {
    ok(&[
        "check",
        stage.to_str().unwrap(),
        "--provinces",
        &provinces.join(","),
    ]);
}

fn provinces(stage: &Path) -> Vec<String> {
    let out = yidi()
        .args(["check", stage.to_str().unwrap(), "--plan", "1"])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .split(',')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

fn merge(stage: &Path, out: &Path) -> assert_cmd::assert::Assert {
    yidi()
        .args(["--quiet", "merge", stage.to_str().unwrap(), "--out"])
        .arg(out)
        .assert()
}

/// The month in steps: `slices` slices (run side by side), the provinces in the groups
/// `cut` makes of them, merged into `out`.
fn in_steps(
    month: &Path,
    stage: &Path,
    out: &Path,
    slices: usize,
    extra: &[&str],
    cut: &dyn Fn(&[String]) -> Vec<Vec<String>>,
) {
    std::thread::scope(|scope| {
        for slice in 0..slices {
            scope.spawn(move || split(month, stage, slice, slices, extra));
        }
    });
    for group in cut(&provinces(stage)) {
        check(stage, &group);
    }
    merge(stage, out).code(predicates::ord::le(1));
}

fn generated(dir: &Path, seed: u64, settlements: usize) -> PathBuf {
    ok(&[
        "generate",
        "--out",
        dir.to_str().unwrap(),
        "--seed",
        &seed.to_string(),
        "--settlements",
        &settlements.to_string(),
        "--hospitals",
        "9",
    ]);
    dir.join("2026-10")
}

/// Groupings of provinces: one group; one a province; uneven groups, cut at `cuts`.
fn grouping(kind: usize, cuts: &[usize]) -> impl Fn(&[String]) -> Vec<Vec<String>> {
    let cuts = cuts.to_vec();
    move |all: &[String]| match kind {
        0 => vec![all.to_vec()],
        1 => all.iter().map(|p| vec![p.clone()]).collect(),
        _ => {
            let mut groups: Vec<Vec<String>> = vec![Vec::new(); cuts.len() + 1];
            for (k, p) in all.iter().enumerate() {
                let g = cuts.iter().filter(|c| **c <= k).count();
                groups[g].push(p.clone());
            }
            groups.into_iter().filter(|g| !g.is_empty()).collect()
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5, ..ProptestConfig::default() })]

    /// Any size, any number of slices (1–8), any grouping: the merged month is the run's.
    #[test]
    fn steps_give_the_runs_tables_byte_for_byte(
        seed in 1u64..1000,
        settlements in prop::sample::select(vec![40usize, 300, 1200]),
        slices in 1usize..=8,
        kind in 0usize..3,
        cuts in prop::collection::vec(1usize..6, 1..3),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let month = generated(&dir.path().join("gen"), seed, settlements);
        run(&month, &dir.path().join("run"), &[]);
        in_steps(
            &month,
            &dir.path().join("stage"),
            &dir.path().join("merged"),
            slices,
            &["--no-previous"],
            &grouping(kind, &cuts),
        );
        assert_same_tables(
            &dir.path().join("run/2026-10"),
            &dir.path().join("merged/2026-10"),
        );
    }
}

#[test]
fn two_months_in_steps_continue_the_ledger_as_runs_do() {
    let dir = tempfile::tempdir().unwrap();
    let (runs, steps) = (dir.path().join("runs"), dir.path().join("steps"));
    run(&sample("2026-10"), &runs, &[]);
    run(&sample("2026-11"), &runs, &[]);
    in_steps(
        &sample("2026-10"),
        &dir.path().join("stage10"),
        &steps,
        3,
        &["--out", steps.to_str().unwrap()],
        &grouping(1, &[]),
    );
    // November continues the merged October, found under the same output root.
    in_steps(
        &sample("2026-11"),
        &dir.path().join("stage11"),
        &steps,
        2,
        &["--out", steps.to_str().unwrap()],
        &grouping(0, &[]),
    );
    for month in ["2026-10", "2026-11"] {
        assert_same_tables(&runs.join(month), &steps.join(month));
    }
    let merged = manifest(&steps.join("2026-11"));
    assert_eq!(merged["command"], "merge");
    assert_eq!(merged["ledger"]["previous"]["status"], "read");
    assert_eq!(merged["ledger"]["previous"]["entries"], 18);
    let steps: Vec<&str> = merged["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["split", "split", "check"]);
    assert!(!merged["ledger_events"].is_string());
}

fn stderr_of(assert: assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

#[test]
fn a_stage_with_a_slice_or_province_missing_or_doubled_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (stage, out) = (dir.path().join("stage"), dir.path().join("out"));
    let month = sample("2026-10");
    split(&month, &stage, 0, 2, &["--no-previous"]);
    // Slice 1 of 2 missing: no check, no merge.
    let refused = yidi()
        .args(["check", stage.to_str().unwrap(), "--provinces", "36"])
        .assert()
        .code(3);
    assert!(stderr_of(refused).contains("slice 1/2 is missing or unfinished"));
    split(&month, &stage, 1, 2, &["--no-previous"]);
    let all = provinces(&stage);
    assert!(all.len() >= 3, "{all:?}");
    // A province not checked.
    check(&stage, &all[1..]);
    let refused = merge(&stage, &out).code(3);
    assert!(stderr_of(refused).contains(&format!("province {} not checked", all[0])));
    assert!(!out.join("2026-10").exists());
    // A province checked twice.
    check(&stage, &all[..2]);
    let refused = merge(&stage, &out).code(3);
    assert!(stderr_of(refused).contains(&format!("province {} checked twice", all[1])));
    // A province the month does not have.
    let refused = yidi()
        .args(["check", stage.to_str().unwrap(), "--provinces", "99"])
        .assert()
        .code(3);
    assert!(stderr_of(refused).contains("province 99 has no settlement"));
    // Slices of two counts.
    split(&month, &stage, 0, 3, &["--no-previous"]);
    let refused = merge(&stage, &out).code(3);
    assert!(stderr_of(refused).contains("slices of different counts"));
}

#[test]
fn a_check_of_slices_split_again_since_is_refused_until_checked_again() {
    let dir = tempfile::tempdir().unwrap();
    let (stage, out) = (dir.path().join("stage"), dir.path().join("out"));
    let month = sample("2026-10");
    split(&month, &stage, 0, 2, &["--no-previous"]);
    split(&month, &stage, 1, 2, &["--no-previous"]);
    let all = provinces(&stage);
    check(&stage, &all);
    // Split again alike: the slices hold what they held, the check stands.
    split(&month, &stage, 1, 2, &["--no-previous"]);
    merge(&stage, &out).code(predicates::ord::le(1));
    // Split again in English: the findings checked in Chinese are stale.
    split(&month, &stage, 0, 2, &["--no-previous", "--lang", "en"]);
    let refused = merge(&stage, &out).code(3);
    assert!(
        stderr_of(refused).contains(&format!(
            "checked from another split of the month (a slice was split again since, from other files or options): check provinces {} again",
            all.join(",")
        )),
    );
    check(&stage, &all);
    merge(&stage, &out).code(predicates::ord::le(1));
}

/// Every file of a step's directory but its step record, by path.
fn step_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    files(dir, &|p| p.file_name().is_some_and(|n| n != "step.json"))
}

#[test]
fn a_step_rerun_writes_the_same_bytes_and_a_killed_step_is_not_taken_for_finished() {
    let dir = tempfile::tempdir().unwrap();
    let stage = dir.path().join("stage");
    let month = sample("2026-10");
    for slice in 0..2 {
        split(&month, &stage, slice, 2, &["--no-previous"]);
    }
    let slice0 = stage.join("split/0-of-2");
    let before = step_files(&slice0);
    assert!(
        before.contains_key("slice.msgpack") && before.contains_key("common/catalogue.parquet")
    );
    split(&month, &stage, 0, 2, &["--no-previous"]);
    assert_eq!(
        before,
        step_files(&slice0),
        "a rerun split writes the same bytes"
    );
    let all = provinces(&stage);
    check(&stage, &all);
    let group = stage.join("check").join(all.join("-"));
    let checked = step_files(&group);
    check(&stage, &all);
    assert_eq!(
        checked,
        step_files(&group),
        "a rerun check writes the same bytes"
    );

    // A slice killed midway: its step record never written.
    std::fs::remove_file(stage.join("split/1-of-2/step.json")).unwrap();
    let refused = merge(&stage, &dir.path().join("out")).code(3);
    assert!(stderr_of(refused).contains("slice 1/2 is missing or unfinished"));
    // Rerun, it finishes; a leftover temporary directory of a killed check is ignored.
    split(&month, &stage, 1, 2, &["--no-previous"]);
    std::fs::create_dir_all(stage.join("check/.36.tmp-killed")).unwrap();
    merge(&stage, &dir.path().join("out")).success();
}

#[test]
fn a_run_checks_its_parts_from_memory_when_they_fit_and_from_their_files_otherwise_alike() {
    let tmp = tempfile::tempdir().unwrap();
    let month = generated(&tmp.path().join("month"), 11, 1500);
    let (held, spilled) = (tmp.path().join("held"), tmp.path().join("spilled"));
    let log = |out: &Path, hold: &str| {
        let assert = yidi()
            .env("YIDI_HOLD", hold)
            .args(["run", month.to_str().unwrap(), "--no-previous", "--out"])
            .arg(out)
            .assert()
            .code(predicates::ord::le(1));
        String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
    };
    assert!(log(&held, "1").contains("parts by insured province, held in memory"));
    assert!(log(&spilled, "0").contains("parts by insured province, read back from their files"));
    assert_same_tables(&held.join("2026-10"), &spilled.join("2026-10"));
}
