//! Across months (SPEC §13): the sample's 2026-11 continues 2026-10 — decisions that pay
//! and refuse, reversals of a held and of a deducted settlement, an appeal that succeeds,
//! a settlement uploaded again — and every event, amount and balance is what §13 orders.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{copy_dir, csv_rows, manifest, yidi};

fn sample(month: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample_data")
        .join(month)
}

fn run(month: &Path, out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    yidi()
        .args([
            "run",
            month.to_str().unwrap(),
            "--quiet",
            "--lang",
            "en",
            "--out",
        ])
        .arg(out)
        .args(extra)
        .assert()
}

/// SPEC §13's balance, per kind, exactly: pending at the start + opened = settled + now.
fn assert_balance(manifest: &Value) {
    for kind in ["hold", "deduct"] {
        let b = &manifest["ledger"]["balance"][kind];
        let get = |k: &str| fen(b[k].as_str().unwrap());
        assert_eq!(
            get("start") + get("opened"),
            get("settled") + get("now"),
            "{} {kind}: {b}",
            manifest["month"]
        );
    }
}

fn fen(text: &str) -> i64 {
    yidi::units::parse_fixed(text, 2).unwrap()
}

/// The two sample months run in order into a fresh output root.
fn two_months() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run(&sample("2026-10"), &out, &[]).code(0);
    run(&sample("2026-11"), &out, &[]).code(0);
    (tmp, out)
}

#[test]
fn november_applies_reversals_decisions_and_a_reupload_to_octobers_ledger() {
    let (_tmp, out) = two_months();
    let nov = out.join("2026-11");
    let events: Vec<String> = csv_rows(&nov.join("ledger_events.csv"))
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {} {} {}",
                e["fixmedins_code"],
                e["setl_id"],
                e["kind"],
                e["event"],
                e["settled"],
                e["released_amount"]
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            "H36010000001 S3601202610003 hold paid 816.00 816.00",
            "H43010000001 S4301202610002 deduct reversed 80.00 0.00",
            "H43010000001 S4301202610003 hold paid 544.00 300.00",
            "H43040000001 S4304202610002 hold paid 246.50 235.03",
            "H44010000001 S4401202610003 hold reversed 425.00 0.00",
            "H44010000001 S4401202610005 hold refused 378.00 0.00",
            "H44010000001 S4401202610006 deduct paid 10.00 10.00",
            "H44010000001 S4401202610011 deduct upheld 31.22 0.00",
        ]
    );
    let ledger: HashMap<String, HashMap<String, String>> = csv_rows(&nov.join("ledger.csv"))
        .into_iter()
        .map(|e| (e["setl_id"].clone(), e))
        .collect();
    // A paid hold with deductions becomes an appealable deduct entry from this month.
    let converted = &ledger["S4304202610002"];
    assert_eq!(
        (
            &converted["kind"][..],
            &converted["amount"][..],
            &converted["since"][..]
        ),
        ("deduct", "11.47", "2026-11")
    );
    assert_eq!(converted["paid"], "235.03");
    assert_eq!(ledger["S4301202610003"]["paid"], "300.00");
    assert_eq!(ledger["S4401202610004"]["months_open"], "1");

    // The reversal of a held settlement moves no money; of a deducted one, it takes back
    // exactly what was paid; neither is REV001.
    let settlements: HashMap<String, HashMap<String, String>> =
        csv_rows(&nov.join("settlements.csv"))
            .into_iter()
            .map(|s| (s["setl_id"].clone(), s))
            .collect();
    assert_eq!(settlements["R4401202611001"]["status"], "reversed");
    let taken_back = &settlements["R4301202611001"];
    assert_eq!(taken_back["status"], "cleared");
    assert_eq!(taken_back["cleared_amount"], "-408.00");
    assert_eq!(taken_back["disputed_amount"], "-80.00");
    assert_eq!(settlements["S4401202610004"]["status"], "held");

    let findings = csv_rows(&nov.join("findings.csv"));
    let rules: Vec<(&str, &str)> = findings
        .iter()
        .filter(|f| !f["setl_id"].is_empty())
        .map(|f| (f["rule"].as_str(), f["setl_id"].as_str()))
        .collect();
    assert_eq!(rules, [("DUP004", "S4401202610004")]);

    // Decisions the ledger cannot apply are rejects, and the counts still add up.
    let rejects: Vec<(String, String)> = csv_rows(&nov.join("rejects.csv"))
        .into_iter()
        .map(|r| (r["line"].clone(), r["column"].clone()))
        .collect();
    assert_eq!(
        rejects,
        [
            ("8".to_owned(), "setl_id".to_owned()),
            ("9".to_owned(), "setl_id".to_owned()),
            ("10".to_owned(), "amount".to_owned())
        ]
    );
    let manifest = manifest(&nov);
    let decisions = manifest["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"] == "decisions.csv")
        .unwrap();
    assert_eq!(
        (decisions["read"].as_u64(), decisions["accepted"].as_u64()),
        (Some(9), Some(6))
    );
    assert_eq!(manifest["ledger"]["previous"]["status"], "read");
    assert_eq!(
        manifest["ledger"]["previous"]["sha256"]
            .as_str()
            .map(str::len),
        Some(64)
    );
}

#[test]
fn the_balance_holds_per_kind_and_net_due_sums_to_zero() {
    let (_tmp, out) = two_months();
    for month in ["2026-10", "2026-11"] {
        let dir = out.join(month);
        let manifest = manifest(&dir);
        assert_balance(&manifest);
        let nets = csv_rows(&dir.join("province_net.csv"));
        assert_eq!(nets.iter().map(|n| fen(&n["net_due"])).sum::<i64>(), 0);
        assert_eq!(nets.iter().map(|n| fen(&n["net"])).sum::<i64>(), 0);
        for n in &nets {
            assert_eq!(
                fen(&n["net_due"]),
                fen(&n["net"]) + fen(&n["released_receivable"]) - fen(&n["released_payable"])
            );
        }
        // §7 in every clearing group, the reversal that takes back what was paid included.
        for g in csv_rows(&dir.join("clearing_by_area.csv")) {
            assert_eq!(
                fen(&g["cleared_amount"]) + fen(&g["held_amount"]) + fen(&g["disputed_amount"]),
                fen(&g["fund_pay_sumamt"]),
                "{month}: {g:?}"
            );
        }
    }
    let released: i64 = csv_rows(&out.join("2026-11").join("releases_by_area.csv"))
        .iter()
        .map(|r| fen(&r["released_amount"]))
        .sum();
    assert_eq!(released, fen("1361.03"), "816.00 + 300.00 + 235.03 + 10.00");
}

#[test]
fn a_missing_previous_month_is_an_input_error_unless_no_previous() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    // A finished run of 2026-09, and none of 2026-10.
    let september = tmp.path().join("2026-09");
    copy_dir(&sample("2026-10"), &september);
    run(&september, &out, &[]).code(0);
    run(&sample("2026-11"), &out, &[])
        .code(3)
        .stderr(predicates::str::contains("2026-10"));
    run(&sample("2026-11"), &out, &["--no-previous"]).code(0);
    assert_eq!(
        manifest(&out.join("2026-11"))["ledger"]["previous"]["status"],
        "no-previous"
    );
    // --previous must name a finished run of the previous month.
    run(
        &sample("2026-11"),
        &out,
        &["--previous", out.join("2026-09").to_str().unwrap()],
    )
    .code(3);
}

#[test]
fn rerunning_a_month_whose_next_month_ran_warns_and_records_it() {
    let (_tmp, out) = two_months();
    yidi()
        .args(["run", sample("2026-10").to_str().unwrap(), "--out"])
        .arg(&out)
        .assert()
        .code(0)
        .stderr(predicates::str::contains("warning: 2026-11 already ran"));
    assert_eq!(
        manifest(&out.join("2026-10"))["ledger"]["later_months"],
        serde_json::json!(["2026-11"])
    );
}

#[test]
fn overdue_entries_close_with_close_overdue() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let config = tmp.path().join("yidi.toml");
    std::fs::write(
        &config,
        "[defaults]\nhold_months = 1\nappeal_months = 1\nclose_overdue = true\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();
    run(&sample("2026-10"), &out, &["--config", config]).code(0);
    run(&sample("2026-11"), &out, &["--config", config]).code(0);
    let nov = out.join("2026-11");
    let events = csv_rows(&nov.join("ledger_events.csv"));
    let expired: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "expired")
        .map(|e| e["setl_id"].as_str())
        .collect();
    // Holds from October with no decision and no reversal (S4401202610004 too: its
    // re-upload is DUP004, the entry is untouched).
    assert!(expired.contains(&"S4401202610004"), "{expired:?}");
    assert!(expired.contains(&"S3601202610001"), "{expired:?}");
    let upheld: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "upheld")
        .map(|e| e["setl_id"].as_str())
        .collect();
    assert!(upheld.contains(&"S4304202610001"), "{upheld:?}");
    // The hold paid this month became a deduct this month: not overdue yet.
    let ledger = csv_rows(&nov.join("ledger.csv"));
    let converted = ledger
        .iter()
        .find(|e| e["setl_id"] == "S4304202610002")
        .unwrap();
    assert_eq!(converted["kind"], "deduct");
    assert_eq!(converted["overdue"], "0");
    assert!(ledger.iter().all(|e| e["kind"] != "hold"));
}

/// The reversal row of `original` (a setlinfo line), `id`, settled at `time`.
fn reversal_of(header: &str, original: &str, id: &str, time: &str) -> String {
    let columns: Vec<&str> = header.split(',').collect();
    let mut fields: Vec<String> = original.split(',').map(str::to_owned).collect();
    let at = |name: &str| columns.iter().position(|c| *c == name).unwrap();
    for v in &mut fields[at("medfee_sumamt")..=at("hosp_part_amt")] {
        *v = match v.strip_prefix('-') {
            Some(positive) => positive.to_owned(),
            None if v == "0.00" || v.is_empty() => v.clone(),
            None => format!("-{v}"),
        };
    }
    fields[at("setl_id")] = id.to_owned();
    fields[at("setl_time")] = time.to_owned();
    fields[at("refd_setl_flag")] = "1".to_owned();
    fields[at("init_setl_id")] = original.split(',').next().unwrap().to_owned();
    fields.join(",")
}

#[test]
fn a_third_month_appeals_a_converted_deduction_and_reverses_a_paid_entry_late() {
    let (tmp, out) = two_months();
    // December: the appeal of the deductions left open in November succeeds; a hold is
    // refused; and the hospital reverses a settlement the agency paid in November.
    let december = tmp.path().join("2026-12");
    copy_dir(&sample("2026-11"), &december);
    std::fs::remove_dir_all(december.join("exports")).unwrap();
    let text = std::fs::read_to_string(sample("2026-10").join("exports/H36010000001/setlinfo.csv"))
        .unwrap();
    let header = text.lines().next().unwrap().trim_start_matches('\u{feff}');
    let original = text
        .lines()
        .find(|l| l.starts_with("S3601202610003,"))
        .unwrap();
    let exports = december.join("exports/H36010000001");
    std::fs::create_dir_all(&exports).unwrap();
    std::fs::write(
        exports.join("setlinfo.csv"),
        format!(
            "{header}\n{}\n",
            reversal_of(header, original, "R3601202612001", "2026-12-03 09:00:00")
        ),
    )
    .unwrap();
    let fees =
        std::fs::read_to_string(sample("2026-10").join("exports/H36010000001/feedetail.csv"))
            .unwrap();
    std::fs::write(
        exports.join("feedetail.csv"),
        fees.lines().next().unwrap().to_owned() + "\n",
    )
    .unwrap();
    std::fs::write(
        december.join("decisions.csv"),
        "fixmedins_code,setl_id,decision,amount,decided_by,decided_at,note\n\
         H43040000001,S4304202610002,pay,,A43001,2026-12-10 10:00:00,申诉成立\n\
         H44010000001,S4401202610002,refuse,,A44001,2026-12-11 10:00:00,明细不全：拒付\n",
    )
    .unwrap();
    run(&december, &out, &[]).code(0);
    let dec = out.join("2026-12");
    let events: Vec<String> = csv_rows(&dec.join("ledger_events.csv"))
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {} {}",
                e["setl_id"], e["kind"], e["event"], e["settled"], e["released_amount"]
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            "S3601202610003 closed reversed 0.00 0.00",
            "S4304202610002 deduct paid 11.47 11.47",
            "S4401202610002 hold refused 416.50 0.00",
        ]
    );
    // The late reversal takes back the 816.00 paid in November: nothing else.
    let reversal = csv_rows(&dec.join("settlements.csv"))
        .into_iter()
        .find(|s| s["setl_id"] == "R3601202612001")
        .unwrap();
    assert_eq!(
        (
            &reversal["status"][..],
            &reversal["cleared_amount"][..],
            &reversal["disputed_amount"][..]
        ),
        ("cleared", "-816.00", "0.00")
    );
    let ledger = csv_rows(&dec.join("ledger.csv"));
    let appealed = ledger
        .iter()
        .find(|e| e["setl_id"] == "S4304202610002")
        .unwrap();
    assert_eq!(
        (
            &appealed["kind"][..],
            &appealed["paid"][..],
            &appealed["since"][..]
        ),
        ("closed", "246.50", "2026-11")
    );
    let manifest = manifest(&dec);
    assert_balance(&manifest);
    // November's pending money is December's start.
    let november = self::manifest(&out.join("2026-11"));
    assert_eq!(
        manifest["ledger"]["balance"]["hold"]["start"],
        november["ledger"]["balance"]["hold"]["now"]
    );
}

/// The rows of a CSV file projected on `columns` (those of `expected`'s header when none).
fn table(path: &Path, columns: &[String]) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = csv_rows(path)
        .iter()
        .map(|r| columns.iter().map(|c| r[c].clone()).collect())
        .collect();
    rows.sort();
    rows
}

fn header(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    text.trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect()
}

#[test]
fn four_generated_months_give_their_expected_ledgers_and_entries_go_overdue() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let out = root.join("out");
    yidi()
        .args(["generate", "--quiet", "--out"])
        .arg(root)
        .assert()
        .code(0);
    run(&root.join("2026-10"), &out, &[]).code(0);
    let mut seen = std::collections::BTreeSet::new();
    for (previous, month) in [
        ("2026-10", "2026-11"),
        ("2026-11", "2026-12"),
        ("2026-12", "2027-01"),
    ] {
        yidi()
            .args(["generate", "--quiet", "--after"])
            .arg(out.join(previous))
            .arg("--out")
            .arg(root)
            .assert()
            .code(0);
        run(&root.join(month), &out, &[]).code(0);
        let expected = root.join(format!("{month}.expected"));
        let results = out.join(month);
        for name in [
            "ledger",
            "ledger_events",
            "releases_by_province",
            "province_net",
            "settlements",
            "findings",
        ] {
            let file = format!("{name}.csv");
            let columns = header(&expected.join(&file));
            let (want, got) = (
                table(&expected.join(&file), &columns),
                table(&results.join(&file), &columns),
            );
            assert!(
                want == got,
                "{month} {name}: expected {} rows, got {}\n{:?}",
                want.len(),
                got.len(),
                want.iter().zip(&got).find(|(a, b)| a != b)
            );
        }
        // Two planted decisions are rejects: no entry, and too much.
        let rejects = csv_rows(&results.join("rejects.csv"));
        assert_eq!(rejects.len(), 2, "{month}: {rejects:?}");
        let manifest = manifest(&results);
        assert_balance(&manifest);
        seen.extend(
            csv_rows(&results.join("ledger_events.csv"))
                .into_iter()
                .map(|e| e["event"].clone()),
        );
    }
    for event in ["paid", "refused", "upheld", "reversed"] {
        assert!(seen.contains(event), "no {event} event planted: {seen:?}");
    }
    // By January, October's deductions left alone are three months open: overdue.
    let january = csv_rows(&out.join("2027-01").join("ledger.csv"));
    assert!(
        january
            .iter()
            .any(|e| e["kind"] == "deduct" && e["overdue"] == "1" && e["since"] == "2026-10"),
        "an October deduction overdue in January"
    );
}
