//! The batch-engine files of `deploy/` (SPEC §14): no engine runs here, so the tests parse
//! the Kubernetes Jobs and run their commands, and run the Slurm scripts, as the engines
//! would — each pod or array task with its index — on the sample month, with the real
//! binary; the merged month must be the run's, table for table.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_yaml::Value;

use crate::util::yidi;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A directory whose `yidi` is the binary under test, to put first on `PATH`.
fn bin_dir(dir: &Path) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let binary = assert_cmd::cargo::cargo_bin("yidi");
    std::os::unix::fs::symlink(binary, bin.join("yidi")).unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

struct Job {
    yaml: Value,
}

impl Job {
    fn read(name: &str) -> Job {
        let text = std::fs::read_to_string(repo("deploy/kubernetes").join(name)).unwrap();
        Job {
            yaml: serde_yaml::from_str(&text).unwrap(),
        }
    }

    fn container(&self) -> &Value {
        &self.yaml["spec"]["template"]["spec"]["containers"][0]
    }

    fn env(&self, name: &str) -> String {
        self.container()["env"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("no env {name}"))["value"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The shell line the container runs, with the volumes' mount paths moved under `root`.
    fn script(&self, root: &Path) -> String {
        let c = self.container();
        assert_eq!(c["command"][0], "sh");
        assert_eq!(c["command"][1], "-c");
        let mut line = c["args"][0].as_str().unwrap().to_owned();
        for mount in c["volumeMounts"].as_sequence().unwrap() {
            let path = mount["mountPath"].as_str().unwrap();
            line = line.replace(&format!("\"{path}"), &format!("\"{}{path}", root.display()));
            line = line.replace(&format!(" {path}"), &format!(" {}{path}", root.display()));
        }
        line
    }

    /// Runs the container's command as pod `index` would.
    fn run_pod(&self, root: &Path, path: &str, index: Option<usize>) -> std::process::ExitStatus {
        let mut sh = Command::new("sh");
        sh.arg("-c").arg(self.script(root)).env("PATH", path);
        for e in self.container()["env"].as_sequence().unwrap() {
            sh.env(e["name"].as_str().unwrap(), e["value"].as_str().unwrap());
        }
        if let Some(i) = index {
            sh.env("JOB_COMPLETION_INDEX", i.to_string());
        }
        sh.arg("--").env("HOME", root).status().unwrap()
    }
}

fn assert_merged_as_run(run: &Path, merged: &Path) {
    for name in [
        "findings.csv",
        "settlements.csv",
        "settlements.parquet",
        "clearing_by_area.csv",
        "province_net.csv",
        "problems_by_hospital.csv",
        "rejects.csv",
        "ledger.csv",
        "inputs/filings.parquet",
    ] {
        assert!(
            std::fs::read(run.join(name)).unwrap() == std::fs::read(merged.join(name)).unwrap(),
            "{name}"
        );
    }
    let manifest = crate::util::manifest(merged);
    assert_eq!(manifest["command"], "merge");
}

#[test]
fn the_kubernetes_jobs_run_the_three_steps_with_their_indices() {
    let (split, check, merge) = (
        Job::read("split.yaml"),
        Job::read("check.yaml"),
        Job::read("merge.yaml"),
    );
    for (job, env) in [(&split, "SLICES"), (&check, "CHECK_GROUPS")] {
        assert_eq!(job.yaml["apiVersion"], "batch/v1");
        assert_eq!(job.yaml["kind"], "Job");
        assert_eq!(job.yaml["spec"]["completionMode"], "Indexed");
        let n: u64 = job.env(env).parse().unwrap();
        assert_eq!(job.yaml["spec"]["completions"].as_u64(), Some(n), "{env}");
        assert_eq!(job.yaml["spec"]["parallelism"].as_u64(), Some(n), "{env}");
    }
    assert_eq!(merge.yaml["spec"]["completions"].as_u64(), Some(1));
    assert_eq!(split.env("MONTH"), check.env("MONTH"));
    assert_eq!(split.env("MONTH"), merge.env("MONTH"));
    assert!(
        split
            .script(Path::new(""))
            .contains("--slice \"$JOB_COMPLETION_INDEX/$SLICES\"")
    );
    assert!(
        check
            .script(Path::new(""))
            .contains("--provinces \"$provinces\"")
    );
    assert!(merge.script(Path::new("")).contains("yidi merge"));

    // The pods, run here in order, with the sample month under /months.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let month = split.env("MONTH");
    crate::util::copy_dir(
        &repo("sample_data/2026-10"),
        &root.join("months").join(&month),
    );
    std::fs::create_dir_all(root.join("out")).unwrap();
    let path = bin_dir(root);
    for i in 0..split.env("SLICES").parse().unwrap() {
        assert!(
            split.run_pod(root, &path, Some(i)).success(),
            "split pod {i}"
        );
    }
    for k in 0..check.env("CHECK_GROUPS").parse().unwrap() {
        assert!(
            check.run_pod(root, &path, Some(k)).success(),
            "check pod {k}"
        );
    }
    assert!(merge.run_pod(root, &path, None).success());
    yidi()
        .args(["--quiet", "run"])
        .arg(root.join("months").join(&month))
        .arg("--out")
        .arg(root.join("run"))
        .assert()
        .success();
    assert_merged_as_run(
        &root.join("run").join(&month),
        &root.join("out").join(&month),
    );
}

#[test]
fn the_slurm_scripts_run_the_three_steps_with_their_array_indices() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let path = bin_dir(root);
    let (slices, groups) = (3, 2);
    let submit = std::fs::read_to_string(repo("deploy/slurm/yidi-month.sh")).unwrap();
    assert!(submit.contains("--array=\"0-$((n - 1))\""));
    assert!(submit.contains("--dependency=\"afterok:$split\""));
    assert!(submit.contains("--dependency=\"afterok:$check\""));
    let task = |script: &str, index: Option<usize>| {
        let mut bash = Command::new("bash");
        bash.arg(repo("deploy/slurm").join(script))
            .env("PATH", &path)
            .env("MONTH_DIR", repo("sample_data/2026-10"))
            .env("STAGE", root.join("stage"))
            .env("OUT", root.join("out"))
            .env("SLICES", slices.to_string())
            .env("CHECK_GROUPS", groups.to_string())
            .env("SPLIT_ARGS", "--no-previous --quiet");
        if let Some(i) = index {
            bash.env("SLURM_ARRAY_TASK_ID", i.to_string());
        }
        assert!(bash.status().unwrap().success(), "{script} {index:?}");
    };
    for i in 0..slices {
        task("split.sbatch", Some(i));
    }
    for k in 0..groups {
        task("check.sbatch", Some(k));
    }
    task("merge.sbatch", None);
    yidi()
        .args(["--quiet", "run"])
        .arg(repo("sample_data/2026-10"))
        .arg("--out")
        .arg(root.join("run"))
        .assert()
        .success();
    assert_merged_as_run(&root.join("run/2026-10"), &root.join("out/2026-10"));
}

#[test]
fn scripts_steps_sh_runs_the_steps_side_by_side_and_matches_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .arg(repo("scripts/steps.sh"))
        .arg(repo("sample_data/2026-10"))
        .arg("3")
        .arg("--out")
        .arg(dir.path().join("out"))
        .arg("--compare")
        .env("YIDI", assert_cmd::cargo::cargo_bin("yidi"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("byte-identical"), "{stdout}");
}
