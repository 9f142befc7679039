//! `yidi generate --after RUN`: the month after a finished run, planting what happens to its
//! ledger (SPEC §13) — decisions that pay (in whole and in part) and refuse, reversals of
//! held, deducted and closed entries, settlements uploaded again, decisions that must be
//! rejected — and, in `<out>/<YYYY-MM>.expected/`, what the next run must give: its ledger,
//! events and releases, the findings and settlement rows of the planted rows, and
//! `province_net`.
//!
//! The expectations follow SPEC §13 on their own, from the previous run's `ledger.csv`;
//! only the filing registry's findings (REG001–REG003), which do not change with the month,
//! are carried from the previous run. Entries age past their limits only over months: a
//! sequence of runs shows `overdue` when it is long enough.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::error::{ConfigError, OutputError};
use crate::ledger::{Entry, Event, Kind, Ledger, months_between};
use crate::model::prov;
use crate::units::format_money as money;

use super::cases::{FEEDETAIL_HEADER, SETLINFO_HEADER};
use super::reference::FileEncoding;
use super::write_file;

/// What happens to an entry in the month after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plant {
    Nothing,
    Pay,
    PayPart,
    Refuse,
    Reverse,
    Upload,
}

/// A deterministic choice from the seed and the entry's key (FNV-1a).
fn choose(seed: u64, key: &str, open: bool) -> Plant {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    match (open, h % 10) {
        (true, 0 | 1) => Plant::Pay,
        (true, 2) => Plant::PayPart,
        (true, 3) => Plant::Refuse,
        (true, 4) => Plant::Reverse,
        (true, 5) => Plant::Upload,
        (false, 0) => Plant::Reverse,
        _ => Plant::Nothing,
    }
}

/// A planted settlement row and what its run must make of it.
struct Row {
    hospital: String,
    setl_id: String,
    entry: Entry,
    reversal: bool,
    /// Its `fund_pay_sumamt` (negative for a reversal).
    fund: i64,
}

/// Writes the month after the run in `run_dir` into `out`.
pub fn generate_after(
    run_dir: &Path,
    out: &Path,
    seed: u64,
    force: bool,
) -> anyhow::Result<(PathBuf, PathBuf)> {
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(run_dir.join("manifest.json"))
            .map_err(|e| ConfigError::Usage(format!("--after {}: {e}", run_dir.display())))?,
    )?;
    let (Some(previous), Some(month_dir)) =
        (manifest["month"].as_str(), manifest["month_dir"].as_str())
    else {
        return Err(ConfigError::Usage(format!(
            "--after {}: not a finished run's month directory",
            run_dir.display()
        ))
        .into());
    };
    if crate::units::parse_month(previous).is_none() {
        return Err(ConfigError::Usage(format!("--after: bad month {previous}")).into());
    }
    let month = crate::ledger::month_after(previous);
    let ledger_path = run_dir.join("ledger.csv");
    let ledger = crate::ledger::previous::parse(&ledger_path, &std::fs::read(&ledger_path)?)?;
    let target = out.join(&month);
    let expected = out.join(format!("{month}.expected"));
    for dir in [&target, &expected] {
        if dir.exists() {
            if !force {
                return Err(ConfigError::Usage(format!(
                    "{} exists; pass --force to replace it",
                    dir.display()
                ))
                .into());
            }
            std::fs::remove_dir_all(dir).map_err(|e| OutputError::io(dir, e))?;
        }
    }
    let from = Path::new(month_dir);
    copy_common(from, &target)?;

    let plan = plant(&ledger, seed, &month);
    write_exports(&target, &month, &plan.rows)?;
    write_file(
        &target.join("decisions.csv"),
        &plan.decisions,
        FileEncoding::Utf8,
    )?;
    std::fs::create_dir_all(&expected).map_err(|e| OutputError::io(&expected, e))?;
    write_expected(&expected, &month, &ledger, &plan, run_dir)?;
    Ok((target, expected))
}

/// The reference files, filings, enrollment and year-to-date of the month before.
fn copy_common(from: &Path, to: &Path) -> Result<(), OutputError> {
    std::fs::create_dir_all(to.join("reference")).map_err(|e| OutputError::io(to, e))?;
    for entry in std::fs::read_dir(from.join("reference")).map_err(|e| OutputError::io(from, e))? {
        let entry = entry.map_err(|e| OutputError::io(from, e))?;
        std::fs::copy(entry.path(), to.join("reference").join(entry.file_name()))
            .map_err(|e| OutputError::io(entry.path(), e))?;
    }
    for name in ["filings.csv", "enrollment.csv", "ytd.csv"] {
        if from.join(name).is_file() {
            std::fs::copy(from.join(name), to.join(name))
                .map_err(|e| OutputError::io(from.join(name), e))?;
        }
    }
    Ok(())
}

/// What the month after holds: planted rows, decisions, and the expected events.
struct Planted {
    rows: Vec<Row>,
    decisions: String,
    /// Per key: the action on the entry.
    actions: BTreeMap<(String, String), Plant>,
}

/// What happens this month to each entry: chosen by the seed, the month and the key, so
/// each month of a sequence plants anew.
fn plant(ledger: &Ledger, seed: u64, month: &str) -> Planted {
    let mut rows = Vec::new();
    let mut actions = BTreeMap::new();
    let mut decisions =
        String::from("fixmedins_code,setl_id,decision,amount,decided_by,decided_at,note\n");
    let mut first_hold: Option<&Entry> = None;
    for (n, entry) in ledger.entries.values().enumerate() {
        let key = format!("{month}/{}/{}", entry.fixmedins_code, entry.setl_id);
        let open = entry.kind != Kind::Closed;
        let action = if entry.is_reversed() {
            Plant::Nothing
        } else {
            choose(seed, &key, open)
        };
        let decide = |decisions: &mut String, what: &str, amount: Option<i64>| {
            let _ = writeln!(
                decisions,
                "{},{},{what},{},G{:03},2026-01-01 00:00:00,planted",
                entry.fixmedins_code,
                entry.setl_id,
                amount.map(money).unwrap_or_default(),
                n % 1000
            );
        };
        let may = match entry.kind {
            Kind::Hold => entry.amount - entry.deductions,
            _ => entry.amount,
        };
        match action {
            Plant::Pay => decide(&mut decisions, "pay", None),
            Plant::PayPart => decide(&mut decisions, "pay", Some(may / 2)),
            Plant::Refuse => decide(&mut decisions, "refuse", None),
            Plant::Reverse | Plant::Upload => rows.push(Row {
                hospital: entry.fixmedins_code.to_string(),
                setl_id: match action {
                    Plant::Reverse => format!("RV{}", entry.setl_id),
                    _ => entry.setl_id.to_string(),
                },
                entry: entry.clone(),
                reversal: action == Plant::Reverse,
                fund: match action {
                    Plant::Reverse => -entry.fund_pay_sumamt,
                    _ => entry.fund_pay_sumamt,
                },
            }),
            Plant::Nothing => {}
        }
        if action == Plant::Nothing && entry.kind == Kind::Hold && first_hold.is_none() {
            first_hold = Some(entry);
        }
        actions.insert(
            (entry.fixmedins_code.to_string(), entry.setl_id.to_string()),
            action,
        );
    }
    // Decisions the run must reject: a key with no entry, and one paying too much.
    let _ = writeln!(
        decisions,
        "H00000000000,NO-SUCH-SETTLEMENT,pay,,G999,2026-01-01 00:00:00,rejected: no entry"
    );
    if let Some(entry) = first_hold {
        let _ = writeln!(
            decisions,
            "{},{},pay,{},G999,2026-01-01 00:00:00,rejected: too much",
            entry.fixmedins_code,
            entry.setl_id,
            money(entry.amount + 1)
        );
    }
    Planted {
        rows,
        decisions,
        actions,
    }
}

/// Each planted row in its hospital's export (every hospital directory has both files).
fn write_exports(target: &Path, month: &str, rows: &[Row]) -> Result<(), OutputError> {
    let mut by_hospital: BTreeMap<&str, String> = BTreeMap::new();
    for row in rows {
        let e = &row.entry;
        let med_type = if e.clr_type == "21" { "21" } else { "11" };
        let f = money(row.fund);
        let text = by_hospital
            .entry(&row.hospital)
            .or_insert_with(|| SETLINFO_HEADER.to_owned());
        let _ = writeln!(
            text,
            "{},M{},{},,,310,{},{},{},{med_type},{},0,{month}-01,{month}-01,{month}-05 10:00:00,,,{f},0.00,0.00,0.00,{f},0.00,{f},0.00,0.00,0.00,0.00,0.00,0.00,{f},0.00,0.00,0.00,0.00,{},{}",
            row.setl_id,
            row.setl_id,
            e.psn_no,
            e.insuplc_admdvs,
            e.fixmedins_code,
            e.fix_blng_admdvs,
            e.clr_type,
            u8::from(row.reversal),
            if row.reversal { e.setl_id.as_str() } else { "" }
        );
    }
    if by_hospital.is_empty() {
        // A month has a hospital: an empty export.
        by_hospital.insert("H00000000001", SETLINFO_HEADER.to_owned());
    }
    for (hospital, text) in by_hospital {
        let dir = target.join("exports").join(hospital);
        std::fs::create_dir_all(&dir).map_err(|e| OutputError::io(&dir, e))?;
        write_file(&dir.join("setlinfo.csv"), &text, FileEncoding::Utf8)?;
        write_file(
            &dir.join("feedetail.csv"),
            FEEDETAIL_HEADER,
            FileEncoding::Utf8,
        )?;
    }
    Ok(())
}

/// The expected tables of the month after (SPEC §13), from the ledger before it.
fn write_expected(
    dir: &Path,
    month: &str,
    ledger: &Ledger,
    plan: &Planted,
    run_dir: &Path,
) -> Result<(), OutputError> {
    let mut next: BTreeMap<(String, String), Entry> = BTreeMap::new();
    let mut events = String::from(
        "fixmedins_code,setl_id,insuplc_admdvs,fix_blng_admdvs,kind,event,settled,released_amount\n",
    );
    let mut releases: BTreeMap<(String, String), (u64, i64)> = BTreeMap::new();
    let mut event = |e: &Entry, ev: Event, released: i64| {
        let _ = writeln!(
            events,
            "{},{},{},{},{},{},{},{}",
            e.fixmedins_code,
            e.setl_id,
            e.insuplc_admdvs,
            e.fix_blng_admdvs,
            e.kind.name(),
            ev.name(),
            money(e.amount),
            money(released)
        );
    };
    for entry in ledger.entries.values() {
        let key = (entry.fixmedins_code.to_string(), entry.setl_id.to_string());
        let mut e = entry.clone();
        let close = |e: &mut Entry, ev: Event| {
            e.kind = Kind::Closed;
            e.amount = 0;
            e.last_event = Some(ev);
            e.last_event_month = Some(month.to_owned());
        };
        let may = match e.kind {
            Kind::Hold => e.amount - e.deductions,
            _ => e.amount,
        };
        match plan.actions.get(&key).copied().unwrap_or(Plant::Nothing) {
            Plant::Reverse => {
                event(&e, Event::Reversed, 0);
                close(&mut e, Event::Reversed);
            }
            action @ (Plant::Pay | Plant::PayPart) => {
                let released = if action == Plant::Pay { may } else { may / 2 };
                event(&e, Event::Paid, released);
                e.paid += released;
                let pair = (
                    prov(&e.insuplc_admdvs).to_owned(),
                    prov(&e.fix_blng_admdvs).to_owned(),
                );
                let total = releases.entry(pair).or_default();
                total.0 += 1;
                total.1 += released;
                let (kind, deductions) = (e.kind, e.deductions);
                close(&mut e, Event::Paid);
                if kind == Kind::Hold && deductions > 0 {
                    e.kind = Kind::Deduct;
                    e.amount = deductions;
                    e.since = month.to_owned();
                }
            }
            Plant::Refuse => {
                let ev = if e.kind == Kind::Hold {
                    Event::Refused
                } else {
                    Event::Upheld
                };
                event(&e, ev, 0);
                close(&mut e, ev);
            }
            Plant::Nothing | Plant::Upload => {}
        }
        let gone = e.kind == Kind::Closed
            && e.last_event_month
                .as_deref()
                .is_some_and(|last| months_between(last, month) >= 12);
        if !gone {
            next.insert(key, e);
        }
    }
    // The ledger as the month leaves it (no entry opens: the planted rows are reversals
    // and re-uploads).
    let mut text = format!("{}\n", crate::ledger::LEDGER_COLUMNS.join(","));
    for e in next.values() {
        let open = months_between(&e.since, month);
        let overdue = match e.kind {
            Kind::Hold => open >= 6,
            Kind::Deduct => open >= 3,
            Kind::Closed => false,
        };
        let _ = writeln!(
            text,
            "{},{},{},{},{},{},{},{},{open},{},{},{},{},{},{},{},{},{}",
            e.fixmedins_code,
            e.setl_id,
            e.psn_no,
            e.insuplc_admdvs,
            e.fix_blng_admdvs,
            e.clr_type,
            e.first_month,
            e.since,
            e.kind.name(),
            money(e.amount),
            money(e.fund_pay_sumamt),
            money(e.paid),
            money(e.deductions),
            e.rules,
            u8::from(overdue),
            e.last_event.map(|v| v.name()).unwrap_or_default(),
            e.last_event_month.clone().unwrap_or_default()
        );
    }
    write_file(&dir.join("ledger.csv"), &text, FileEncoding::Utf8)?;
    write_file(&dir.join("ledger_events.csv"), &events, FileEncoding::Utf8)?;

    // The planted rows: settlements, DUP004 findings, and the clearing they make.
    let mut settlements = String::from(
        "fixmedins_code,setl_id,refd_setl_flag,psn_no,insuplc_admdvs,fix_blng_admdvs,status,disputed_amount,held_amount,cleared_amount\n",
    );
    let mut findings = String::from("rule,level,fixmedins_code,setl_id,psn_no,amount\n");
    // Province → (receivable, payable) of cross-province pairs.
    let mut nets: BTreeMap<String, [i64; 4]> = BTreeMap::new();
    for row in &plan.rows {
        let e = &row.entry;
        let (status, disputed, held, cleared) = match (row.reversal, e.paid) {
            (true, 0) => ("reversed", 0, 0, 0),
            (true, paid) => ("cleared", row.fund + paid, 0, -paid),
            (false, _) => ("held", 0, row.fund, 0),
        };
        let _ = writeln!(
            settlements,
            "{},{},{},{},{},{},{status},{},{},{}",
            row.hospital,
            row.setl_id,
            u8::from(row.reversal),
            e.psn_no,
            e.insuplc_admdvs,
            e.fix_blng_admdvs,
            money(disputed),
            money(held),
            money(cleared)
        );
        if !row.reversal {
            let _ = writeln!(
                findings,
                "DUP004,hold,{},{},{},{}",
                row.hospital,
                row.setl_id,
                e.psn_no,
                money(row.fund)
            );
        }
        let (insured, treatment) = (prov(&e.insuplc_admdvs), prov(&e.fix_blng_admdvs));
        if insured != treatment {
            nets.entry(treatment.to_owned()).or_default()[0] += cleared;
            nets.entry(insured.to_owned()).or_default()[1] += cleared;
        }
    }
    // The registry's findings do not change with the month.
    let previous_findings = std::fs::read_to_string(run_dir.join("findings.csv"))
        .map_err(|e| OutputError::io(run_dir.join("findings.csv"), e))?;
    let mut reader =
        csv::Reader::from_reader(previous_findings.trim_start_matches('\u{feff}').as_bytes());
    for record in reader.records().flatten() {
        if record.get(0).is_some_and(|r| r.starts_with("REG")) {
            let _ = writeln!(findings, "{},{},,,{},", &record[0], &record[1], &record[6]);
        }
    }
    write_file(
        &dir.join("settlements.csv"),
        &settlements,
        FileEncoding::Utf8,
    )?;
    write_file(&dir.join("findings.csv"), &findings, FileEncoding::Utf8)?;

    let mut by_province =
        String::from("insured_prov,treatment_prov,scope,released_cnt,released_amount\n");
    for ((insured, treatment), (cnt, amount)) in &releases {
        let scope = if insured == treatment {
            "intra"
        } else {
            "inter"
        };
        let _ = writeln!(
            by_province,
            "{insured},{treatment},{scope},{cnt},{}",
            money(*amount)
        );
        if insured != treatment {
            nets.entry(treatment.clone()).or_default()[2] += amount;
            nets.entry(insured.clone()).or_default()[3] += amount;
        }
    }
    write_file(
        &dir.join("releases_by_province.csv"),
        &by_province,
        FileEncoding::Utf8,
    )?;
    let mut net =
        String::from("prov,receivable,payable,net,released_receivable,released_payable,net_due\n");
    for (p, v) in &nets {
        let _ = writeln!(
            net,
            "{p},{},{},{},{},{},{}",
            money(v[0]),
            money(v[1]),
            money(v[0] - v[1]),
            money(v[2]),
            money(v[3]),
            money(v[0] - v[1] + v[2] - v[3])
        );
    }
    write_file(&dir.join("province_net.csv"), &net, FileEncoding::Utf8)?;
    Ok(())
}
