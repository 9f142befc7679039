//! Random damage to one input file of the sample month (SPEC §3, §10): flipped and
//! inserted bytes, truncation, duplicated and swapped header names, quotes, lone CRs, NULs,
//! GBK bytes inside UTF-8, huge fields, an empty or missing file. Whatever the damage, the
//! run never panics; it exits 0 or 6 when the damage is in a hospital's export (3 also for
//! the month's common files); and every row read is accepted or rejected, in the manifest
//! and in `rejects.csv`.
//!
//! CI runs `YIDI_FUZZ_CASES` cases (default 48); a longer soak is the same test with more:
//! `YIDI_FUZZ_CASES=5000 cargo test --release damaged_inputs`.

use std::collections::HashMap;

use proptest::prelude::*;
use serde_json::Value;
use yidi::exit::ExitStatus;
use yidi::progress::Progress;

use crate::util::{SAMPLE_MONTH, TempMonth, csv_rows};

/// Every input file of the sample month.
const FILES: [&str; 23] = [
    "reference/regions.csv",
    "reference/hospitals.csv",
    "reference/catalogue.csv",
    "reference/policy.csv",
    "reference/opsp_diseases.csv",
    "filings.csv",
    "enrollment.csv",
    "ytd.csv",
    "exports/H22020000001/feedetail.csv",
    "exports/H22020000001/setlinfo.csv",
    "exports/H36010000001/feedetail.csv",
    "exports/H36010000001/setlinfo.csv",
    "exports/H43010000001/feedetail.csv",
    "exports/H43010000001/setlinfo.csv",
    "exports/H43010000001/summary.csv",
    "exports/H43040000001/feedetail.csv",
    "exports/H43040000001/setlinfo.csv",
    "exports/H44010000001/feedetail.csv",
    "exports/H44010000001/setlinfo.csv",
    "exports/H44010000009/feedetail.csv",
    "exports/H44010000009/setlinfo.csv",
    "exports/H44030000001/feedetail.csv",
    "exports/H44030000001/setlinfo.csv",
];

#[derive(Debug, Clone)]
enum Damage {
    /// XOR one byte (at a position given as a fraction of the file, in 1/65536).
    Flip {
        at: u16,
        xor: u8,
    },
    Insert {
        at: u16,
        bytes: Vec<u8>,
    },
    Truncate {
        at: u16,
    },
    /// The header's `b`-th name replaced by its `a`-th (a duplicate, one missing).
    DuplicateHeader {
        a: usize,
        b: usize,
    },
    SwapHeader {
        a: usize,
        b: usize,
    },
    /// A field of `len` characters.
    Huge {
        at: u16,
        len: usize,
    },
    Empty,
    Remove,
    Utf16Bom,
}

fn damage() -> impl Strategy<Value = Damage> {
    let at = any::<u16>();
    let inserted = prop_oneof![
        Just(b"\"".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\0".to_vec()),
        Just(b",".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\xC4\xE3\xBA\xC3".to_vec()),
        Just(b"\xFF\xFE".to_vec()),
        prop::collection::vec(any::<u8>(), 1..16),
    ];
    prop_oneof![
        (at, 1..=255u8).prop_map(|(at, xor)| Damage::Flip { at, xor }),
        (at, inserted).prop_map(|(at, bytes)| Damage::Insert { at, bytes }),
        at.prop_map(|at| Damage::Truncate { at }),
        (0..12usize, 0..12usize).prop_map(|(a, b)| Damage::DuplicateHeader { a, b }),
        (0..12usize, 0..12usize).prop_map(|(a, b)| Damage::SwapHeader { a, b }),
        (
            at,
            prop_oneof![Just(1001usize), Just(40_000), Just(1_000_000)]
        )
            .prop_map(|(at, len)| Damage::Huge { at, len }),
        Just(Damage::Empty),
        Just(Damage::Remove),
        Just(Damage::Utf16Bom),
    ]
}

fn position(at: u16, len: usize) -> usize {
    (at as usize * len) / 65_536
}

/// The file's bytes after the damage (`None`: the file is removed).
fn apply(bytes: Vec<u8>, damage: &Damage) -> Option<Vec<u8>> {
    let mut bytes = bytes;
    match damage {
        Damage::Flip { at, xor } => {
            if !bytes.is_empty() {
                let k = position(*at, bytes.len());
                bytes[k] ^= xor;
            }
        }
        Damage::Insert { at, bytes: more } => {
            let k = position(*at, bytes.len() + 1);
            bytes.splice(k..k, more.iter().copied());
        }
        Damage::Truncate { at } => bytes.truncate(position(*at, bytes.len())),
        Damage::DuplicateHeader { a, b } | Damage::SwapHeader { a, b } => {
            let end = bytes
                .iter()
                .position(|&b| b == b'\n')
                .unwrap_or(bytes.len());
            let header = String::from_utf8_lossy(&bytes[..end]).into_owned();
            let mut names: Vec<String> = header.split(',').map(str::to_owned).collect();
            let (a, b) = (a % names.len(), b % names.len());
            if matches!(damage, Damage::SwapHeader { .. }) {
                names.swap(a, b);
            } else {
                names[b] = names[a].clone();
            }
            let mut damaged = names.join(",").into_bytes();
            damaged.extend_from_slice(&bytes[end..]);
            bytes = damaged;
        }
        Damage::Huge { at, len } => {
            let k = position(*at, bytes.len() + 1);
            bytes.splice(k..k, std::iter::repeat_n(b'x', *len));
        }
        Damage::Empty => bytes.clear(),
        Damage::Remove => return None,
        Damage::Utf16Bom => bytes.splice(0..0, [0xFF, 0xFE]).for_each(drop),
    }
    Some(bytes)
}

fn cases() -> u32 {
    std::env::var("YIDI_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(48)
}

/// Every input file of the sample's 2026-11 that 2026-10 has not: the decisions on the
/// ledger's entries, and exports with a reversal of an entry and a re-upload.
const NOVEMBER_FILES: [&str; 3] = [
    "decisions.csv",
    "exports/H44010000001/setlinfo.csv",
    "exports/H43010000001/setlinfo.csv",
];

/// Runs the month in-process (a panic fails the test), as `yidi run` would.
fn run(month: &TempMonth) -> ExitStatus {
    let name = month
        .dir
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let month_options = yidi::run::MonthOptions {
        month_dir: month.dir.clone(),
        month: name,
        config: yidi::config::Config::default(),
        lang: yidi::Lang::En,
        strict: false,
        budget: Default::default(),
    };
    let options = yidi::run::Options {
        month: month_options,
        out_root: month.out(),
        wait: false,
        fail_on: yidi::cli::FailOn::Never,
        arguments: Vec::new(),
        settlement_ranges: Default::default(),
        previous: Default::default(),
    };
    match yidi::run::run(&options, &Progress::silent()) {
        Ok(outcome) => outcome.status,
        Err(error) => ExitStatus::of_error(&error),
    }
}

/// Every row read is accepted or rejected, per file, and the rejects and settlements
/// tables agree with the manifest.
fn assert_counts_add_up(month: &TempMonth) {
    let results = month.out().join(month.dir.file_name().unwrap());
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(results.join("manifest.json")).unwrap())
            .unwrap();
    let mut rejected: HashMap<String, u64> = HashMap::new();
    for reject in csv_rows(&results.join("rejects.csv")) {
        *rejected.entry(reject["file"].clone()).or_default() += 1;
    }
    let mut settlements = 0;
    for input in manifest["inputs"].as_array().unwrap() {
        let path = input["path"].as_str().unwrap();
        let count = |k: &str| input[k].as_u64().unwrap();
        assert_eq!(
            count("read"),
            count("accepted") + count("rejected"),
            "{path}"
        );
        assert_eq!(
            rejected.get(path).copied().unwrap_or(0),
            count("rejected"),
            "{path}"
        );
        if input["table"] == "setlinfo" {
            settlements += count("accepted");
        }
    }
    assert_eq!(
        csv_rows(&results.join("settlements.csv")).len() as u64,
        settlements
    );
}

#[test]
fn damaged_inputs_never_stop_the_month_unless_common_and_counts_add_up() {
    let config = ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let files: Vec<(&str, &str)> = FILES
        .iter()
        .map(|f| (SAMPLE_MONTH, *f))
        .chain(NOVEMBER_FILES.iter().map(|f| ("2026-11", *f)))
        .collect();
    proptest!(config, |((name, file) in proptest::sample::select(files), damage in damage())| {
        // November runs alone: its ledger starts empty, and every decision is rejected.
        let month = TempMonth::of(name);
        match apply(month.read_bytes(file), &damage) {
            Some(bytes) => month.write(file, bytes),
            None => std::fs::remove_file(month.path(file)).unwrap(),
        }
        let status = run(&month);
        let hospital = file.starts_with("exports/");
        let allowed: &[ExitStatus] = if hospital {
            &[ExitStatus::Success, ExitStatus::SetAside]
        } else {
            &[ExitStatus::Success, ExitStatus::SetAside, ExitStatus::Input]
        };
        prop_assert!(allowed.contains(&status), "{file} {damage:?}: {status:?}");
        if status != ExitStatus::Input {
            assert_counts_add_up(&month);
        }
    });
}
