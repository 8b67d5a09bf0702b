//! How fast the window opens and how much memory it holds once idle (issue 9: aim < 1.5 s from
//! the launch to the first painted screen, < 200 MB resident).
//!
//! `xvfb-run -a cargo bench --bench window` (it needs a display). A measurement, not a test: it
//! starts the optimised binary several times, each on a fresh data directory as on a new PC,
//! and times the launch until the page reports its first painted screen (the "first paint"
//! line of the app's log, written when the page has drawn two animation frames of its first
//! screen). After the last start it lets the window idle, then reads the memory of the app and
//! of every process it started (WebKit's web and network processes hold most of it): the aim
//! is judged on the sum of PSS (each shared page divided among the processes that map it),
//! and the sum of RSS, which counts WebKit's and GTK's libraries once per process, is printed
//! beside it.
//! It prints the figures against the aims and fails only when the window never paints.

use std::path::Path;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

const STARTS: usize = 5;
const PAINT_AIM: Duration = Duration::from_millis(1500);
const MEMORY_AIM_MB: f64 = 200.0;
const PATIENCE: Duration = Duration::from_secs(30);
const IDLE: Duration = Duration::from_secs(5);

/// The milliseconds the app logged for its first paint, once its log has the line.
fn logged_first_paint(data_dir: &Path) -> Option<u64> {
    let logs = std::fs::read_dir(data_dir.join("logs")).ok()?;
    for entry in logs.flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.contains("first paint")) {
            let value = line.split("milliseconds=").nth(1)?;
            return value.split_whitespace().next()?.parse().ok();
        }
    }
    None
}

/// Starts the window on a fresh data directory.
fn launch(data_dir: &Path) -> std::io::Result<Child> {
    Command::new(env!("CARGO_BIN_EXE_guichet-qf"))
        .env("GUICHET_QF_DATA_DIR", data_dir)
        .env("GUICHET_QF_KEYSTORE", "none")
        .env("GUICHET_QF_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
}

/// One process of the app's tree once idle: its name, resident memory and proportional share.
struct Resident {
    name: String,
    rss_mb: f64,
    pss_mb: f64,
}

/// A `kB` field of `/proc/<pid>/smaps_rollup`, in MB.
#[cfg(target_os = "linux")]
fn rollup_mb(rollup: &str, field: &str) -> f64 {
    rollup
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

/// `pid` and all its descendants with their memory (Linux: `/proc`). RSS counts the shared
/// libraries (WebKit, GTK, Mesa) in full in every process that maps them, so their sum
/// overstates what the app costs; PSS divides each shared page among the processes sharing
/// it, so the sum of PSS is what the machine would get back if the app quit.
#[cfg(target_os = "linux")]
fn process_tree(pid: u32) -> Vec<Resident> {
    let mut parents = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        // The parent is the 4th field of `stat`, after the command name in parentheses.
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
        if let Some(parent) = after_name
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok())
        {
            parents.push((child, parent));
        }
    }
    let mut tree = vec![pid];
    let mut index = 0;
    while index < tree.len() {
        let parent = tree[index];
        tree.extend(
            parents
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(c, _)| *c),
        );
        index += 1;
    }
    tree.iter()
        .filter_map(|pid| {
            let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
            let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
            Some(Resident {
                name: name.trim().to_string(),
                rss_mb: rollup_mb(&rollup, "Rss:"),
                pss_mb: rollup_mb(&rollup, "Pss:"),
            })
        })
        .collect()
}

#[cfg(not(target_os = "linux"))]
fn process_tree(_pid: u32) -> Vec<Resident> {
    Vec::new()
}

fn main() -> ExitCode {
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        eprintln!("No display: run `xvfb-run -a cargo bench --bench window`.");
        return ExitCode::FAILURE;
    }
    println!("Window: {STARTS} starts on a fresh data directory each");
    let mut launches = Vec::new();
    let mut memory = Vec::new();
    for start in 1..=STARTS {
        let Ok(dir) = tempfile::tempdir() else {
            eprintln!("No temporary directory.");
            return ExitCode::FAILURE;
        };
        let begun = Instant::now();
        let mut child = match launch(dir.path()) {
            Ok(child) => child,
            Err(error) => {
                eprintln!("The app did not start: {error}");
                return ExitCode::FAILURE;
            }
        };
        let painted = loop {
            if let Some(logged) = logged_first_paint(dir.path()) {
                break Some((begun.elapsed(), logged));
            }
            if begun.elapsed() > PATIENCE || matches!(child.try_wait(), Ok(Some(_))) {
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let Some((seen, logged)) = painted else {
            let _ = child.kill();
            let _ = child.wait();
            eprintln!("Start {start}: the window never painted within {PATIENCE:?}.");
            return ExitCode::FAILURE;
        };
        println!(
            "  start {start}: first paint seen after {} ms (the app logged {logged} ms)",
            seen.as_millis()
        );
        launches.push(seen);
        if start == STARTS {
            std::thread::sleep(IDLE);
            memory = process_tree(child.id());
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    launches.sort();
    let median = launches[launches.len() / 2];
    println!(
        "Launch to first paint: median {} ms, best {} ms, worst {} ms (aim < {} ms): {}",
        median.as_millis(),
        launches[0].as_millis(),
        launches[launches.len() - 1].as_millis(),
        PAINT_AIM.as_millis(),
        if median < PAINT_AIM { "met" } else { "missed" }
    );
    if memory.is_empty() {
        println!("Resident memory: not measured on this system.");
    } else {
        println!(
            "Memory after {} s idle, per process (RSS counts shared libraries in each):",
            IDLE.as_secs()
        );
        for process in &memory {
            println!(
                "  {:<24} RSS {:>4.0} MB, PSS {:>4.0} MB",
                process.name, process.rss_mb, process.pss_mb
            );
        }
        let rss: f64 = memory.iter().map(|p| p.rss_mb).sum();
        let pss: f64 = memory.iter().map(|p| p.pss_mb).sum();
        println!(
            "Idle memory of the app and its WebKit processes: PSS {pss:.0} MB (aim < {MEMORY_AIM_MB:.0} MB): {} \
             (sum of RSS {rss:.0} MB)",
            if pss < MEMORY_AIM_MB { "met" } else { "missed" }
        );
    }
    ExitCode::SUCCESS
}
