//! yidi — the monthly reconciliation and clearing pipeline for cross-province direct
//! settlement of medical insurance (跨省异地就医直接结算).
//!
//! The pipeline reads top to bottom, one module a stage: [`ingest`] turns a month
//! directory into typed frames and rejects; [`model`] gives the rules typed rows;
//! [`scope`] classifies each settlement row; [`matching`] matches settlements to filings;
//! [`payment`] recomputes the fund payment by the insured place's policy and attaches fee
//! lines; [`line_audit`] finds each line's catalogue row; [`rules`] finds what is wrong; [`output`] writes tables, rejects and the manifest
//! atomically. [`run`] and [`validate`] drive them for the command line.

pub mod budget;
pub mod clearing;
pub mod cli;
pub mod codes;
pub mod config;
pub mod error;
pub mod exit;
pub mod generate;
pub mod ingest;
pub mod ledger;
pub mod ledger_update;
pub mod line_audit;
pub mod mask;
pub mod matching;
pub mod model;
pub mod output;
pub mod partition;
pub mod payment;
pub mod progress;
pub mod query;
pub mod report;
pub mod rules;
pub mod run;
pub mod scope;
pub mod steps;
pub mod units;
pub mod validate;

/// The language of texts written for people (SPEC §9): Chinese for agency staff by default.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Zh,
    En,
}
