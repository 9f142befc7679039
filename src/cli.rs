//! The command line as the user typed it (clap). [`crate::run::Options`] is the checked
//! form the commands work from.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::Lang;
use crate::budget::Budget;
use crate::config::Config;
use crate::error::ConfigError;
use crate::progress::LogFormat;
pub use crate::run::FailOn;
use crate::{generate, query, run, units, validate};

const EXIT_STATUS_HELP: &str = "\
Exit status:
  0  done
  1  done, with findings at or above the --fail-on level (validate: some rows were rejected)
  2  usage or configuration error
  3  input error: a missing month directory, file or column, a file that is not text
  4  output error: the results could not be written
  5  another run holds the lock of the output month
  6  done, but one or more hospital directories were set aside (their rows are rejects;
     see the manifest). 6 wins over 0 and 1; 2-5 win over 6";

const STEPS_HELP: &str = "\
A month in steps:
  yidi split 2026-10 --stage st --slice 0/2 &  yidi split 2026-10 --stage st --slice 1/2
  yidi check st --plan 2                    (prints 2 groups of provinces)
  yidi check st --provinces 11,12,…  &  yidi check st --provinces 13,…
  yidi merge st --out out
Exit status: 0 done (merge: as `yidi run`: 1, 6); 2 usage; 3 input error (a slice or
province missing, unfinished or doubled); 4 output error; 5 the output month is locked";

#[derive(Debug, Parser)]
#[command(
    name = "yidi",
    version,
    about = "Monthly reconciliation and clearing of cross-province direct settlement (跨省异地就医直接结算)",
    after_help = EXIT_STATUS_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Log lines when not on a terminal: plain text, or one JSON object per line.
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: LogFormat,

    /// Print no progress or log lines (errors are still printed).
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the month: ingest, check, clear; write the results into <OUT>/<YYYY-MM>/.
    #[command(after_help = EXIT_STATUS_HELP)]
    Run(RunArgs),
    /// Ingest only: print per-file counts and every rejected row.
    ///
    /// Exit 0 when every row was accepted, 1 when some were rejected, 6 when a hospital
    /// directory would be set aside, 3 on an input error.
    #[command(after_help = EXIT_STATUS_HELP)]
    Validate(ValidateArgs),
    /// SQL (polars SQL) over a finished run's tables and the month's inputs.
    ///
    /// Tables: findings, settlements, clearing_by_area, clearing_by_province, province_net,
    /// problems_by_hospital, rejects, history (every run of the output root), and the
    /// month's inputs setlinfo, feedetail, summary, filings, hospitals, catalogue, policy,
    /// regions, opsp_diseases, enrollment, ytd (certno and psn_name masked). `--tables`
    /// lists them with their columns.
    #[command(
        after_help = "Example:\n  yidi query out/2026-10 \"SELECT rule, count(*) AS cnt, sum(amount) AS amount FROM findings GROUP BY rule ORDER BY amount DESC\"\n\nExit status: 0 done; 2 a query that cannot run (unknown table or column, syntax); 3 not a finished run; 4 the result could not be written."
    )]
    Query(QueryArgs),
    /// List the rules with their code, level and title, or explain one.
    Rules(RulesArgs),
    /// Step 1 of a month in steps (SPEC §14): read slice I of N of the month into a stage.
    ///
    /// Slice I reads the I-th of N contiguous shares of the hospital directories (sorted by
    /// name); slice 0 also the common files, the configuration and the previous ledger.
    /// Run N of them side by side, on any machines that share the stage directory.
    #[command(after_help = STEPS_HELP)]
    Split(SplitArgs),
    /// Step 2 of a month in steps (SPEC §14): check a group of insured provinces of a stage.
    ///
    /// Needs every slice split. Groups may be any, each province in one; `--plan M` prints
    /// M balanced groups, one line each, for a batch engine to hand out.
    #[command(after_help = STEPS_HELP)]
    Check(CheckArgs),
    /// Step 3 of a month in steps (SPEC §14): merge a checked stage into <OUT>/<YYYY-MM>/.
    ///
    /// Writes exactly what `yidi run` writes for the month (every table byte for byte),
    /// with a manifest that lists the steps. Refuses a stage with a slice or province
    /// missing or checked twice (exit 3).
    #[command(after_help = STEPS_HELP)]
    Merge(MergeArgs),
    /// Write a synthetic month with planted anomalies, and the results a run must give.
    ///
    /// The month goes to <OUT>/<YYYY-MM>/ (SPEC §2 layout), the expected findings,
    /// settlement statuses and clearing (for the built-in defaults) to
    /// <OUT>/<YYYY-MM>.expected/. The same seed writes the same bytes.
    Generate(GenerateArgs),
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The month to generate, YYYY-MM.
    #[arg(long, value_name = "YYYY-MM", default_value = "2026-10")]
    pub month: String,

    /// Where to write <YYYY-MM>/ and <YYYY-MM>.expected/.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Seed of the generator: the same seed (and sizes) writes the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Preset size: tiny (~400 settlements), city (~50 000), province (~1 million
    /// settlements, 20 million fee lines), national (~20 million settlements).
    #[arg(long, value_enum, default_value = "tiny")]
    pub scale: crate::generate::Scale,

    /// Settlement cases instead of the preset's number.
    #[arg(long, value_name = "N")]
    pub settlements: Option<usize>,

    /// Hospitals instead of the preset's number.
    #[arg(long, value_name = "N")]
    pub hospitals: Option<usize>,

    /// One case in N plants an anomaly (cycling through every rule) instead of the
    /// preset's rate (tiny: 1 in 3; larger scales: 1 in 40 or 100).
    #[arg(long, value_name = "N")]
    pub anomaly_every: Option<usize>,

    /// Fee lines of an inpatient stay, at least and at most, instead of the preset's
    /// (province: 100-440, about 21 lines a settlement; 30-144 gives about 9, the shape of
    /// a month with shorter bills).
    #[arg(long, value_name = "MIN-MAX")]
    pub inpatient_lines: Option<String>,

    /// Replace the month and its expectations if they exist.
    #[arg(long)]
    pub force: bool,

    /// Write the month after a finished run (its month directory, e.g. out/2026-10) instead:
    /// decisions, reversals and re-uploads planted on its ledger (SPEC §13), and the ledger,
    /// events and releases the next run must give. The size options do not apply.
    #[arg(long, value_name = "RUN")]
    pub after: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// A finished run's month directory, e.g. out/2026-10.
    pub run_dir: PathBuf,

    /// One SQL statement.
    pub sql: Option<String>,

    /// Read the SQL from this file instead (saved queries).
    #[arg(long, value_name = "FILE")]
    pub sql_file: Option<PathBuf>,

    /// How to write the result: an aligned table for people, or csv, json, parquet.
    #[arg(long, value_enum, default_value = "table")]
    pub format: crate::query::Format,

    /// Write the result to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Rows an aligned table shows at most (the other formats write every row).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub max_rows: usize,

    /// List the tables and their columns.
    #[arg(long)]
    pub tables: bool,
}

#[derive(Debug, Args)]
pub struct MonthArgs {
    /// The month directory (reference/, filings.csv, exports/<fixmedins_code>/...).
    pub month_dir: PathBuf,

    /// The month being cleared, YYYY-MM [default: the month directory's name].
    #[arg(long, value_name = "YYYY-MM")]
    pub month: Option<String>,

    /// Rule parameters (TOML, SPEC §8) [default: the built-in defaults].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Language of texts for people: reject reasons, finding details, reports.
    #[arg(long, value_enum, default_value = "zh")]
    pub lang: Lang,

    /// Stop the month (exit 3) when a hospital directory cannot be read, instead of setting
    /// it aside and clearing the month without it (exit 6).
    #[arg(long)]
    pub strict: bool,

    #[command(flatten)]
    pub memory: MemoryArgs,
}

/// How much of a month is held at once: `run`, `split`, `validate` and `check`.
#[derive(Debug, Args)]
pub struct MemoryArgs {
    /// Memory budget of what streams: exports read at once, rows waiting for their row
    /// groups, provinces checked side by side, and whether `run` keeps its parts in memory
    /// (when they fit an eighth). The reference tables and the province being checked come
    /// on top (a province month of 3 GB peaks at about 1.5 GiB with the default).
    #[arg(long, value_name = "SIZE", default_value = Budget::DEFAULT)]
    pub memory_limit: Budget,
}

/// Where a finished month goes and how it ends: `run` and `merge` alike.
#[derive(Debug, Args)]
pub struct ResultsArgs {
    /// Output root: results go to <OUT>/<YYYY-MM>/.
    #[arg(long, value_name = "DIR", default_value = "out")]
    pub out: PathBuf,

    /// If another run holds this month's lock, wait for it instead of exiting with 5.
    #[arg(long)]
    pub wait: bool,

    /// Exit with 1 when some finding is at this level or above (hold > deduct > flag).
    #[arg(long, value_enum, default_value = "never")]
    pub fail_on: FailOn,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub month: MonthArgs,

    #[command(flatten)]
    pub results: ResultsArgs,

    /// The previous month's finished run, whose ledger this month continues (SPEC §13)
    /// [default: <OUT>/<previous YYYY-MM>/].
    #[arg(long, value_name = "DIR", conflicts_with = "no_previous")]
    pub previous: Option<PathBuf>,

    /// Start the ledger empty even though an earlier month ran (recorded in the manifest).
    #[arg(long)]
    pub no_previous: bool,
}

#[derive(Debug, Args)]
pub struct SplitArgs {
    #[command(flatten)]
    pub month: MonthArgs,

    /// The stage directory the steps share.
    #[arg(long, value_name = "DIR")]
    pub stage: PathBuf,

    /// Which slice of how many: I/N, 0 <= I < N.
    #[arg(long, value_name = "I/N", default_value = "0/1")]
    pub slice: String,

    /// Output root where the previous month's run is found by default
    /// (<OUT>/<previous YYYY-MM>/; slice 0 reads it).
    #[arg(long, value_name = "DIR", default_value = "out")]
    pub out: PathBuf,

    /// The previous month's finished run, whose ledger this month continues (SPEC §13).
    #[arg(long, value_name = "DIR", conflicts_with = "no_previous")]
    pub previous: Option<PathBuf>,

    /// Start the ledger empty even though an earlier month ran.
    #[arg(long)]
    pub no_previous: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The stage directory the steps share.
    pub stage: PathBuf,

    /// The insured provinces to check (2-digit codes, comma-separated; empty: nothing).
    #[arg(
        long,
        value_name = "P,Q,…",
        value_delimiter = ',',
        num_args = 0..,
        required_unless_present = "plan",
        conflicts_with = "plan"
    )]
    pub provinces: Vec<String>,

    /// Print the stage's provinces dealt into M groups of about equal rows, one line each,
    /// and check nothing.
    #[arg(long, value_name = "M")]
    pub plan: Option<usize>,

    #[command(flatten)]
    pub memory: MemoryArgs,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The stage directory the steps share.
    pub stage: PathBuf,

    #[command(flatten)]
    pub results: ResultsArgs,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Explain one rule (e.g. FIL002); without it, list every rule.
    pub code: Option<String>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub month: MonthArgs,

    /// Also write rejects.csv and manifest.json into this directory.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

// The checked options the library takes, built from what the user typed before any work
// starts (ripgrep's low and high arguments): the library never sees a clap type.

impl MonthArgs {
    pub fn options(&self) -> Result<run::MonthOptions, ConfigError> {
        let month = match &self.month {
            Some(month) => month.clone(),
            None => self
                .month_dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
        if units::parse_month(&month).is_none() {
            return Err(ConfigError::Usage(match &self.month {
                Some(_) => format!("--month {month}: expected YYYY-MM"),
                None => format!(
                    "{}: the directory is not named YYYY-MM; pass --month YYYY-MM",
                    self.month_dir.display()
                ),
            }));
        }
        Ok(run::MonthOptions {
            month_dir: self.month_dir.clone(),
            month,
            config: {
                let config = Config::load(self.config.as_deref())?;
                config.check_rules(&|code| crate::rules::RULES.iter().any(|r| r.code == code))?;
                config
            },
            lang: self.lang,
            strict: self.strict,
            budget: self.memory.memory_limit,
        })
    }
}

impl RunArgs {
    /// `arguments`: the command line as typed, for the manifest.
    pub fn options(&self, arguments: Vec<String>) -> Result<run::Options, ConfigError> {
        Ok(run::Options {
            month: self.month.options()?,
            out_root: self.results.out.clone(),
            wait: self.results.wait,
            fail_on: self.results.fail_on,
            arguments,
            settlement_ranges: Default::default(),
            previous: crate::ledger::previous::PreviousOptions {
                dir: self.previous.clone(),
                none: self.no_previous,
            },
        })
    }
}

impl SplitArgs {
    pub fn options(&self) -> Result<crate::steps::split::Options, ConfigError> {
        let usage = || {
            ConfigError::Usage(format!(
                "--slice {}: expected I/N with 0 <= I < N",
                self.slice
            ))
        };
        let (i, n) = self.slice.split_once('/').ok_or_else(usage)?;
        let (index, count) = (
            i.trim().parse::<usize>().map_err(|_| usage())?,
            n.trim().parse::<usize>().map_err(|_| usage())?,
        );
        if index >= count {
            return Err(usage());
        }
        Ok(crate::steps::split::Options {
            month: self.month.options()?,
            stage: self.stage.clone(),
            slice: crate::ingest::Slice { index, count },
            out_root: self.out.clone(),
            previous: crate::ledger::previous::PreviousOptions {
                dir: self.previous.clone(),
                none: self.no_previous,
            },
        })
    }
}

impl CheckArgs {
    pub fn options(&self) -> Result<crate::steps::check::Options, ConfigError> {
        let provinces: Vec<String> = self
            .provinces
            .iter()
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect();
        if let Some(bad) = provinces
            .iter()
            .find(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(ConfigError::Usage(format!(
                "--provinces: '{bad}' is not a 2-digit province code"
            )));
        }
        if self.plan == Some(0) {
            return Err(ConfigError::Usage("--plan: at least 1 group".into()));
        }
        Ok(crate::steps::check::Options {
            stage: self.stage.clone(),
            provinces,
            budget: self.memory.memory_limit,
        })
    }
}

impl MergeArgs {
    pub fn options(
        &self,
        arguments: Vec<String>,
    ) -> Result<crate::steps::merge::Options, ConfigError> {
        Ok(crate::steps::merge::Options {
            stage: self.stage.clone(),
            out_root: self.results.out.clone(),
            wait: self.results.wait,
            fail_on: self.results.fail_on,
            arguments,
        })
    }
}

impl ValidateArgs {
    pub fn options(&self, arguments: Vec<String>) -> Result<validate::Options, ConfigError> {
        Ok(validate::Options {
            month: self.month.options()?,
            out: self.out.clone(),
            arguments,
        })
    }
}

impl QueryArgs {
    pub fn options(&self) -> Result<query::Options, ConfigError> {
        let sql = match (&self.sql, &self.sql_file) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::Usage(
                    "give the SQL either as an argument or with --sql-file, not both".into(),
                ));
            }
            (Some(sql), None) => Some(sql.clone()),
            (None, Some(file)) => {
                Some(
                    std::fs::read_to_string(file).map_err(|source| ConfigError::Read {
                        path: file.clone(),
                        source,
                    })?,
                )
            }
            (None, None) if self.tables => None,
            (None, None) => {
                return Err(ConfigError::Usage(
                    "no SQL given: pass it as an argument, with --sql-file FILE, or ask --tables"
                        .into(),
                ));
            }
        };
        if self.format == query::Format::Parquet
            && self.output.is_none()
            && std::io::IsTerminal::is_terminal(&std::io::stdout())
        {
            return Err(ConfigError::Usage(
                "--format parquet writes binary data: pass --output FILE or redirect stdout".into(),
            ));
        }
        Ok(query::Options {
            run_dir: self.run_dir.clone(),
            sql,
            format: self.format,
            output: self.output.clone(),
            max_rows: self.max_rows,
            list_tables: self.tables,
        })
    }
}

impl GenerateArgs {
    pub fn options(&self) -> Result<generate::Options, ConfigError> {
        let (year, month) = crate::units::parse_month(&self.month).ok_or_else(|| {
            ConfigError::Usage(format!("--month {}: expected YYYY-MM", self.month))
        })?;
        let mut plan = generate::Plan::new(self.scale, year, month, self.seed);
        if let Some(n) = self.settlements {
            plan.settlements = n;
        }
        if let Some(n) = self.hospitals {
            plan.hospitals = n;
        }
        if let Some(period) = self.anomaly_every {
            plan.anomaly_period = period;
        }
        if let Some(range) = &self.inpatient_lines {
            let bounds = range
                .split_once('-')
                .and_then(|(lo, hi)| Some((lo.parse().ok()?, hi.parse().ok()?)))
                .filter(|&(lo, hi): &(usize, usize)| (5..=hi).contains(&lo) && hi <= 10_000);
            plan.ip_lines = bounds.ok_or_else(|| {
                ConfigError::Usage(format!(
                    "--inpatient-lines {range}: expected MIN-MAX, 5 <= MIN <= MAX <= 10000"
                ))
            })?;
        }
        if plan.hospitals == 0 || plan.hospitals > 99_999 {
            return Err(ConfigError::Usage(
                "--hospitals: between 1 and 99 999".into(),
            ));
        }
        if plan.settlements < plan.hospitals {
            return Err(ConfigError::Usage(format!(
                "--settlements: at least one per hospital ({})",
                plan.hospitals
            )));
        }
        if plan.anomaly_period < 2 {
            return Err(ConfigError::Usage("--anomaly-every: at least 2".into()));
        }
        Ok(generate::Options {
            plan,
            out: self.out.clone(),
            force: self.force,
            after: self.after.clone(),
        })
    }
}
