//! Cron-grade behaviour (SPEC §9, §10): runs killed at each point of their life leave the
//! previous results whole and readable; two runs on one month never both write; the lock
//! of a killed run does not block the next; each exit status; log output fit for cron.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as StdCommand, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::util::{SAMPLE_MONTH, TempMonth, manifest, sample_dir};

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("yidi")
}

fn yidi() -> Command {
    let mut cmd = Command::new(bin());
    cmd.env_remove("YIDI_PAUSE_AT");
    cmd
}

/// Every output the manifest lists is there with the sha256 it records.
fn assert_whole(results: &Path) -> Value {
    let manifest = manifest(results);
    let outputs = manifest["outputs"].as_array().unwrap();
    assert!(outputs.len() > 10, "{outputs:?}");
    for output in outputs {
        let path = results.join(output["path"].as_str().unwrap());
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            hex(&Sha256::digest(&bytes)),
            output["sha256"].as_str().unwrap(),
            "{} is whole",
            path.display()
        );
    }
    manifest
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A run started in the background that stops at `point`; returns once it has got there.
fn paused_run(month: &Path, out: &Path, point: &str, extra: &[&str]) -> Child {
    let mut child = StdCommand::new(bin())
        .arg("run")
        .arg(month)
        .arg("--out")
        .arg(out)
        .args(extra)
        .env("YIDI_PAUSE_AT", point)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if line.contains("paused at") {
                let _ = tx.send(line);
            }
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(120))
        .unwrap_or_else(|_| panic!("the run never reached {point}"));
    assert!(line.contains(point), "{line}");
    child
}

fn kill(mut child: Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

fn findings_sha(results: &Path) -> String {
    hex(&Sha256::digest(
        std::fs::read(results.join("findings.csv")).unwrap(),
    ))
}

fn visible_entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".lock"))
        .collect();
    names.sort();
    names
}

#[test]
fn a_run_killed_at_any_point_leaves_whole_results() {
    let month = TempMonth::sample();
    let out = month.out();
    yidi()
        .args(["run", month.dir.to_str().unwrap(), "--quiet", "--out"])
        .arg(&out)
        .assert()
        .code(0);
    let results = out.join(SAMPLE_MONTH);
    let mut previous = assert_whole(&results)["run_id"].clone();
    let first_findings = findings_sha(&results);
    // The killed runs write English details, so their findings differ from the first's.
    for (point, replaced) in [
        ("locked", false),
        ("writing", false),
        ("commit", false),
        ("exchanged", true),
        ("committed", true),
    ] {
        let child = paused_run(&month.dir, &out, point, &["--lang", "en"]);
        kill(child);
        let manifest = assert_whole(&results);
        if replaced {
            assert_ne!(
                manifest["run_id"], previous,
                "{point}: the new results are in place"
            );
            assert_ne!(findings_sha(&results), first_findings, "{point}");
        } else {
            assert_eq!(
                manifest["run_id"], previous,
                "{point}: the previous results stay"
            );
            assert_eq!(findings_sha(&results), first_findings, "{point}");
        }
        // The next run is not blocked by the killed one's lock, and clears what it left.
        yidi()
            .args(["run", month.dir.to_str().unwrap(), "--quiet", "--out"])
            .arg(&out)
            .assert()
            .code(0);
        previous = assert_whole(&results)["run_id"].clone();
        assert_eq!(findings_sha(&results), first_findings, "{point}: rerun");
        assert_eq!(
            visible_entries(&out)
                .into_iter()
                .filter(|n| !n.starts_with("history"))
                .collect::<Vec<_>>(),
            [SAMPLE_MONTH],
            "{point}: nothing staged is left behind"
        );
    }
}

#[test]
fn two_runs_on_one_month_never_both_write() {
    let out = tempfile::tempdir().unwrap();
    let holder = paused_run(&sample_dir(), out.path(), "writing", &[]);
    let pid = holder.id();
    yidi()
        .args(["run", sample_dir().to_str().unwrap(), "--out"])
        .arg(out.path())
        .assert()
        .code(5)
        .stderr(predicates::str::contains(format!("pid {pid}")));
    // A run of another month is not held up.
    let other = TempMonth::sample();
    yidi()
        .args([
            "run",
            other.dir.to_str().unwrap(),
            "--quiet",
            "--month",
            "2026-11",
        ])
        .arg("--out")
        .arg(out.path())
        .assert()
        .code(0);
    // With --wait, the second run waits for the first; here the first is killed, its lock
    // goes with it, and the waiting run goes on.
    let waiting = StdCommand::new(bin())
        .args(["run", sample_dir().to_str().unwrap(), "--wait", "--out"])
        .arg(out.path())
        .env_remove("YIDI_PAUSE_AT")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        !out.path().join(SAMPLE_MONTH).exists(),
        "the waiting run has not written while the first holds the lock"
    );
    kill(holder);
    let finished = waiting.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&finished.stderr);
    assert_eq!(finished.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("waiting"), "{stderr}");
    assert_whole(&out.path().join(SAMPLE_MONTH));
}

#[test]
fn every_exit_status() {
    let month = TempMonth::sample();
    let run = |args: &[&str]| {
        yidi()
            .arg("run")
            .arg(&month.dir)
            .arg("--out")
            .arg(month.out())
            .arg("--quiet")
            .args(args)
            .assert()
    };
    run(&[]).code(0);
    run(&["--fail-on", "flag"]).code(1);
    run(&["--fail-on", "bogus"]).code(2);
    run(&["--config", "/nonexistent.toml"]).code(2);
    yidi()
        .args(["run", "/nonexistent/2026-10", "--quiet"])
        .assert()
        .code(3);
    // The output root is a file: nothing can be written there.
    let file = month.dir.join("filings.csv");
    yidi()
        .arg("run")
        .arg(&month.dir)
        .arg("--quiet")
        .arg("--out")
        .arg(&file)
        .assert()
        .code(4);
    let _holder = HeldLock(paused_run(&month.dir, &month.out(), "locked", &[]));
    run(&[]).code(5);
    drop(_holder);
    // A hospital's export that cannot be read: 6, which wins over 1 and loses to 2.
    month.write("exports/H22020000001/feedetail.csv", "");
    run(&[]).code(6);
    run(&["--fail-on", "flag"]).code(6);
    run(&["--fail-on", "bogus"]).code(2);
    run(&["--strict"]).code(3);
}

/// Kills the run it holds when the test ends, however it ends.
struct HeldLock(Child);

impl Drop for HeldLock {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `(1.44 s, peak 315 MiB)` where the system tells the peak memory (Linux), else `(1.44 s)`;
/// a stage timed as a whole (not summed over parts) shows its CPU time over its wall time
/// too on Linux: `(1.44 s, cpu 1.9×, peak 315 MiB)`.
fn ends_like_a_stage(line: &str, whole: bool) -> bool {
    if cfg!(target_os = "linux") {
        let cpu = line.contains(" s, cpu ") && line.contains("×, peak ");
        let peak = line.ends_with(" MiB)") || line.ends_with(" GiB)");
        peak && if whole {
            cpu
        } else {
            line.contains(" s, peak ")
        }
    } else {
        line.ends_with(" s)")
    }
}

#[test]
fn logs_off_a_terminal_are_plain_lines_per_stage() {
    let out = tempfile::tempdir().unwrap();
    let text = yidi()
        .args(["run", sample_dir().to_str().unwrap(), "--out"])
        .arg(out.path())
        .assert()
        .code(0)
        .get_output()
        .stderr
        .clone();
    let text = String::from_utf8(text).unwrap();
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "no control characters: {text:?}"
    );
    for (stage, whole) in [("ingest", true), ("rules", false), ("write", true)] {
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!("yidi: {stage}: ")) && ends_like_a_stage(l, whole)),
            "a line for {stage} with its time (and, on Linux, CPU and peak memory): {text}"
        );
    }

    let json = yidi()
        .args([
            "run",
            sample_dir().to_str().unwrap(),
            "--log-format",
            "json",
            "--out",
        ])
        .arg(out.path())
        .assert()
        .code(0)
        .get_output()
        .stderr
        .clone();
    let lines: Vec<Value> = String::from_utf8(json)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert!(lines.iter().any(|l| l["stage"] == "rules"
        && l["seconds"].is_number()
        && (cfg!(not(target_os = "linux")) || l["peak_rss_mib"].is_u64())));
    assert!(lines.iter().any(|l| l["stage"] == "ingest"
        && (cfg!(not(target_os = "linux")) || l["cpu_seconds"].is_number())));
    assert!(lines.iter().all(|l| l["message"].is_string()));

    yidi()
        .args(["run", sample_dir().to_str().unwrap(), "--quiet", "--out"])
        .arg(out.path())
        .assert()
        .code(0)
        .stderr("");
}
