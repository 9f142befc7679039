//! `yidi generate`: a synthetic month of any size (SPEC §11) in the SPEC §2 layout, with
//! planted anomalies of every rule and, beside it in `<out>/<YYYY-MM>.expected/`, the
//! findings, settlement statuses and clearing a run with the built-in defaults must give.
//!
//! The month is a function of its plan and seed alone: the same seed writes the same
//! bytes. Hospitals are generated independently and in parallel (rayon), a batch at a
//! time, each writing its own exports; the shared files (filings, enrollment, year-to-date,
//! the expectations) are appended batch by batch in hospital order, so memory stays bounded
//! by a batch and a national month streams to disk.

pub mod after;
pub mod cases;
pub mod reference;
pub mod text;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rayon::prelude::*;

use crate::error::{ConfigError, OutputError};
use crate::exit::ExitStatus;
use crate::progress::Progress;
use cases::{Agg, Chunk, Shared};
use reference::FileEncoding;

/// Preset sizes (SPEC §11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    /// About 400 settlements at 12 hospitals: every planted rule, small enough to read.
    Tiny,
    /// About 50 000 settlements.
    City,
    /// About 1 million settlements, 20 million fee lines, 3 million filings.
    Province,
    /// About 20 million settlements and 300 million fee lines.
    National,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Plan {
    pub year: i32,
    pub month: u32,
    pub seed: u64,
    pub hospitals: usize,
    pub settlements: usize,
    /// Pooling areas per province (besides the provincial pool).
    pub cities: usize,
    pub items: usize,
    /// Filings of persons who did not settle this month, per case.
    pub noise_filings: usize,
    /// One case in this many plants an anomaly.
    pub anomaly_period: usize,
    /// Fee lines of an inpatient stay, at least and at most.
    pub ip_lines: (usize, usize),
}

impl Plan {
    pub fn new(scale: Scale, year: i32, month: u32, seed: u64) -> Plan {
        let (hospitals, settlements, cities, items, noise_filings, anomaly_period, ip_lines) =
            match scale {
                Scale::Tiny => (12, 400, 2, 80, 1, 3, (5, 20)),
                Scale::City => (150, 50_000, 4, 600, 2, 40, (60, 300)),
                Scale::Province => (2_000, 1_000_000, 6, 2_000, 2, 100, (100, 440)),
                Scale::National => (40_000, 20_000_000, 12, 4_000, 2, 100, (60, 314)),
            };
        Plan {
            year,
            month,
            seed,
            hospitals,
            settlements,
            cities,
            items,
            noise_filings,
            anomaly_period,
            ip_lines,
        }
    }

    pub fn first_day(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a checked month")
    }

    pub fn last_day(&self) -> NaiveDate {
        let (y, m) = if self.month == 12 {
            (self.year + 1, 1)
        } else {
            (self.year, self.month + 1)
        };
        NaiveDate::from_ymd_opt(y, m, 1).expect("a real month") - chrono::Days::new(1)
    }

    pub fn month_name(&self) -> String {
        format!("{}-{:02}", self.year, self.month)
    }

    pub fn cases_per_hospital(&self, h: usize) -> usize {
        self.settlements / self.hospitals + usize::from(h < self.settlements % self.hospitals)
    }
}

/// What `yidi generate` was asked, checked.
#[derive(Debug, Clone)]
pub struct Options {
    pub plan: Plan,
    pub out: PathBuf,
    pub force: bool,
    /// `--after RUN`: the month after a finished run, with its ledger's events (SPEC §13).
    pub after: Option<PathBuf>,
}

/// What was written.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Written {
    pub month_dir: String,
    pub expected_dir: String,
    pub hospitals: u64,
    pub settlements: u64,
    pub fee_lines: u64,
    pub filings: u64,
    pub findings: u64,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> OutputError + '_ {
    move |e| OutputError::io(path, e)
}

fn create(path: &Path) -> Result<BufWriter<File>, OutputError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    Ok(BufWriter::with_capacity(
        1 << 20,
        File::create(path).map_err(io(path))?,
    ))
}

fn write_file(path: &Path, text: &str, encoding: FileEncoding) -> Result<(), OutputError> {
    let mut out = create(path)?;
    match encoding {
        FileEncoding::Utf8 => out.write_all(text.as_bytes()),
        FileEncoding::Utf8Bom => out
            .write_all(b"\xEF\xBB\xBF")
            .and_then(|()| out.write_all(text.as_bytes())),
        FileEncoding::Gbk => {
            let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
            assert!(!unmappable, "generated text is all in GBK");
            out.write_all(&bytes)
        }
    }
    .and_then(|()| out.flush())
    .map_err(io(path))
}

/// A shared file, appended batch by batch.
struct Appender {
    path: PathBuf,
    out: BufWriter<File>,
}

impl Appender {
    fn new(path: PathBuf, header: &str, bom: bool) -> Result<Appender, OutputError> {
        let mut out = create(&path)?;
        if bom {
            out.write_all(b"\xEF\xBB\xBF").map_err(io(&path))?;
        }
        out.write_all(header.as_bytes()).map_err(io(&path))?;
        Ok(Appender { path, out })
    }
    fn push(&mut self, text: &str) -> Result<(), OutputError> {
        self.out.write_all(text.as_bytes()).map_err(io(&self.path))
    }
    fn finish(mut self) -> Result<(), OutputError> {
        self.out.flush().map_err(io(&self.path))
    }
}

pub fn generate(options: &Options, progress: &Progress) -> anyhow::Result<Written> {
    let plan = &options.plan;
    let name = plan.month_name();
    let month_dir = options.out.join(&name);
    let expected_dir = options.out.join(format!("{name}.expected"));
    for dir in [&month_dir, &expected_dir] {
        if dir.exists() {
            if !options.force {
                return Err(ConfigError::Usage(format!(
                    "{}: already exists; pass --force to replace it",
                    dir.display()
                ))
                .into());
            }
            std::fs::remove_dir_all(dir).map_err(io(dir))?;
        }
    }
    let stage = progress.stage("generate", plan.hospitals as u64, "hospitals");
    let hospitals = reference::hospitals(plan);
    let items = reference::items(plan);
    let policy = reference::policy(plan);
    let refdir = month_dir.join("reference");
    for (name, text) in [
        ("regions.csv", reference::regions_csv(plan)),
        ("hospitals.csv", reference::hospitals_csv(&hospitals)),
        ("catalogue.csv", reference::catalogue_csv(&items)),
        ("policy.csv", reference::policy_csv(&policy)),
        ("opsp_diseases.csv", reference::diseases_csv()),
    ] {
        write_file(&refdir.join(name), &text, FileEncoding::Utf8)?;
    }

    let shared = Shared {
        plan,
        items: &items,
        policy: &policy,
    };
    let mut filings = Appender::new(month_dir.join("filings.csv"), cases::FILINGS_HEADER, false)?;
    let mut enrollment = Appender::new(
        month_dir.join("enrollment.csv"),
        cases::ENROLLMENT_HEADER,
        false,
    )?;
    let mut ytd = Appender::new(month_dir.join("ytd.csv"), cases::YTD_HEADER, false)?;
    let mut findings = Appender::new(
        expected_dir.join("findings.csv"),
        cases::FINDINGS_HEADER,
        true,
    )?;
    let mut settlements = Appender::new(
        expected_dir.join("settlements.csv"),
        cases::SETTLEMENTS_HEADER,
        true,
    )?;
    let mut clearing: BTreeMap<(String, String, String), Agg> = BTreeMap::new();
    let mut written = Written {
        month_dir: month_dir.display().to_string(),
        expected_dir: expected_dir.display().to_string(),
        hospitals: hospitals.len() as u64,
        ..Written::default()
    };
    let batch = (rayon::current_num_threads() * 8).max(8);
    for block in hospitals.chunks(batch) {
        let chunks: Vec<Chunk> = block
            .par_iter()
            .map(|h| -> Result<Chunk, OutputError> {
                let mut chunk = cases::generate(&shared, h);
                let dir = month_dir.join("exports").join(&h.code);
                write_file(&dir.join("setlinfo.csv"), &chunk.setlinfo, h.encoding)?;
                write_file(&dir.join("feedetail.csv"), &chunk.feedetail, h.encoding)?;
                if let Some(summary) = &chunk.summary {
                    write_file(&dir.join("summary.csv"), summary, h.encoding)?;
                }
                chunk.setlinfo = String::new();
                chunk.feedetail = String::new();
                chunk.summary = None;
                Ok(chunk)
            })
            .collect::<Result<_, _>>()?;
        for chunk in chunks {
            filings.push(&chunk.filings)?;
            enrollment.push(&chunk.enrollment)?;
            ytd.push(&chunk.ytd)?;
            findings.push(&chunk.findings)?;
            settlements.push(&chunk.settlements)?;
            written.settlements += chunk.settlement_rows;
            written.fee_lines += chunk.fee_lines;
            written.filings += chunk.filing_rows;
            written.findings += chunk.findings.lines().count() as u64;
            for (key, agg) in chunk.clearing {
                clearing.entry(key).or_default().add(&agg);
            }
        }
        stage.inc(block.len() as u64);
    }
    for appender in [filings, enrollment, ytd, findings, settlements] {
        appender.finish()?;
    }
    write_clearing(&expected_dir, &clearing)?;
    stage.finish(&format!(
        "{} hospitals, {} settlement rows, {} fee lines, {} filings, {} expected findings",
        written.hospitals,
        written.settlements,
        written.fee_lines,
        written.filings,
        written.findings
    ));
    Ok(written)
}

const CLEARING_COLUMNS: &str = "setl_cnt,psn_cnt,reversed_cnt,medfee_sumamt,hifp_pay,hifmi_pay,hifob_pay,maf_pay,oth_fund_pay,fund_pay_sumamt,acct_pay,psn_cash_pay,held_amount,disputed_amount,cleared_amount";

fn agg_columns(agg: &Agg) -> String {
    let mut text = format!("{},{},{}", agg.setl_cnt, agg.persons, agg.reversed_cnt);
    for v in agg.money {
        text.push(',');
        text.push_str(&text::money(v));
    }
    text
}

/// The expected clearing tables, in the run's own format (so they compare byte for byte).
fn write_clearing(
    dir: &Path,
    by_area: &BTreeMap<(String, String, String), Agg>,
) -> Result<(), OutputError> {
    let mut area = format!("\u{feff}insuplc_admdvs,fix_blng_admdvs,clr_type,{CLEARING_COLUMNS}\n");
    let mut by_province: BTreeMap<(String, String), Agg> = BTreeMap::new();
    for ((insured, treatment, clr_type), agg) in by_area {
        area.push_str(&format!(
            "{insured},{treatment},{clr_type},{}\n",
            agg_columns(agg)
        ));
        by_province
            .entry((insured[..2].to_owned(), treatment[..2].to_owned()))
            .or_default()
            .add(agg);
    }
    let mut province = format!("\u{feff}insured_prov,treatment_prov,scope,{CLEARING_COLUMNS}\n");
    let mut net: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for ((insured, treatment), agg) in &by_province {
        let scope = if insured == treatment {
            "intra"
        } else {
            "inter"
        };
        province.push_str(&format!(
            "{insured},{treatment},{scope},{}\n",
            agg_columns(agg)
        ));
        if insured != treatment {
            let cleared = agg.money[11];
            net.entry(treatment).or_default().0 += cleared;
            net.entry(insured).or_default().1 += cleared;
        }
    }
    // A single month releases nothing from the ledger (SPEC §13): net_due = net.
    let mut nets = String::from(
        "\u{feff}prov,receivable,payable,net,released_receivable,released_payable,net_due\n",
    );
    for (prov, (receivable, payable)) in net {
        nets.push_str(&format!(
            "{prov},{},{},{},0.00,0.00,{}\n",
            text::money(receivable),
            text::money(payable),
            text::money(receivable - payable),
            text::money(receivable - payable)
        ));
    }
    write_file(&dir.join("clearing_by_area.csv"), &area, FileEncoding::Utf8)?;
    write_file(
        &dir.join("clearing_by_province.csv"),
        &province,
        FileEncoding::Utf8,
    )?;
    write_file(&dir.join("province_net.csv"), &nets, FileEncoding::Utf8)?;
    Ok(())
}

/// `yidi generate` from the command line.
pub fn run(options: &Options, progress: &Progress) -> anyhow::Result<ExitStatus> {
    if let Some(run_dir) = &options.after {
        let (month, expected) =
            after::generate_after(run_dir, &options.out, options.plan.seed, options.force)?;
        progress.message(&format!(
            "{}: the month after {}, its ledger's events planted; expected results in {}",
            month.display(),
            run_dir.display(),
            expected.display()
        ));
        return Ok(ExitStatus::Success);
    }
    let written = generate(options, progress)?;
    progress.message(&format!(
        "{}: {} settlement rows, {} fee lines, {} filings; expected results in {}",
        written.month_dir,
        written.settlements,
        written.fee_lines,
        written.filings,
        written.expected_dir
    ));
    Ok(ExitStatus::Success)
}
