//! What a person is waiting for, and until when: one line, updated in
//! place on the terminal (`/dev/tty`, `\r` and clear-to-end-of-line, when
//! the countdown changes: at most once a second), or said once as a plain
//! line where there is no terminal. Never on stdout, which callers use for
//! their protocol.

use std::fs::File;
use std::io::Write;
use std::sync::Mutex;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The line shown in place, if any: [`super::Terminal::say`] clears it
/// before saying something and draws it again after, so what is said
/// never runs into it.
static SHOWN: Mutex<Option<Shown>> = Mutex::new(None);

struct Shown {
    tty: File,
    text: String,
}

/// `left` as the person reads a countdown: `4:59`, `1:02:03`; rounded up,
/// so a wait of five minutes starts at `5:00`.
pub fn clock(left: Duration) -> String {
    let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// The line: `credential-oauth: <what> — <ends> <countdown>`.
pub fn line(what: &str, ends: &str, left: Duration) -> String {
    format!("credential-oauth: {what} — {ends} {}", clock(left))
}

/// The terminal to draw on: `/dev/tty`, opened non-blocking so a terminal
/// nobody reads (a stopped pager, a test's pseudo-terminal) costs an
/// update, never the wait itself.
pub fn terminal() -> Option<File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut opts, libc::O_NONBLOCK);
    opts.open("/dev/tty").ok()
}

/// A wait being shown; the line goes when this is dropped.
#[must_use = "the wait is shown only while this lives"]
pub struct Waiting {
    ticker: Option<(Sender<()>, JoinHandle<()>)>,
}

impl Waiting {
    /// Nothing more to do when the wait ends (the line was said once, or
    /// nothing was shown).
    pub fn said() -> Waiting {
        Waiting { ticker: None }
    }

    /// Draw the line on `tty` now and whenever its countdown changes, until
    /// dropped.
    pub fn in_place(tty: File, what: &str, ends: &str, until: Instant) -> Waiting {
        let (what, ends) = (what.to_string(), ends.to_string());
        let (stop, stopped) = mpsc::channel::<()>();
        let text = move || {
            line(
                &what,
                &ends,
                until.saturating_duration_since(Instant::now()),
            )
        };
        if let Ok(mut shown) = SHOWN.lock() {
            *shown = Some(Shown { tty, text: text() });
            if let Some(s) = shown.as_mut() {
                draw(s);
            }
        }
        let thread = std::thread::Builder::new()
            .name("waiting".into())
            .spawn(move || {
                loop {
                    // Wake when the countdown's seconds change: the
                    // fraction of a second left over, or a whole second.
                    let left = until.saturating_duration_since(Instant::now());
                    let next = match left.subsec_nanos() {
                        0 if left.is_zero() => Duration::from_secs(3600),
                        0 => Duration::from_secs(1),
                        n => Duration::from_nanos(u64::from(n)),
                    };
                    match stopped.recv_timeout(next) {
                        Err(RecvTimeoutError::Timeout) => {}
                        _ => break,
                    }
                    if let Ok(mut shown) = SHOWN.lock()
                        && let Some(s) = shown.as_mut()
                    {
                        let now = text();
                        if now != s.text {
                            s.text = now;
                            draw(s);
                        }
                    }
                }
                if let Ok(mut shown) = SHOWN.lock()
                    && let Some(mut s) = shown.take()
                {
                    let _ = s.tty.write(b"\r\x1b[K");
                }
            })
            .ok();
        Waiting {
            ticker: thread.map(|t| (stop, t)),
        }
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if let Some((stop, thread)) = self.ticker.take() {
            drop(stop);
            let _ = thread.join();
        }
    }
}

fn draw(shown: &mut Shown) {
    // One write, so the line is never seen half drawn; a full terminal
    // buffer loses this update, not the wait.
    let _ = shown
        .tty
        .write(format!("\r{}\x1b[K", shown.text).as_bytes());
}

/// Run `say` with the line in place (if any) cleared first and drawn again
/// after, so what is said starts on a clean line.
pub fn around(say: impl FnOnce()) {
    let Ok(mut shown) = SHOWN.lock() else {
        return say();
    };
    if let Some(s) = shown.as_mut() {
        let _ = s.tty.write(b"\r\x1b[K");
    }
    say();
    if let Some(s) = shown.as_mut() {
        draw(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_countdown_rounds_up_and_grows_hours() {
        assert_eq!(clock(Duration::from_secs(300)), "5:00");
        assert_eq!(clock(Duration::from_millis(299_001)), "5:00");
        assert_eq!(clock(Duration::from_secs(299)), "4:59");
        assert_eq!(clock(Duration::from_secs(9)), "0:09");
        assert_eq!(clock(Duration::ZERO), "0:00");
        assert_eq!(clock(Duration::from_secs(3723)), "1:02:03");
    }

    #[test]
    fn the_line_says_what_and_until_when() {
        assert_eq!(
            line(
                "waiting for approval at https://verify.example/device \
                 (authorization server https://as.example)",
                "code expires in",
                Duration::from_secs(581)
            ),
            "credential-oauth: waiting for approval at https://verify.example/device \
             (authorization server https://as.example) — code expires in 9:41"
        );
    }
}
