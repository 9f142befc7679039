//! `manifest.json`: what a run read, with what settings, what it wrote, and how it ended —
//! enough for agency IT to answer for every row and every file afterwards.

use std::path::Path;

use serde::Serialize;

use super::table::OutputFile;
use crate::config::Config;
use crate::error::OutputError;
use crate::exit::ExitStatus;
use crate::ingest::{DirMismatch, InputFile, SetAside};
use crate::progress::StageTiming;

#[derive(Debug, Clone, Serialize)]
pub struct RowCounts {
    pub read: u64,
    pub accepted: u64,
    pub rejected: u64,
}

/// Findings and the money they question, per rule.
#[derive(Debug, Clone, Serialize)]
pub struct RuleCount {
    pub rule: &'static str,
    pub cnt: u64,
    /// Yuan, 2 decimals.
    pub amount: String,
}

impl RuleCount {
    pub fn tally(findings: &[crate::rules::Finding]) -> Vec<RuleCount> {
        // Every rule, those that found nothing too, so that trends show the zeros.
        let mut by_rule: std::collections::BTreeMap<&'static str, (u64, i64)> = crate::rules::RULES
            .iter()
            .map(|r| (r.code, (0, 0)))
            .collect();
        for f in findings {
            let entry = by_rule.entry(f.rule).or_default();
            entry.0 += 1;
            entry.1 += f.amount.unwrap_or(0);
        }
        by_rule
            .into_iter()
            .map(|(rule, (cnt, fen))| RuleCount {
                rule,
                cnt,
                amount: crate::units::format_money(fen),
            })
            .collect()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub tool: &'static str,
    pub version: &'static str,
    pub command: String,
    pub arguments: Vec<String>,
    pub run_id: String,
    pub started: String,
    pub finished: String,
    pub month: String,
    pub month_dir: String,
    pub config: Config,
    pub config_hash: String,
    pub inputs: Vec<InputFile>,
    pub rows: RowCounts,
    pub hospital_dir_mismatches: Vec<DirMismatch>,
    /// Hospital directories set aside (SPEC §3), each with its reason: none of their rows
    /// reached the month.
    pub set_aside: Vec<SetAside>,
    /// Settlement rows per status (cleared, held, reversed, excluded).
    pub settlement_statuses: std::collections::BTreeMap<&'static str, u64>,
    pub findings: Vec<RuleCount>,
    pub outputs: Vec<OutputFile>,
    pub stage_timings: Vec<StageTiming>,
    /// A month done in steps (SPEC §14): each step, with its slice or provinces, host and
    /// times.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<serde_json::Value>,
    /// The ledger's step (SPEC §13): where the previous ledger came from, the balance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ledger: Option<LedgerRecord>,
    /// What the findings alone give under `--fail-on` (0 or 1; validate: the rejects),
    /// recorded beside the exit status that a set-aside directory may override.
    pub fail_on_status: ExitStatus,
    pub exit_status: ExitStatus,
    pub exit_code: u8,
}

/// The ledger's step of a run, as the manifest records it.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerRecord {
    pub previous: crate::ledger::previous::PreviousSource,
    /// Entries of the ledger as the month leaves it.
    pub entries: usize,
    pub events: usize,
    /// Per pending kind (`hold`, `deduct`): `start + opened = settled + now`, yuan.
    pub balance:
        std::collections::BTreeMap<&'static str, std::collections::BTreeMap<&'static str, String>>,
    /// Later months that already ran: rerun them in order after this one.
    pub later_months: Vec<String>,
}

impl LedgerRecord {
    pub fn new(
        previous: crate::ledger::previous::PreviousSource,
        update: &crate::ledger_update::Update,
        later_months: Vec<String>,
    ) -> LedgerRecord {
        let money = crate::units::format_money;
        let kind = |b: &crate::ledger_update::KindBalance| {
            [
                ("start", money(b.start)),
                ("opened", money(b.opened)),
                ("settled", money(b.settled)),
                ("now", money(b.now)),
            ]
            .into_iter()
            .collect()
        };
        LedgerRecord {
            previous,
            entries: update.ledger.entries.len(),
            events: update.events.len(),
            balance: [
                ("hold", kind(&update.balance.hold)),
                ("deduct", kind(&update.balance.deduct)),
            ]
            .into_iter()
            .collect(),
            later_months,
        }
    }
}

impl Manifest {
    /// A run id that sorts by time: `20261122T072054Z-<pid>`.
    pub fn run_id(now: chrono::DateTime<chrono::Utc>) -> String {
        format!("{}-{}", now.format("%Y%m%dT%H%M%SZ"), std::process::id())
    }

    pub fn row_counts(inputs: &[InputFile]) -> RowCounts {
        RowCounts {
            read: inputs.iter().map(|f| f.read).sum(),
            accepted: inputs.iter().map(|f| f.accepted).sum(),
            rejected: inputs.iter().map(|f| f.rejected).sum(),
        }
    }

    /// Writes `manifest.json` into `dir`, synced.
    pub fn write(&self, dir: &Path) -> Result<(), OutputError> {
        let path = dir.join("manifest.json");
        let json = serde_json::to_vec_pretty(self).map_err(|e| OutputError::io(&path, e))?;
        let write = || -> std::io::Result<()> {
            let mut file = std::fs::File::create(&path)?;
            std::io::Write::write_all(&mut file, &json)?;
            std::io::Write::write_all(&mut file, b"\n")?;
            file.sync_all()
        };
        write().map_err(|e| OutputError::io(&path, e))
    }
}
