//! What a run tells the person or the scheduler watching it.
//!
//! On a terminal: indicatif bars per stage with rates and ETA. Not on a terminal (cron):
//! one plain log line per stage with counts and timings, no control characters; or one
//! JSON object per line with `--log-format json`; nothing with `--quiet`.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Bars,
    Text,
    Json,
    Quiet,
}

/// The time each stage took, for the manifest.
#[derive(Debug, Clone, Serialize)]
pub struct StageTiming {
    pub stage: String,
    pub seconds: f64,
    /// The process's peak resident memory so far, when the system tells it (Linux).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_rss_mib: Option<u64>,
    /// CPU time the process spent in the stage, over all its threads (Linux): on two busy
    /// cores, twice `seconds`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_seconds: Option<f64>,
}

/// CPU time the process has used so far, over all its threads (user and system, from
/// `/proc/self/stat`, in clock ticks of 10 ms); `None` off Linux.
pub fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // After the command name (which may hold spaces, in parentheses): state is field 3,
    // utime and stime fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some((user + system) as f64 / TICKS_PER_SECOND)
}

/// `sysconf(_SC_CLK_TCK)`: 100 on every Linux platform yidi runs on.
const TICKS_PER_SECOND: f64 = 100.0;

/// The process's peak resident set size so far (`VmHWM`), in MiB; `None` off Linux.
pub fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

pub struct Progress {
    mode: Mode,
    started: Instant,
    timings: Mutex<Vec<StageTiming>>,
}

/// One stage under way.
pub struct Stage<'a> {
    progress: &'a Progress,
    name: &'static str,
    started: Instant,
    cpu_started: Option<f64>,
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(format: LogFormat, quiet: bool) -> Progress {
        let mode = match (quiet, format) {
            (true, _) => Mode::Quiet,
            (false, LogFormat::Json) => Mode::Json,
            (false, LogFormat::Text) if std::io::stderr().is_terminal() => Mode::Bars,
            (false, LogFormat::Text) => Mode::Text,
        };
        Progress {
            mode,
            started: Instant::now(),
            timings: Mutex::new(Vec::new()),
        }
    }

    /// Reports nothing: for tests and library callers.
    pub fn silent() -> Progress {
        Progress {
            mode: Mode::Quiet,
            started: Instant::now(),
            timings: Mutex::new(Vec::new()),
        }
    }

    /// Starts a stage of `total` units (0 when unknown).
    pub fn stage(&self, name: &'static str, total: u64, unit: &str) -> Stage<'_> {
        let bar = (self.mode == Mode::Bars).then(|| {
            let bar = ProgressBar::new(total);
            let template = format!(
                "{{prefix:>10}} [{{bar:30}}] {{pos}}/{{len}} {unit} {{per_sec}} ETA {{eta}}"
            );
            bar.set_style(
                ProgressStyle::with_template(&template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_prefix(name);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Stage {
            progress: self,
            name,
            started: Instant::now(),
            cpu_started: cpu_seconds(),
            bar,
        }
    }

    /// A stage timed elsewhere (the sum of its time over a month's parts).
    pub fn record(&self, name: &str, seconds: f64, summary: &str) {
        self.record_with_cpu(name, seconds, None, summary);
    }

    fn record_with_cpu(&self, name: &str, seconds: f64, cpu: Option<f64>, summary: &str) {
        let peak = peak_rss_mib();
        let timing = StageTiming {
            stage: name.to_owned(),
            seconds,
            peak_rss_mib: peak,
            cpu_seconds: cpu,
        };
        self.emit(name, summary, Some(&timing));
        if let Ok(mut timings) = self.timings.lock() {
            timings.push(timing);
        }
    }

    /// A message outside any stage (warnings, the final summary).
    pub fn message(&self, text: &str) {
        self.emit("message", text, None);
    }

    /// The run's last line: how the month went. With `--log-format json` its figures are
    /// fields too (`outcome`), for machines.
    pub fn outcome(&self, text: &str, fields: &impl Serialize) {
        match self.mode {
            Mode::Json => {
                #[derive(Serialize)]
                struct Line<'a, F: Serialize> {
                    stage: &'a str,
                    message: &'a str,
                    outcome: &'a F,
                }
                let line = Line {
                    stage: "outcome",
                    message: text,
                    outcome: fields,
                };
                if let Ok(json) = serde_json::to_string(&line) {
                    let _ = writeln!(std::io::stderr().lock(), "{json}");
                }
            }
            _ => self.message(text),
        }
    }

    pub fn timings(&self) -> Vec<StageTiming> {
        self.timings.lock().map(|t| t.clone()).unwrap_or_default()
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    fn emit(&self, stage: &str, text: &str, timing: Option<&StageTiming>) {
        let seconds = timing.map(|t| t.seconds);
        let peak_mib = timing.and_then(|t| t.peak_rss_mib);
        let cpu = timing.and_then(|t| t.cpu_seconds);
        let mut err = std::io::stderr().lock();
        match self.mode {
            Mode::Quiet => {}
            Mode::Json => {
                #[derive(Serialize)]
                struct Line<'a> {
                    stage: &'a str,
                    message: &'a str,
                    #[serde(skip_serializing_if = "Option::is_none")]
                    seconds: Option<f64>,
                    #[serde(skip_serializing_if = "Option::is_none")]
                    peak_rss_mib: Option<u64>,
                    #[serde(skip_serializing_if = "Option::is_none")]
                    cpu_seconds: Option<f64>,
                }
                let line = Line {
                    stage,
                    message: text,
                    seconds,
                    peak_rss_mib: peak_mib,
                    cpu_seconds: cpu,
                };
                if let Ok(json) = serde_json::to_string(&line) {
                    let _ = writeln!(err, "{json}");
                }
            }
            Mode::Text | Mode::Bars => {
                let clean: String = text.chars().filter(|c| !c.is_control()).collect();
                let Some(s) = seconds else {
                    let _ = writeln!(err, "yidi: {clean}");
                    return;
                };
                // "(12.30 s, cpu 1.9×, peak 3.2 GiB)": cpu is CPU time over wall time.
                let mut figures = format!("{s:.2} s");
                if let Some(cpu) = cpu.filter(|_| s > 0.0) {
                    figures.push_str(&format!(", cpu {:.1}×", cpu / s));
                }
                if let Some(mib) = peak_mib {
                    figures.push_str(&format!(", peak {}", size(mib << 20)));
                }
                let _ = writeln!(err, "yidi: {stage}: {clean} ({figures})");
            }
        }
    }
}

impl Stage<'_> {
    pub fn inc(&self, units: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(units);
        }
    }

    /// Ends the stage with a one-line summary.
    pub fn finish(self, summary: &str) {
        let seconds = self.started.elapsed().as_secs_f64();
        let cpu = cpu_seconds()
            .zip(self.cpu_started)
            .map(|(now, then)| now - then);
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        self.progress
            .record_with_cpu(self.name, seconds, cpu, summary);
    }
}

/// Bytes for people, as the stage lines give memory: MiB below a GiB, GiB with a decimal.
pub fn size(bytes: u64) -> String {
    let mib = bytes as f64 / f64::from(1 << 20);
    if mib < 1024.0 {
        format!("{mib:.0} MiB")
    } else {
        format!("{:.1} GiB", mib / 1024.0)
    }
}
