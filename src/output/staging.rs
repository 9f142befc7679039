//! Results appear whole or not at all (SPEC §9), and one run writes a month at a time.
//!
//! A run writes into a hidden temporary directory beside the target, syncs every file,
//! and only then moves it into place; the previous results are moved aside first and
//! removed after. A run that fails or is killed leaves the previous results as they were
//! (a killed run leaves its hidden temporary directory, removed by the next run).
//! A lock file per output month, holding the owner's pid, keeps a second run out; a lock
//! whose process is gone is stale and taken over.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::OutputError;

/// Another run holds the lock of this output month (exit 5).
#[derive(Debug, thiserror::Error)]
#[error("{}: another yidi run (pid {pid}) is writing this month; wait for it or pass --wait", path.display())]
pub struct LockHeld {
    pub path: PathBuf,
    pub pid: u32,
}

/// The lock of one output month, released on drop.
#[derive(Debug)]
pub struct MonthLock {
    path: PathBuf,
}

fn process_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

impl MonthLock {
    /// Takes the lock `<root>/.<month>.lock`, or says who holds it.
    pub fn acquire(root: &Path, month: &str) -> Result<MonthLock, anyhow::Error> {
        fs::create_dir_all(root).map_err(|e| OutputError::io(root, e))?;
        let path = root.join(format!(".{month}.lock"));
        for _ in 0..2 {
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut file) => {
                    writeln!(file, "{}", std::process::id())
                        .map_err(|e| OutputError::io(&path, e))?;
                    file.sync_all().map_err(|e| OutputError::io(&path, e))?;
                    return Ok(MonthLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = fs::read_to_string(&path)
                        .ok()
                        .and_then(|t| t.trim().parse::<u32>().ok());
                    match holder {
                        Some(pid) if process_alive(pid) => {
                            return Err(LockHeld { path, pid }.into());
                        }
                        // Stale: its process is gone (or it never wrote its pid).
                        _ => {
                            let _ = fs::remove_file(&path);
                        }
                    }
                }
                Err(e) => return Err(OutputError::io(&path, e).into()),
            }
        }
        Err(OutputError::io(&path, "could not take the lock").into())
    }
}

impl Drop for MonthLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// A directory that becomes `<root>/<name>` only when committed.
#[derive(Debug)]
pub struct Staging {
    root: PathBuf,
    name: String,
    temp: PathBuf,
    committed: bool,
}

impl Staging {
    /// Creates the temporary directory, clearing what killed runs left behind.
    /// Call it while holding the month's lock.
    pub fn new(root: &Path, name: &str) -> Result<Staging, OutputError> {
        fs::create_dir_all(root).map_err(|e| OutputError::io(root, e))?;
        let prefix = format!(".{name}.tmp-");
        let old = format!(".{name}.old-");
        let target = root.join(name);
        if let Ok(entries) = fs::read_dir(root) {
            for entry in entries.flatten() {
                let file_name = entry.file_name().to_string_lossy().into_owned();
                if file_name.starts_with(&old) && !target.exists() {
                    // A run was killed between its two renames: put the results back.
                    fs::rename(entry.path(), &target).map_err(|e| OutputError::io(&target, e))?;
                } else if file_name.starts_with(&prefix) || file_name.starts_with(&old) {
                    let _ = fs::remove_dir_all(entry.path());
                }
            }
        }
        let temp = root.join(format!("{prefix}{}", std::process::id()));
        fs::create_dir_all(&temp).map_err(|e| OutputError::io(&temp, e))?;
        Ok(Staging {
            root: root.to_owned(),
            name: name.to_owned(),
            temp,
            committed: false,
        })
    }

    pub fn path(&self) -> &Path {
        &self.temp
    }

    /// The final place of the results.
    pub fn target(&self) -> PathBuf {
        self.root.join(&self.name)
    }

    /// Moves the finished results into place.
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        sync_dir(&self.temp)?;
        let target = self.target();
        let aside = self
            .root
            .join(format!(".{}.old-{}", self.name, std::process::id()));
        let had_previous = target.exists();
        if had_previous {
            fs::rename(&target, &aside).map_err(|e| OutputError::io(&target, e))?;
        }
        if let Err(e) = fs::rename(&self.temp, &target) {
            if had_previous {
                let _ = fs::rename(&aside, &target);
            }
            return Err(OutputError::io(&target, e));
        }
        self.committed = true;
        sync_dir(&self.root)?;
        if had_previous {
            let _ = fs::remove_dir_all(&aside);
        }
        Ok(target)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.temp);
        }
    }
}

fn sync_dir(dir: &Path) -> Result<(), OutputError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| OutputError::io(dir, e))
}
