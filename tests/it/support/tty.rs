//! A person at a terminal, for the binary: a pseudo-terminal as its
//! controlling terminal (DESIGN.md "People in the loop": someone to ask is
//! a browser that can open or a terminal that can show a device code).

use std::os::fd::FromRawFd;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// Both sides of a pseudo-terminal, held open while the child runs:
/// closing the master hangs the terminal up.
pub struct Terminal {
    _master: std::fs::File,
    _slave: std::fs::File,
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
    unsafe {
        Terminal {
            _master: std::fs::File::from_raw_fd(master),
            _slave: std::fs::File::from_raw_fd(slave),
        }
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
