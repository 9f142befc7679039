//! Room on the output's disk for a month's staging, looked at before the month is read.
//!
//! A run stages its results beside the target (see [`super::staging`]): the typed
//! `inputs/`, the filing registry's parts, the settlements' ranges and the tables. They
//! took 0.27 of the month's bytes on a province month (3.2 GB), 0.31 on a month of shorter
//! bills (1.8 GB) and 0.31 at their peak on the national month (50 GiB: 15.5 GiB). A disk
//! that fills stops the run with an output error (exit 4) after all the work before it —
//! on the national month, minutes of it — so a run warns at once when the disk has less
//! free than a third of the month's size. It is a warning: the share is an estimate, and
//! the run goes on.

use std::path::Path;

use crate::progress::size;

/// What a month's staging takes, at most about, of the month's bytes (one in three).
const STAGING_SHARE: u64 = 3;

/// The warning for the month in `month_dir` staged under `out` (an existing directory),
/// when its disk has less free than the staging is expected to take.
pub fn check_room(out: &Path, month_dir: &Path) -> Option<String> {
    let free = free_bytes(out)?;
    room_warning(out, month_bytes(month_dir), free)
}

/// The bytes of every file under `dir` (those that cannot be read count nothing: reading
/// the month reports them).
pub fn month_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => month_bytes(&entry.path()),
            _ => entry
                .metadata()
                .map_or(0, |m| if m.is_file() { m.len() } else { 0 }),
        })
        .sum()
}

/// The bytes an unprivileged process may still write on the filesystem of `dir`.
#[cfg(target_os = "linux")]
pub fn free_bytes(dir: &Path) -> Option<u64> {
    let stat = rustix::fs::statvfs(dir).ok()?;
    Some(stat.f_bavail.saturating_mul(stat.f_frsize))
}

#[cfg(not(target_os = "linux"))]
pub fn free_bytes(_: &Path) -> Option<u64> {
    None
}

/// The warning for a month of `month` bytes staged under `out`, where `free` bytes are left:
/// `None` while they hold a third of the month.
pub fn room_warning(out: &Path, month: u64, free: u64) -> Option<String> {
    let needed = month / STAGING_SHARE;
    (free < needed).then(|| {
        format!(
            "warning: {} has {} free; this month's files are {} and a run stages about a \
             third of that ({}) before its results are committed: it may stop with exit 4 \
             when the disk fills",
            out.display(),
            size(free),
            size(month),
            size(needed)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_warns_when_the_disk_holds_less_than_a_third_of_it() {
        let out = Path::new("out");
        let gib = 1u64 << 30;
        assert_eq!(room_warning(out, 30 * gib, 10 * gib), None);
        assert_eq!(room_warning(out, 30 * gib, 11 * gib), None);
        let warning = room_warning(out, 49 * gib, 9 * gib + gib / 2).expect("a warning");
        assert!(
            warning.contains("out has 9.5 GiB free")
                && warning.contains("49.0 GiB")
                && warning.contains("(16.3 GiB)")
                && warning.contains("exit 4"),
            "{warning}"
        );
        let small = room_warning(out, 120 << 20, 30 << 20).expect("a warning");
        assert!(
            small.contains("30 MiB free")
                && small.contains("120 MiB")
                && small.contains("(40 MiB)"),
            "{small}"
        );
    }

    #[test]
    fn a_month_is_the_bytes_of_every_file_under_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("exports/H1")).unwrap();
        std::fs::write(dir.path().join("filings.csv"), [b'x'; 100]).unwrap();
        std::fs::write(dir.path().join("exports/H1/setlinfo.csv"), [b'x'; 20]).unwrap();
        std::fs::write(dir.path().join("exports/H1/feedetail.csv"), [b'x'; 3]).unwrap();
        assert_eq!(month_bytes(dir.path()), 123);
        assert_eq!(month_bytes(&dir.path().join("missing")), 0);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_free_bytes_of_a_directory_are_known() {
        let dir = tempfile::tempdir().unwrap();
        assert!(free_bytes(dir.path()).is_some_and(|free| free > 0));
        assert_eq!(free_bytes(&dir.path().join("missing")), None);
    }
}
