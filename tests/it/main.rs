//! The integration tests, one binary. What belongs where:
//! - `util`: temporary month directories built from `sample_data/`, and helpers to edit them.
//! - `ingest`: ingestion through the library — malformed values, rejects and their
//!   counts, hospital order not mattering; `ingest_files`: encodings, and CSV and Parquet
//!   giving the same frames.
//! - `matching`: settlements against filings — tie-breaks, the order of reasons, areas.
//! - `payment`: §6's year-to-date accumulation against a decimal reference, and the money
//!   laws of the settlements table over random corruptions and hospital orders.
//! - `rules`: one fixture per rule (`tests/fixtures/rules/<CODE>.txt`), each a test of the
//!   rule's name (`cargo test --release FIL002`) run with that rule alone, its finding texts in
//!   both languages under an insta snapshot (`snapshots/it__rules__<CODE>.snap`); and the
//!   registry's meta-tests (documentation, fixture, a test of its name, unique code).
//! - `sample`: the bundled month gives exactly the findings its README documents, and
//!   reruns are byte-identical.
//! - `browser`: the reports rendered in headless Chromium stay within four screens and the
//!   page width (the sample month, a generated city month in Chinese and English).
//! - `cli`: the `yidi` binary end to end — the README's run on the sample month, `validate`,
//!   exit statuses, the manifest, and bad input that must never panic.
//! - `unattended`: cron-grade behaviour — runs killed at each point leave whole results,
//!   the month lock, every exit status, log lines off a terminal.
//! - `generate`: `yidi generate` — a tiny month gives exactly its expected results, plants
//!   every rule, and the same seed writes the same bytes.
//! - `ledger`: across months (SPEC §13) — the sample's 2026-11 continuing 2026-10: events,
//!   amounts, the balance, a missing previous month, reruns, overdue entries.
//! - `steps`: a month in steps (SPEC §14) — split, check and merge give the run's tables
//!   byte for byte for any size, slicing and grouping, and across months; refusals; reruns.
//! - `deploy`: the Kubernetes Jobs and Slurm scripts of `deploy/`, and `scripts/steps.sh`,
//!   run as the engines would on the sample month, give the run's tables.
//! - `query`: `yidi query` — every table registered, every output format, every error.
//! - `robust`: one broken file never stops the month — directories set aside, values too
//!   long, late NUL bytes, physical lines on the streamed registry, cut pipes, `query
//!   --output` written whole.
//! - `layers`: every import in `src/` runs down the README's layer map (no circle, none
//!   running back up) and no source file is over 600 lines.
//! - `fuzz`: random damage to every kind of input file never panics, exits only as SPEC
//!   §10 allows, and the counts add up (`YIDI_FUZZ_CASES` sets how many cases).

mod browser;
mod cli;
mod deploy;
mod fuzz;
mod generate;
mod ingest;
mod ingest_files;
mod layers;
mod ledger;
mod matching;
mod payment;
mod query;
mod robust;
mod rules;
mod sample;
mod steps;
mod unattended;
mod util;
