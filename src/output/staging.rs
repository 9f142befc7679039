//! Results appear whole or not at all (SPEC §9), and one run writes a month at a time.
//!
//! A run writes into a hidden temporary directory beside the target, syncs every file and
//! directory in it, and only then puts it in place: on Linux by one `renameat2` that
//! exchanges the new directory with the previous results (so there is no moment when
//! readers find no results, or half of them), elsewhere by two renames. A run that fails
//! or is killed leaves the previous results as they were; what it staged is removed by the
//! next run.
//!
//! The lock of an output month is a kernel lock (`flock`) on `<root>/.<month>.lock`, held
//! by the open file: the kernel releases it when the process ends, however it ends, so a
//! killed run never blocks the next one, and a reused pid cannot fake a holder. The file
//! holds the holder's pid for the message a locked-out run prints; it is never removed
//! (removing it would let two runs lock two different files of one name).

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::error::{LockHeld, OutputError};

/// A held kernel lock on a file, released when dropped (or when the process ends).
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

impl FileLock {
    /// Takes the lock of `path`. Held by another process: `Err(LockHeld)` when `wait` is
    /// false; when it is true, `on_wait` is told once and the call blocks until it is free.
    pub fn acquire(
        path: &Path,
        wait: bool,
        on_wait: &mut dyn FnMut(&LockHeld),
    ) -> Result<FileLock, anyhow::Error> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| OutputError::io(dir, e))?;
        }
        let io = |e: std::io::Error| OutputError::io(path, e);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let holder = match text.trim().parse::<u32>() {
                    Ok(pid) => format!("pid {pid}"),
                    Err(_) => "a process that has not written its pid yet".to_owned(),
                };
                let held = LockHeld {
                    path: path.to_owned(),
                    holder,
                };
                if !wait {
                    return Err(held.into());
                }
                on_wait(&held);
                file.lock().map_err(io)?;
            }
            Err(TryLockError::Error(e)) => return Err(io(e).into()),
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(FileLock { _file: file })
    }
}

/// The lock of one output month: `<root>/.<month>.lock`.
pub struct MonthLock;

impl MonthLock {
    pub fn path(root: &Path, month: &str) -> PathBuf {
        root.join(format!(".{month}.lock"))
    }

    pub fn acquire(
        root: &Path,
        month: &str,
        wait: bool,
        on_wait: &mut dyn FnMut(&LockHeld),
    ) -> Result<FileLock, anyhow::Error> {
        FileLock::acquire(&MonthLock::path(root, month), wait, on_wait)
    }
}

/// For the tests that kill a run at a given point: when `YIDI_PAUSE_AT` names `point`, the
/// process says so on stderr and sleeps, to be killed. Unset in real runs, it costs nothing.
pub fn checkpoint(point: &str) {
    if std::env::var_os("YIDI_PAUSE_AT").is_some_and(|p| p == point) {
        eprintln!("yidi: paused at {point} (YIDI_PAUSE_AT)");
        std::thread::sleep(std::time::Duration::from_secs(120));
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
                    // Killed between the two renames of the non-Linux commit: put the
                    // previous results back.
                    fs::rename(entry.path(), &target).map_err(|e| OutputError::io(&target, e))?;
                } else if file_name.starts_with(&prefix) || file_name.starts_with(&old) {
                    let _ = fs::remove_dir_all(entry.path());
                }
            }
        }
        let temp = root.join(format!("{prefix}{}", std::process::id()));
        let _ = fs::remove_dir_all(&temp);
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

    /// The output root the results go under.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The final place of the results.
    pub fn target(&self) -> PathBuf {
        self.root.join(&self.name)
    }

    /// Syncs everything staged and moves it into place.
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        sync_tree(&self.temp)?;
        let target = self.target();
        checkpoint("commit");
        if target.exists() {
            replace(&self.temp, &target, &self.root, &self.name)?;
        } else {
            fs::rename(&self.temp, &target).map_err(|e| OutputError::io(&target, e))?;
        }
        self.committed = true;
        sync_dir(&self.root)?;
        Ok(target)
    }
}

/// Puts `staged` at `target` in one step and removes the previous results.
#[cfg(target_os = "linux")]
fn replace(staged: &Path, target: &Path, _root: &Path, _name: &str) -> Result<(), OutputError> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, staged, CWD, target, RenameFlags::EXCHANGE)
        .map_err(|e| OutputError::io(target, std::io::Error::from(e)))?;
    // `staged` now holds the previous results.
    checkpoint("exchanged");
    let _ = fs::remove_dir_all(staged);
    Ok(())
}

/// Puts `staged` at `target`: the previous results are moved aside, then removed.
#[cfg(not(target_os = "linux"))]
fn replace(staged: &Path, target: &Path, root: &Path, name: &str) -> Result<(), OutputError> {
    let aside = root.join(format!(".{name}.old-{}", std::process::id()));
    fs::rename(target, &aside).map_err(|e| OutputError::io(target, e))?;
    if let Err(e) = fs::rename(staged, target) {
        let _ = fs::rename(&aside, target);
        return Err(OutputError::io(target, e));
    }
    let _ = fs::remove_dir_all(&aside);
    Ok(())
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.temp);
        }
    }
}

pub fn sync_dir(dir: &Path) -> Result<(), OutputError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| OutputError::io(dir, e))
}

/// Starts writing `dir`'s files to disk now, on a thread of its own, rather than at the
/// commit: the typed inputs are finished seconds before the checks end, and a province
/// month's commit otherwise waited on their 0.6 GB. What it does not sync (an error, a
/// file it did not reach) [`Staging::commit`] syncs, as it syncs everything.
pub fn write_back_early(dir: &Path) {
    let dir = dir.to_owned();
    let _ = std::thread::Builder::new()
        .name("write-back".into())
        .spawn(move || sync_tree(&dir));
}

/// Syncs every file and directory under `dir`, so a rename never publishes data that a
/// crash could still lose.
pub fn sync_tree(dir: &Path) -> Result<(), OutputError> {
    let entries = fs::read_dir(dir).map_err(|e| OutputError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| OutputError::io(dir, e))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| OutputError::io(&path, e))?;
        if kind.is_dir() {
            sync_tree(&path)?;
        } else {
            File::open(&path)
                .and_then(|f| f.sync_all())
                .map_err(|e| OutputError::io(&path, e))?;
        }
    }
    sync_dir(dir)
}
