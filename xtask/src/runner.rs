//! Running child processes: a clean environment, output captured to a log
//! file, a heartbeat while a long step runs, and the wall time.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Variables a user's shell could set to change what gets verified; every
/// child starts without them and gets only what its step sets explicitly.
/// `NEGATIVE_CONTROL` switches a planted bug on in loom builds, so only the
/// `loom-neg` runs, which set it, may have it.
const SCRUBBED_VARS: [&str; 7] = [
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_ENCODED_RUSTDOCFLAGS",
    "MIRIFLAGS",
    "TSAN_OPTIONS",
    "VERIFY_THOROUGH",
    "RUSTC_BOOTSTRAP",
    "NEGATIVE_CONTROL",
];

/// Variables that `cargo run` sets for the xtask and that would pin a nightly
/// child to the stable toolchain.
const STABLE_PINS: [&str; 4] = ["RUSTUP_TOOLCHAIN", "CARGO", "RUSTC", "RUSTDOC"];

/// How often a still-running child gets a progress line.
const HEARTBEAT: Duration = Duration::from_secs(60);

/// Which program a child runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Program {
    /// The stable cargo that runs the xtask (`$CARGO`).
    Cargo,
    /// `cargo +nightly` through the rustup proxy, with stable pins removed.
    NightlyCargo,
    /// `rustup` itself (toolchain and component installs), stable pins removed.
    Rustup,
}

/// One child process to run.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// What to run.
    pub program: Program,
    /// Arguments after the program (and after `+nightly` for nightly cargo).
    pub args: Vec<String>,
    /// `RUSTFLAGS` for the child; always set, empty when none.
    pub rustflags: String,
    /// `RUSTDOCFLAGS` for the child; always set, empty when none.
    pub rustdocflags: String,
    /// Further variables to set.
    pub env: Vec<(String, String)>,
}

impl Invocation {
    /// An invocation with empty flags and no extra variables.
    pub fn new(program: Program, args: &[&str]) -> Self {
        Invocation {
            program,
            args: args.iter().map(|a| a.to_string()).collect(),
            rustflags: String::new(),
            rustdocflags: String::new(),
            env: Vec::new(),
        }
    }

    /// Appends arguments.
    pub fn args<S: AsRef<str>>(mut self, more: &[S]) -> Self {
        self.args
            .extend(more.iter().map(|a| a.as_ref().to_string()));
        self
    }

    /// Sets `RUSTFLAGS`.
    pub fn rustflags(mut self, flags: &str) -> Self {
        self.rustflags = flags.to_string();
        self
    }

    /// Sets `RUSTDOCFLAGS`.
    pub fn rustdocflags(mut self, flags: &str) -> Self {
        self.rustdocflags = flags.to_string();
        self
    }

    /// Sets one more environment variable.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// The command as a shell line, for logs and for reproducing a failure.
    pub fn display(&self) -> String {
        let mut parts = Vec::new();
        if self.program != Program::Rustup {
            parts.push(format!("RUSTFLAGS={}", shell_quote(&self.rustflags)));
            parts.push(format!("RUSTDOCFLAGS={}", shell_quote(&self.rustdocflags)));
        }
        parts.extend(
            self.env
                .iter()
                .map(|(k, v)| format!("{k}={}", shell_quote(v))),
        );
        parts.push(
            match self.program {
                Program::Cargo => "cargo",
                Program::NightlyCargo => "cargo +nightly",
                Program::Rustup => "rustup",
            }
            .to_string(),
        );
        parts.extend(self.args.iter().map(|a| shell_quote(a)));
        parts.join(" ")
    }

    /// Builds the `Command` with the scrubbed environment.
    pub fn command(&self, cwd: &Path) -> Command {
        let mut cmd = match self.program {
            Program::Cargo => Command::new(stable_cargo()),
            Program::NightlyCargo => {
                let mut c = Command::new(rustup_proxy("cargo"));
                c.arg("+nightly");
                c
            }
            Program::Rustup => Command::new(rustup_proxy("rustup")),
        };
        if self.program != Program::Cargo {
            for var in STABLE_PINS {
                cmd.env_remove(var);
            }
        }
        cmd.args(&self.args).current_dir(cwd).stdin(Stdio::null());
        for var in SCRUBBED_VARS {
            cmd.env_remove(var);
        }
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("LOOM_") {
                cmd.env_remove(key);
            }
        }
        cmd.env("RUSTFLAGS", &self.rustflags);
        cmd.env("RUSTDOCFLAGS", &self.rustdocflags);
        for (key, value) in &self.env {
            cmd.env(key, value);
        }
        cmd
    }
}

/// Quotes a word for display in a POSIX shell line.
fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_=.,/:+@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The stable cargo running the xtask (`$CARGO`), or `cargo` from `PATH`.
pub fn stable_cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// The rustup proxy for `tool` (`$CARGO_HOME/bin/<tool>`), so that
/// `+nightly` works even if `PATH` starts with a toolchain's own bin dir.
pub fn rustup_proxy(tool: &str) -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    match home.map(|h| h.join("bin").join(tool)) {
        Some(path) if path.is_file() => path,
        _ => PathBuf::from(tool),
    }
}

/// What a finished child left behind.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Exit status was zero.
    pub success: bool,
    /// Short description of the exit (`exit code 101`, `killed by signal 9`, ...).
    pub exit: String,
    /// Wall-clock seconds.
    pub secs: f64,
    /// Everything the child wrote to stdout and stderr, interleaved.
    pub output: String,
    /// The child was killed for running past its time limit.
    pub timed_out: bool,
}

/// Runs `inv` in `cwd`, appending a header and the child's output to `log`.
///
/// While the child runs, prints a heartbeat with the log's last line every
/// minute so a long loom or Miri run is not silent. A child still running
/// after `limit` is killed together with its descendants (the test binaries
/// cargo started), so one hung test cannot stall the whole run.
pub fn run_logged(
    inv: &Invocation,
    cwd: &Path,
    log: &Path,
    label: &str,
    limit: Option<Duration>,
) -> Outcome {
    let start = Instant::now();
    let command = inv.command(cwd);
    match run_command(command, &inv.display(), log, label, limit, start) {
        Ok(outcome) => outcome,
        Err(err) => Outcome {
            success: false,
            exit: format!("could not run: {err}"),
            secs: start.elapsed().as_secs_f64(),
            output: format!("error: could not run `{}`: {err}", inv.display()),
            timed_out: false,
        },
    }
}

/// Runs `command` with output appended to `log` after a `$ shown` header.
fn run_command(
    mut command: Command,
    shown: &str,
    log: &Path,
    label: &str,
    limit: Option<Duration>,
    start: Instant,
) -> std::io::Result<Outcome> {
    let mut file = OpenOptions::new().create(true).append(true).open(log)?;
    writeln!(file, "$ {shown}")?;
    file.flush()?;
    let offset = file.seek(SeekFrom::End(0))?;
    let mut child = command
        .stdout(file.try_clone()?)
        .stderr(file.try_clone()?)
        .spawn()?;
    let mut next_beat = HEARTBEAT;
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        let elapsed = start.elapsed();
        if limit.is_some_and(|limit| elapsed >= limit) && !timed_out {
            timed_out = true;
            // Collect the tree before killing cargo: its children are
            // re-parented once it dies.
            let tree = descendants(child.id());
            let _ = child.kill();
            kill_all(&tree);
            continue;
        }
        if elapsed >= next_beat {
            println!(
                "         ... {label} still running ({}s): {}",
                elapsed.as_secs(),
                last_line(log).unwrap_or_default()
            );
            next_beat += HEARTBEAT;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let secs = start.elapsed().as_secs_f64();
    let mut output = Vec::new();
    let mut reader = File::open(log)?;
    reader.seek(SeekFrom::Start(offset))?;
    reader.read_to_end(&mut output)?;
    let exit = match (status.code(), unix_signal(&status)) {
        _ if timed_out => format!(
            "timed out after {}s (--timeout)",
            limit.unwrap_or_default().as_secs()
        ),
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        (None, None) => "abnormal exit".to_string(),
    };
    if timed_out {
        writeln!(file, "verify: {exit}; killed the command and its children")?;
    }
    Ok(Outcome {
        success: status.success() && !timed_out,
        exit,
        secs,
        output: String::from_utf8_lossy(&output).into_owned(),
        timed_out,
    })
}

/// All processes below `root`, found through `/proc/<pid>/stat` (Linux).
/// Elsewhere the list is empty and only the direct child is killed.
fn descendants(root: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let parents: Vec<(u32, u32)> = entries
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            Some((pid, parent_from_stat(&stat)?))
        })
        .collect();
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    tree.remove(0);
    tree
}

/// The parent pid from a `/proc/<pid>/stat` line: `pid (comm) state ppid ...`,
/// where `comm` may itself contain spaces and parentheses.
fn parent_from_stat(stat: &str) -> Option<u32> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    after_comm.split_whitespace().nth(1)?.parse().ok()
}

/// Sends SIGKILL to `pids` (processes this run started).
fn kill_all(pids: &[u32]) {
    if pids.is_empty() {
        return;
    }
    let _ = Command::new("kill")
        .arg("-KILL")
        .args(pids.iter().map(u32::to_string))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

#[cfg(unix)]
fn unix_signal(status: &std::process::ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.signal()
}

#[cfg(not(unix))]
fn unix_signal(_: &std::process::ExitStatus) -> Option<i32> {
    None
}

/// The last non-empty line of a log, shortened for a progress line.
fn last_line(log: &Path) -> Option<String> {
    let mut file = File::open(log).ok()?;
    let len = file.seek(SeekFrom::End(0)).ok()?;
    file.seek(SeekFrom::Start(len.saturating_sub(4096))).ok()?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail).ok()?;
    let text = String::from_utf8_lossy(&tail);
    let line = text.lines().rev().find(|l| !l.trim().is_empty())?;
    Some(shorten(line.trim(), 100))
}

/// Cuts `text` to at most `max` characters, marking the cut with `...`.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max.saturating_sub(3)).collect();
        format!("{cut}...")
    }
}

/// Runs a short query (`rustc --version`, `rustup component list`) and
/// returns its stdout, or stderr's first line as the error.
///
/// With `unpin`, the variables that pin children to stable are removed.
pub fn capture(program: &Path, args: &[&str], unpin: bool) -> Result<String, String> {
    let mut cmd = Command::new(program);
    if unpin {
        for var in STABLE_PINS {
            cmd.env_remove(var);
        }
    }
    for var in SCRUBBED_VARS {
        cmd.env_remove(var);
    }
    let out = cmd
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not run {}: {e}", program.display()))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let first = stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no output");
        Err(shorten(first.trim(), 160))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_what_needs_quoting() {
        let inv = Invocation::new(Program::NightlyCargo, &["miri", "test"])
            .args(&["-p", "x"])
            .rustflags("--cfg loom")
            .env("MIRIFLAGS", "-Zmiri-strict-provenance");
        assert_eq!(
            inv.display(),
            "RUSTFLAGS='--cfg loom' RUSTDOCFLAGS='' MIRIFLAGS=-Zmiri-strict-provenance cargo +nightly miri test -p x"
        );
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn command_scrubs_and_sets_flags() {
        let inv = Invocation::new(Program::NightlyCargo, &["test"]).env("TSAN_OPTIONS", "a=1");
        let cmd = inv.command(Path::new("/"));
        let envs: Vec<_> = cmd
            .get_envs()
            .map(|(k, v)| {
                (
                    k.to_string_lossy().into_owned(),
                    v.map(|v| v.to_string_lossy().into_owned()),
                )
            })
            .collect();
        let get = |name: &str| {
            envs.iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(get("RUSTFLAGS"), Some(Some(String::new())));
        assert_eq!(get("CARGO_ENCODED_RUSTFLAGS"), Some(None));
        assert_eq!(get("RUSTUP_TOOLCHAIN"), Some(None));
        assert_eq!(get("CARGO"), Some(None));
        assert_eq!(get("TSAN_OPTIONS"), Some(Some("a=1".to_string())));
        assert_eq!(get("NEGATIVE_CONTROL"), Some(None));
        let planted = Invocation::new(Program::Cargo, &["test"]).env("NEGATIVE_CONTROL", "bug");
        let planted: Vec<_> = planted
            .command(Path::new("/"))
            .get_envs()
            .filter(|(k, _)| *k == "NEGATIVE_CONTROL")
            .map(|(_, v)| v.map(|v| v.to_string_lossy().into_owned()))
            .collect();
        assert_eq!(planted, [Some("bug".to_string())]);
        let args: Vec<_> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(args, ["+nightly", "test"]);
    }

    #[test]
    fn reads_parent_pid_from_stat() {
        assert_eq!(parent_from_stat("42 (cargo) S 7 42 7 0 -1"), Some(7));
        assert_eq!(parent_from_stat("43 (a) b (c) R 42 43 7"), Some(42));
        assert_eq!(parent_from_stat("garbage"), None);
    }

    fn run_sh(dir: &Path, script: &str, limit: Duration) -> Outcome {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]).stdin(Stdio::null());
        run_command(
            cmd,
            script,
            &dir.join("sh.log"),
            "sh",
            Some(limit),
            Instant::now(),
        )
        .unwrap()
    }

    /// True while `pid` exists and is not a zombie.
    fn alive(pid: u32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| {
                let after = &stat[stat.rfind(')')? + 1..];
                Some(after.split_whitespace().next()? != "Z")
            })
            .unwrap_or(false)
    }

    #[test]
    fn kills_a_command_past_its_limit_with_its_children() {
        let dir = std::env::temp_dir().join(format!("xtask-runner-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let start = Instant::now();
        let outcome = run_sh(&dir, "sleep 30 & echo $!; wait", Duration::from_millis(500));
        assert!(outcome.timed_out && !outcome.success, "{outcome:?}");
        assert_eq!(outcome.exit, "timed out after 0s (--timeout)");
        assert!(start.elapsed() < Duration::from_secs(10));
        let sleeper: u32 = outcome
            .output
            .lines()
            .next()
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        std::thread::sleep(Duration::from_millis(200));
        assert!(!alive(sleeper), "grandchild {sleeper} survived the kill");

        let quick = run_sh(&dir, "echo done; exit 3", Duration::from_secs(30));
        assert!(!quick.success && !quick.timed_out, "{quick:?}");
        assert_eq!(quick.exit, "exit code 3");
        assert_eq!(quick.output, "done\n");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn shorten_marks_the_cut() {
        assert_eq!(shorten("abcdef", 10), "abcdef");
        assert_eq!(shorten("abcdefghijkl", 8), "abcde...");
    }
}
