//! Exit statuses (SPEC §10), one enum mapped in one place.

use crate::error::{ConfigError, InputError, LockHeld, OutputError, QueryError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitStatus {
    /// Done.
    Success = 0,
    /// Done, with findings at or above the `--fail-on` level (validate: rows were rejected).
    Findings = 1,
    /// Usage or configuration error.
    Usage = 2,
    /// Input error: a missing file or column, a file that is not text.
    Input = 3,
    /// The results could not be written.
    Output = 4,
    /// Another run holds the lock of the output month.
    Locked = 5,
    /// Done, but one or more hospital directories were set aside (SPEC §3): the results
    /// are incomplete.
    SetAside = 6,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The status of a finished command: 6 when directories were set aside, whatever the
    /// findings (SPEC §10: 6 wins over 0 and 1).
    pub fn finished(findings: ExitStatus, set_aside: bool) -> ExitStatus {
        if set_aside {
            ExitStatus::SetAside
        } else {
            findings
        }
    }

    /// Whether the command stopped because the reader of its output went away: such a
    /// command ends quietly, as Unix tools do (SPEC §10).
    pub fn is_closed_pipe(error: &anyhow::Error) -> bool {
        error.chain().any(|cause| {
            let broken = |e: &std::io::Error| e.kind() == std::io::ErrorKind::BrokenPipe;
            cause.downcast_ref::<std::io::Error>().is_some_and(broken)
                || cause
                    .downcast_ref::<csv::Error>()
                    .is_some_and(|e| matches!(e.kind(), csv::ErrorKind::Io(io) if broken(io)))
                || cause.downcast_ref::<polars::prelude::PolarsError>().is_some_and(
                    |e| matches!(e, polars::prelude::PolarsError::IO { error, .. } if broken(error)),
                )
                || cause
                    .downcast_ref::<OutputError>()
                    .is_some_and(|e| e.pipe_closed)
        })
    }

    /// The status of an error that stopped a command.
    pub fn of_error(error: &anyhow::Error) -> ExitStatus {
        for cause in error.chain() {
            if cause.is::<InputError>() {
                return ExitStatus::Input;
            }
            if cause.is::<ConfigError>() {
                return ExitStatus::Usage;
            }
            if cause.is::<OutputError>() {
                return ExitStatus::Output;
            }
            if let Some(query) = cause.downcast_ref::<QueryError>() {
                return match query {
                    QueryError::NoRun { .. }
                    | QueryError::NotARun { .. }
                    | QueryError::Incomplete { .. } => ExitStatus::Input,
                    _ => ExitStatus::Usage,
                };
            }
            if cause.is::<LockHeld>() {
                return ExitStatus::Locked;
            }
        }
        ExitStatus::Output
    }
}
