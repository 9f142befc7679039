//! Asks the kernel to start reading the next batch of hospitals' files while this batch is
//! parsed.
//!
//! A hospital's export is a few small files, each read whole by one of the workers: from a
//! cold cache the worker waits for the disk, and its core idles. A national month (88 008
//! files, 49 GB, more than the page cache holds) read at 1.6× CPU in ingestion; the same
//! files from the cache at 1.8–1.9×. The advice (`POSIX_FADV_WILLNEED`) starts the reads and
//! returns; the workers then find the pages in the cache. One batch ahead is a sixteenth of
//! the budget in the page cache, not in the process.

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use super::schema::Table;

/// Starts, on a thread of its own, the reads of the export files (SPEC §2: each per-hospital
/// table's `.csv` or `.parquet`) in these hospital directories of `month_dir/exports/`; any
/// other file there is left alone. Join it (or drop it) when done: it only advises, and nothing it
/// meets (a directory gone, a file that cannot be opened) is an error here — the reader
/// meets it again and says so. `None` when no thread could be started: the month is read
/// without the advice.
pub(super) fn start(month_dir: &Path, dirs: &[String]) -> Option<JoinHandle<usize>> {
    let paths: Vec<PathBuf> = dirs
        .iter()
        .map(|dir| month_dir.join("exports").join(dir))
        .collect();
    std::thread::Builder::new()
        .name("readahead".into())
        .spawn(move || paths.iter().map(|dir| advise_dir(dir)).sum())
        .ok()
}

/// The number of files advised.
fn advise_dir(dir: &Path) -> usize {
    Table::ALL
        .into_iter()
        .filter(|table| table.per_hospital())
        .flat_map(|table| super::file::candidates(dir, table.stem()))
        .filter_map(|path| std::fs::File::open(path).ok())
        .filter(|file| file.metadata().is_ok_and(|m| m.is_file()))
        .filter(will_need)
        .count()
}

/// Whether the kernel took the advice (the whole file will be read).
#[cfg(target_os = "linux")]
fn will_need(file: &std::fs::File) -> bool {
    rustix::fs::fadvise(file, 0, None, rustix::fs::Advice::WillNeed).is_ok()
}

#[cfg(not(target_os = "linux"))]
fn will_need(_: &std::fs::File) -> bool {
    false
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn every_file_of_the_batch_is_advised_and_nothing_missing_fails() {
        let month = tempfile::tempdir().unwrap();
        let files = ["setlinfo.csv", "feedetail.parquet", "summary.csv"];
        for (dir, exports) in [("H1", 3), ("H2", 2), ("H3", 0)] {
            let dir = month.path().join("exports").join(dir);
            // Neither a directory under an export's name nor another file is advised.
            std::fs::create_dir_all(dir.join("setlinfo.parquet")).unwrap();
            std::fs::write(dir.join("notes.txt"), "not an export").unwrap();
            for name in &files[..exports] {
                std::fs::write(dir.join(name), "a,b\n1,2\n").unwrap();
            }
        }
        let dirs = ["H1", "H2", "H3", "gone"].map(String::from);
        let advised = |dirs: &[String]| start(month.path(), dirs).unwrap().join().unwrap();
        assert_eq!(advised(&dirs), 5);
        assert_eq!(advised(&dirs[3..]), 0);
    }
}
