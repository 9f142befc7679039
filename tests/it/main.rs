//! The integration tests, one binary. What belongs where:
//! - `util`: temporary month directories built from `sample_data/`, and helpers to edit them.
//! - `ingest`: ingestion through the library — encodings, malformed values, rejects and
//!   their counts, CSV and Parquet giving the same frames, hospital order not mattering.
//! - `matching`: settlements against filings — tie-breaks, the order of reasons, areas.
//! - `payment`: §6's year-to-date accumulation against a decimal reference, and the money
//!   laws of the settlements table over random corruptions and hospital orders.
//! - `rules`: one fixture per rule (`tests/fixtures/rules/<CODE>.txt`) run with that rule
//!   alone, and the registry's meta-tests (documentation, fixture, unique code).
//! - `sample`: the bundled month gives exactly the findings its README documents, and
//!   reruns are byte-identical.
//! - `cli`: the `yidi` binary end to end — the README's run on the sample month, `validate`,
//!   exit statuses, the manifest, and bad input that must never panic.

mod cli;
mod ingest;
mod matching;
mod payment;
mod rules;
mod sample;
mod util;
