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
}

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
            bar,
        }
    }

    /// A stage timed elsewhere (the sum of its time over a month's parts).
    pub fn record(&self, name: &str, seconds: f64, summary: &str) {
        let peak = peak_rss_mib();
        self.emit(name, summary, Some(seconds), peak);
        if let Ok(mut timings) = self.timings.lock() {
            timings.push(StageTiming {
                stage: name.to_owned(),
                seconds,
                peak_rss_mib: peak,
            });
        }
    }

    /// A message outside any stage (warnings, the final summary).
    pub fn message(&self, text: &str) {
        self.emit("message", text, None, None);
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

    fn emit(&self, stage: &str, text: &str, seconds: Option<f64>, peak_mib: Option<u64>) {
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
                }
                let line = Line {
                    stage,
                    message: text,
                    seconds,
                    peak_rss_mib: peak_mib,
                };
                if let Ok(json) = serde_json::to_string(&line) {
                    let _ = writeln!(err, "{json}");
                }
            }
            Mode::Text | Mode::Bars => {
                let clean: String = text.chars().filter(|c| !c.is_control()).collect();
                match (seconds, peak_mib) {
                    (Some(s), Some(mib)) => {
                        let peak = if mib < 1024 {
                            format!("{mib} MiB")
                        } else {
                            format!("{:.1} GiB", mib as f64 / 1024.0)
                        };
                        let _ = writeln!(err, "yidi: {stage}: {clean} ({s:.2} s, peak {peak})");
                    }
                    (Some(s), None) => {
                        let _ = writeln!(err, "yidi: {stage}: {clean} ({s:.2} s)");
                    }
                    (None, _) => {
                        let _ = writeln!(err, "yidi: {clean}");
                    }
                }
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
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        self.progress.record(self.name, seconds, summary);
    }
}
