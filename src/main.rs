//! The `yidi` binary: parse the command line, call the library, map the result to an exit
//! status (SPEC §10), print the whole error chain.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use yidi::cli::{Cli, Command};
use yidi::exit::ExitStatus;
use yidi::progress::Progress;

/// mimalloc rather than the system's allocator: ingestion makes and frees tens of millions
/// of small values and a few thousand column buffers a month, and glibc's allocator hands
/// the large ones back to the system each time, to be faulted in and zeroed again.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (its `mimalloc.h`, v3, as `libmimalloc-sys` 0.1.49
/// builds it; the crate does not name v3's options).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Freed memory is kept for reuse, never handed back to the system: a month's batches free
/// and allocate hundreds of MiB every few seconds, and each page handed back (after
/// mimalloc's default second) came back as a fault that zeroes a 2 MiB huge page: a
/// seventh of the run's CPU samples (province month: page faults 1.1 M → 9 K, system time
/// 10–14 s → 5–9 s, peak RSS +0.1 GiB). `MIMALLOC_PURGE_DELAY` in the environment still
/// decides, for whoever must have the memory back.
#[allow(unsafe_code)]
fn keep_freed_memory() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: called first in main, before any other thread exists (the option is
        // set without synchronisation); -1 is the documented "never purge".
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
    }
}

/// Transparent huge pages off for this process: memory is faulted in 4 KiB at a time, not
/// zeroed 2 MiB at a time (mimalloc asks for huge pages where the system leaves it to the
/// program). On the 2-core virtual machines this runs on, first touches of memory the host
/// had taken back cost 2.3 s a GiB in huge pages against 0.5 s in small ones (3 GiB
/// touched, alternating, six seconds apart); a province month's run spent 4.7–5.6 s in
/// the kernel with them and 2.0–2.2 s without, and about 1 s more in its own code (more
/// misses of the address cache): 0.5–0.9 s less in all. `MIMALLOC_ALLOW_THP` in the
/// environment still decides.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn small_pages() {
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        // SAFETY: PR_SET_THP_DISABLE takes integers and touches no memory of the program;
        // its failure (an old kernel) leaves the pages as they were.
        unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    }
}

#[cfg(not(target_os = "linux"))]
fn small_pages() {}

/// What a shell reports for a program ended by SIGPIPE (128 + 13).
const CLOSED_PIPE: u8 = 141;

fn main() -> ExitCode {
    keep_freed_memory();
    small_pages();
    let cli = Cli::parse();
    let arguments: Vec<String> = std::env::args().collect();
    let progress = Progress::new(cli.log_format, cli.quiet);
    // One pool of threads for yidi's work and polars' (see `dispatch`).
    let result = polars_core::runtime::THREAD_POOL.install(|| dispatch(&cli, arguments, &progress));
    let status = match result {
        Ok(status) => status,
        // The reader of the output went away (`yidi rules | head`): nothing to report.
        Err(error) if ExitStatus::is_closed_pipe(&error) => return ExitCode::from(CLOSED_PIPE),
        Err(error) => {
            // Not `eprintln!`, which panics when stderr is closed.
            let _ = writeln!(std::io::stderr(), "yidi: error: {error:#}");
            ExitStatus::of_error(&error)
        }
    };
    ExitCode::from(status.code())
}

/// Runs the command. Called inside polars' pool of threads, so that yidi's own parallel
/// work (rayon's `join` and parallel iterators take the pool they are called from) and
/// polars' share one pool of as many threads as cores, rather than two pools each as
/// large: on a province month, alternating runs took 23.3–23.7 s against 23.8–24.7 s,
/// and peaked 0.1 GiB lower.
fn dispatch(cli: &Cli, arguments: Vec<String>, progress: &Progress) -> anyhow::Result<ExitStatus> {
    match &cli.command {
        Command::Run(args) => args
            .options(arguments)
            .map_err(anyhow::Error::from)
            .and_then(|options| yidi::run::run(&options, progress))
            .map(|outcome| outcome.status),
        Command::Validate(args) => args
            .options(arguments)
            .map_err(anyhow::Error::from)
            .and_then(|options| yidi::validate::validate(&options, progress)),
        Command::Query(args) => args
            .options()
            .map_err(anyhow::Error::from)
            .and_then(|options| yidi::query::query(&options)),
        Command::Split(args) => args
            .options()
            .map_err(anyhow::Error::from)
            .and_then(|options| yidi::steps::split::split(&options, progress))
            .map(|_| ExitStatus::Success),
        Command::Check(args) => args
            .options()
            .map_err(anyhow::Error::from)
            .and_then(|options| match args.plan {
                Some(groups) => yidi::steps::check::plan(&options.stage, groups).and_then(|plan| {
                    let mut out = std::io::stdout().lock();
                    for group in plan {
                        writeln!(out, "{}", group.join(","))?;
                    }
                    Ok(ExitStatus::Success)
                }),
                None => yidi::steps::check::check(&options, progress).map(|_| ExitStatus::Success),
            }),
        Command::Merge(args) => args
            .options(arguments)
            .map_err(anyhow::Error::from)
            .and_then(|options| yidi::steps::merge::merge(&options, progress))
            .map(|outcome| outcome.status),
        Command::Generate(args) => args
            .options()
            .map_err(anyhow::Error::from)
            .and_then(|options| yidi::generate::run(&options, progress)),
        Command::Rules(args) => {
            yidi::rules::explain(args.code.as_deref(), &mut std::io::stdout().lock())
                .map(|()| ExitStatus::Success)
        }
    }
}
