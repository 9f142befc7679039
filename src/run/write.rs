//! Writing a checked month: the typed inputs for analysts, the settlements a key range at a
//! time, the other tables and the ledger's (CSV and Parquet), and the reports.

use std::path::Path;

use polars::prelude::DataFrame;

use super::MonthOptions;
use super::check::Checked;
use crate::ingest::schema::input_scale;
use crate::ingest::{Month, Table};
use crate::output::key_ranges::KeyRanges;
use crate::output::staging::checkpoint;
use crate::output::{self, Manifest, OutputFile};
use crate::{clearing, report};
use crate::{ledger, ledger_update};

/// Writes the typed, masked input tables under `inputs/` for analysts' queries: every
/// table but the hospitals' settlements and fee lines and the filings, which were written
/// as they were read ([`partition::Spill`], [`partition::FilingSpill`]).
pub fn write_inputs(
    dir: &Path,
    month: &Month,
) -> Result<Vec<OutputFile>, crate::error::OutputError> {
    std::fs::create_dir_all(dir.join("inputs"))
        .map_err(|e| crate::error::OutputError::io(dir.join("inputs"), e))?;
    use rayon::prelude::*;
    Table::ALL
        .par_iter()
        .filter(|table| !matches!(table, Table::Setlinfo | Table::Feedetail | Table::Filings))
        .filter_map(|&table| month.table(table).map(|frame| (table, frame)))
        .map(|(table, frame)| {
            output::table::write_parquet(
                dir,
                &format!("inputs/{}", table.name()),
                frame,
                &input_scale(table),
                polars::prelude::ParquetCompression::Lz4Raw,
            )
        })
        .collect()
}

/// What the report shows of the ledger: pending money by kind and age, overdue, events.
fn ledger_view(update: &ledger_update::Update, options: &MonthOptions) -> report::html::LedgerView {
    let mut view = report::html::LedgerView::default();
    for entry in update.ledger.entries.values() {
        if entry.kind == ledger::Kind::Closed {
            continue;
        }
        let months = ledger_update::months_open(entry, &options.month);
        let cell = view
            .pending
            .entry((entry.kind.name(), report::html::age_bucket(months)))
            .or_default();
        cell.0 += 1;
        cell.1 += entry.amount;
        if ledger_update::is_overdue(entry, &options.month, &options.config) {
            view.overdue.0 += 1;
            view.overdue.1 += entry.amount;
        }
    }
    for event in &update.events {
        let cell = view.events.entry(event.event.name()).or_default();
        cell.0 += 1;
        cell.1 += event.settled;
        cell.2 += event.released_amount;
    }
    view
}

/// `report.html` and `report.xlsx` (with the first rows of the settlements, `head`, of
/// `settlement_rows` in all).
pub(super) fn write_reports(
    dir: &Path,
    checked: &Checked,
    head: &DataFrame,
    settlement_rows: usize,
    month: &Month,
    options: &MonthOptions,
) -> Result<Vec<OutputFile>, crate::error::OutputError> {
    use report::xlsx::Sheet;
    let counts = Manifest::row_counts(&month.files);
    let nets = checked.groups.province_net();
    let page = report::html::Page {
        month: &options.month,
        lang: options.lang,
        rows_read: counts.read,
        rejected: counts.rejected,
        statuses: &checked.statuses,
        totals: checked.totals(),
        flows: checked
            .groups
            .by_province
            .iter()
            .filter(|((a, b), _)| a != b)
            .map(|(k, t)| (k.clone(), t.money[clearing::CLEARING_MONEY.len() - 1]))
            .collect(),
        nets: &nets,
        findings: &checked.findings,
        region_names: &checked.region_names,
        hospital_names: &checked.hospital_names,
        releases: &checked.releases,
        set_aside: month.set_aside.len(),
        ledger: ledger_view(&checked.ledger, options),
    };
    let html_path = dir.join("report.html");
    std::fs::write(&html_path, report::html::render(&page))
        .map_err(|e| crate::error::OutputError::io(&html_path, e))?;
    let findings = output::findings_frame(&checked.findings)
        .map_err(|e| crate::error::OutputError::io(dir.join("report.xlsx"), e))?;
    let rejects = output::rejects_frame(&month.rejects, options.lang)
        .map_err(|e| crate::error::OutputError::io(dir.join("report.xlsx"), e))?;
    let no_scale = |_: &str| None;
    let mut sheets = vec![
        Sheet::of("findings", &findings, &output::findings_scale),
        Sheet {
            name: "settlements",
            frame: head,
            scale: &clearing::settlements_scale,
            rows: settlement_rows,
        },
    ];
    for (name, frame) in &checked.clearing {
        let scale: output::table::ScaleOf = if *name == "problems_by_hospital" {
            &output::findings_scale
        } else {
            &clearing::clearing_scale
        };
        sheets.push(Sheet::of(name, frame, scale));
    }
    let ledger = ledger_frames(checked, options)
        .map_err(|e| crate::error::OutputError::io(dir.join("report.xlsx"), e))?;
    for (name, frame) in &ledger {
        sheets.push(Sheet::of(name, frame, &ledger_update::tables::ledger_scale));
    }
    sheets.push(Sheet::of("rejects", &rejects, &no_scale));
    let xlsx_path = dir.join("report.xlsx");
    report::xlsx::write(&xlsx_path, &sheets)?;
    Ok(vec![
        output::table::describe(dir, &html_path, checked.findings.len())?,
        output::table::describe(dir, &xlsx_path, checked.findings.len())?,
    ])
}

/// The first rows of the `settlements` table (at most the workbook's [`report::xlsx::MAX_ROWS`]),
/// taken from the ranges ahead of their writing: the ranges they come from, whole, in order.
pub(super) struct SettlementsHead {
    pub head: DataFrame,
    pub taken: Vec<DataFrame>,
}

/// Takes the first ranges of the settlements until they hold the workbook's rows (the
/// first range, for a month of more than a few thousand settlements).
pub(super) fn settlements_head(
    dir: &Path,
    settlements: &mut KeyRanges,
) -> Result<SettlementsHead, crate::error::OutputError> {
    let first = settlements.take(0)?;
    let mut head = first.head(Some(report::xlsx::MAX_ROWS));
    let mut taken = vec![first];
    while head.height() < report::xlsx::MAX_ROWS && taken.len() < settlements.ranges() {
        let range = settlements.take(taken.len())?;
        let more = range.head(Some(report::xlsx::MAX_ROWS - head.height()));
        head.vstack_mut_owned(more)
            .map_err(|e| crate::error::OutputError::io(dir.join("settlements.csv"), e))?;
        taken.push(range);
    }
    Ok(SettlementsHead { head, taken })
}

/// The `settlements` table (SPEC §9), a key range at a time: the ranges `taken` ahead for
/// the workbook, then the rest.
pub(super) fn write_settlements(
    dir: &Path,
    settlements: &mut KeyRanges,
    taken: Vec<DataFrame>,
) -> Result<Vec<OutputFile>, crate::error::OutputError> {
    let from = taken.len();
    let mut taken = taken.into_iter();
    let first = taken.next().expect("the first range is taken ahead");
    let mut sink = output::table::TableSink::create(
        dir,
        "settlements",
        &first,
        &clearing::settlements_scale,
        true,
    )?;
    sink.push(&first)?;
    drop(first);
    for range in taken {
        sink.push(&range)?;
    }
    for k in from..settlements.ranges() {
        let range = settlements.take(k)?;
        sink.push(&range)?;
    }
    settlements.remove()?;
    sink.finish()
}

/// The month's tables (SPEC §9) but the settlements, and rejects, CSV and Parquet.
pub(super) fn write_tables(
    dir: &Path,
    checked: &Checked,
    month: &Month,
    options: &MonthOptions,
) -> Result<Vec<OutputFile>, crate::error::OutputError> {
    let lang = options.lang;
    let mut outputs = output::write_rejects(dir, &month.rejects, lang)?;
    let findings_frame = output::findings_frame(&checked.findings)
        .map_err(|e| crate::error::OutputError::io(dir.join("findings"), e))?;
    outputs.extend(output::table::write_table(
        dir,
        "findings",
        &findings_frame,
        &output::findings_scale,
        true,
    )?);
    checkpoint("writing");
    for (name, frame) in &checked.clearing {
        let scale = |column: &str| match *name {
            "problems_by_hospital" => output::findings_scale(column),
            _ => clearing::clearing_scale(column),
        };
        outputs.extend(output::table::write_table(dir, name, frame, &scale, true)?);
    }
    for (name, frame) in ledger_frames(checked, options)
        .map_err(|e| crate::error::OutputError::io(dir.join("ledger"), e))?
    {
        outputs.extend(output::table::write_table(
            dir,
            name,
            &frame,
            &ledger_update::tables::ledger_scale,
            true,
        )?);
    }
    Ok(outputs)
}

/// The ledger's tables of the month (SPEC §13).
fn ledger_frames(
    checked: &Checked,
    options: &MonthOptions,
) -> polars::prelude::PolarsResult<Vec<(&'static str, DataFrame)>> {
    use ledger_update::tables;
    let update = &checked.ledger;
    Ok(vec![
        (
            "ledger",
            tables::ledger_frame(update, &options.month, &options.config)?,
        ),
        ("ledger_events", tables::events_frame(update)?),
        ("releases_by_area", tables::releases_by_area_frame(update)?),
        (
            "releases_by_province",
            tables::releases_by_province_frame(&checked.releases)?,
        ),
    ])
}
