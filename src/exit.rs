//! Exit statuses (SPEC §10), one enum mapped in one place.

use crate::error::{ConfigError, InputError, OutputError};

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
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        self as u8
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
            if let Some(query) = cause.downcast_ref::<crate::query::QueryError>() {
                return query.exit_status();
            }
            if cause.is::<crate::output::LockHeld>() {
                return ExitStatus::Locked;
            }
        }
        ExitStatus::Output
    }
}
