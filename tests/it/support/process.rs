//! Running the binary (or any program) as a process: stdin written on a
//! thread, and command, stdout and stderr shown when an assertion fails.

use std::io::Write;
use std::process::{Command, Stdio};

use super::Env;

pub const BIN: &str = env!("CARGO_BIN_EXE_credential-oauth");

impl Env {
    /// Run the binary with `args`, writing `stdin` on a thread.
    pub fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut cmd = self.command(BIN);
        cmd.args(args);
        run_command(cmd, stdin.as_bytes())
    }

    /// Start the binary and return at once; stderr is read line by line.
    pub fn spawn(&self, args: &[&str], stdin: &str) -> Running {
        let mut cmd = self.command(BIN);
        cmd.args(args);
        spawn_command(cmd, stdin)
    }

    /// [`Env::run`] with a person at a terminal: the binary gets a
    /// pseudo-terminal as its controlling terminal (`/dev/tty` opens), while
    /// stdin, stdout and stderr stay the test's pipes.
    pub fn run_at_terminal(&self, args: &[&str], stdin: &str) -> Output {
        let mut cmd = self.command(BIN);
        cmd.args(args);
        let _terminal = super::tty::controlling_terminal(&mut cmd);
        run_command(cmd, stdin.as_bytes())
    }

    /// [`Env::run`] in a session of its own with no controlling terminal
    /// (as `setsid` starts it): an IDE's background fetch, a CI job.
    pub fn run_detached(&self, args: &[&str], stdin: &str) -> Output {
        let mut cmd = self.command(BIN);
        cmd.args(args);
        super::tty::no_terminal(&mut cmd);
        run_command(cmd, stdin.as_bytes())
    }

    /// [`Env::spawn`] with no controlling terminal (see [`Env::run_detached`]).
    pub fn spawn_detached(&self, args: &[&str], stdin: &str) -> Running {
        let mut cmd = self.command(BIN);
        cmd.args(args);
        super::tty::no_terminal(&mut cmd);
        spawn_command(cmd, stdin)
    }

    /// [`Env::spawn`] with a person at a terminal (see [`Env::run_at_terminal`]).
    pub fn spawn_at_terminal(&self, args: &[&str], stdin: &str) -> Running {
        let mut cmd = self.command(BIN);
        cmd.args(args);
        let terminal = super::tty::controlling_terminal(&mut cmd);
        let mut running = spawn_command(cmd, stdin);
        running._terminal = Some(terminal);
        running
    }
}

pub struct Output {
    pub cmd: String,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn ok(&self) -> &Output {
        assert_eq!(self.code, Some(0), "expected success\n{self}");
        self
    }

    pub fn fails(&self) -> &Output {
        assert!(
            self.code.is_some_and(|c| c != 0),
            "expected failure\n{self}"
        );
        self
    }

    /// stdout and stderr, to keep after the Output is gone.
    pub fn clone_parts(&self) -> (String, String) {
        (self.stdout.clone(), self.stderr.clone())
    }

    /// The value of `key` in git-format output.
    pub fn field(&self, key: &str) -> Option<String> {
        self.stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_string))
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "command: {}\nexit: {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.cmd, self.code, self.stdout, self.stderr
        )
    }
}

pub fn run_command(mut cmd: Command, stdin: &[u8]) -> Output {
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.to_vec();
    // A writer thread, so a child that stops reading early cannot deadlock us.
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    let _ = writer.join();
    Output {
        cmd: shown,
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// [`run_command`] in a session of its own with no controlling terminal.
pub fn run_detached_command(mut cmd: Command, stdin: &str) -> Output {
    super::tty::no_terminal(&mut cmd);
    run_command(cmd, stdin.as_bytes())
}

/// Start `cmd` and return at once; stderr is read line by line.
pub fn spawn_command(mut cmd: Command, stdin: &str) -> Running {
    use std::io::BufRead;
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.as_bytes().to_vec();
    std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            all.push_str(&line);
            all.push('\n');
            let _ = tx.send(line);
        }
        all
    });
    Running {
        cmd: shown,
        child,
        lines: rx,
        reader: Some(reader),
        _terminal: None,
    }
}

/// A running binary whose stderr can be waited on line by line.
pub struct Running {
    cmd: String,
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    reader: Option<std::thread::JoinHandle<String>>,
    /// A controlling terminal, held open while the child runs.
    _terminal: Option<super::tty::Terminal>,
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The pseudo-terminal the process was started at.
    pub fn terminal(&self) -> &super::tty::Terminal {
        self._terminal
            .as_ref()
            .expect("started with spawn_at_terminal")
    }

    /// Kill the process (by its handle, so by its PID) and collect its output.
    pub fn kill(&mut self) -> Output {
        let _ = self.child.kill();
        self.finish()
    }

    /// The first stderr line starting with `prefix`, waiting at most `secs`.
    pub fn wait_for_line(&mut self, prefix: &str, secs: u64) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with(prefix) => return line,
                Ok(_) => {}
                Err(_) => {
                    let _ = self.child.kill();
                    let out = self.finish();
                    panic!("no stderr line starting with {prefix:?} within {secs} s\n{out}");
                }
            }
        }
    }

    pub fn finish(&mut self) -> Output {
        use std::io::Read;
        let mut stdout = String::new();
        if let Some(mut out) = self.child.stdout.take() {
            let _ = out.read_to_string(&mut stdout);
        }
        let status = self.child.wait().unwrap();
        let stderr = self
            .reader
            .take()
            .map(|r| r.join().unwrap())
            .unwrap_or_default();
        Output {
            cmd: self.cmd.clone(),
            code: status.code(),
            stdout,
            stderr,
        }
    }
}
