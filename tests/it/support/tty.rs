//! A person at a terminal, for the binary: a pseudo-terminal as its
//! controlling terminal (DESIGN.md "People in the loop": someone to ask is
//! a browser that can open or a terminal that can show a device code).

use std::io::Read;
use std::os::fd::FromRawFd;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Both sides of a pseudo-terminal, held open while the child runs:
/// closing the master hangs the terminal up. A thread reads the master, so
/// what the child writes to `/dev/tty` can be asserted (and a child never
/// blocks on a full terminal).
pub struct Terminal {
    _master: std::fs::File,
    _slave: std::fs::File,
    written: Arc<Written>,
}

/// Everything written to the terminal so far, and a signal when it grows.
#[derive(Default)]
struct Written {
    bytes: Mutex<Vec<u8>>,
    grew: Condvar,
}

impl Terminal {
    /// What the child wrote to its terminal so far (lossy UTF-8).
    pub fn written(&self) -> String {
        String::from_utf8_lossy(&self.written.bytes.lock().unwrap()).into_owned()
    }

    /// Wait at most `secs` until what was written satisfies `done`; what
    /// was written then, whether or not it does.
    pub fn wait_for(&self, secs: u64, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut bytes = self.written.bytes.lock().unwrap();
        loop {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let left = deadline.saturating_duration_since(Instant::now());
            if done(&text) || left.is_zero() {
                return text;
            }
            bytes = self.written.grew.wait_timeout(bytes, left).unwrap().0;
        }
    }
}

/// Collect what is written to the terminal until the last slave closes.
fn read_master(master: &std::fs::File) -> Arc<Written> {
    let written = Arc::new(Written::default());
    let mut reader = master.try_clone().unwrap();
    let sink = Arc::clone(&written);
    std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        // EIO once no slave is open: the child and the test are done.
        while let Ok(n @ 1..) = reader.read(&mut chunk) {
            sink.bytes.lock().unwrap().extend_from_slice(&chunk[..n]);
            sink.grew.notify_all();
        }
    });
    written
}

/// Make `cmd` start in a session of its own whose controlling terminal is a
/// new pseudo-terminal.
pub fn controlling_terminal(cmd: &mut Command) -> Terminal {
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two descriptors into the integers we pass; the
    // name, termios and winsize arguments may be null.
    let opened = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(opened, 0, "openpty: {}", std::io::Error::last_os_error());
    for fd in [master, slave] {
        // SAFETY: fcntl on descriptors we own. Close-on-exec, so children
        // other tests start meanwhile do not inherit this terminal.
        assert!(unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } == 0);
    }
    // SAFETY: between fork and exec only async-signal-safe calls are made.
    // The slave is still open there (it closes at exec); it becomes the
    // controlling terminal of the child's new session.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setsid() < 0 || libc::ioctl(slave, libc::TIOCSCTTY as _, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    // SAFETY: the descriptors were just opened for us alone.
    let (master, slave) = unsafe {
        (
            std::fs::File::from_raw_fd(master),
            std::fs::File::from_raw_fd(slave),
        )
    };
    Terminal {
        written: read_master(&master),
        _master: master,
        _slave: slave,
    }
}

/// Make `cmd` start in a session of its own with no controlling terminal,
/// whatever the test runner has.
pub fn no_terminal(cmd: &mut Command) {
    // SAFETY: setsid is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}
