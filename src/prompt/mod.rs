//! Everything said to or read from a person: the browser, the device code,
//! the address pasted back, progress and notices. [`Prompt`] is the one
//! seam; [`Terminal`] is the real person at stderr, `/dev/tty` and the
//! system browser, and tests script their own. Nothing else writes to a
//! person (diagnostics for `-v` go through [`crate::log`]).

pub mod browser;
pub mod clipboard;
pub mod text;
pub mod waiting;

pub use text::{escape, is_unsafe_on_a_terminal};
pub use waiting::Waiting;

use crate::error::Result;
use std::sync::mpsc::Receiver;
use std::time::Instant;
use url::Url;

/// Longest line read from the terminal: a pasted redirect address is a few
/// hundred bytes.
const MAX_LINE: u64 = 8 * 1024;

/// The person, as the grants and commands talk to them.
pub trait Prompt {
    /// Whether a browser could open here at all.
    fn can_open_browser(&self) -> bool;
    /// Open `url` in the browser; `Err` when none started.
    fn open_browser(&self, url: &Url) -> Result<()>;
    /// Tell the person `text`: whole lines, on stderr for a terminal.
    fn say(&self, text: &str);
    /// Lines the person types or pastes, when there is a terminal to read.
    fn typed_lines(&self) -> Option<Receiver<String>>;
    /// Whether anyone can be asked at all. With nobody to ask no login
    /// starts; a refresh, which needs nobody, still runs (DESIGN.md
    /// "People in the loop").
    fn someone_to_ask(&self) -> bool {
        true
    }
    /// Show that `what` is awaited and that the wait `ends` ("gives up
    /// in", "code expires in") at `until`, for as long as the returned
    /// [`Waiting`] lives. Said once as a plain line unless a terminal can
    /// show it in place.
    fn waiting(&self, what: &str, ends: &str, until: Instant) -> Waiting {
        let left = until.saturating_duration_since(Instant::now());
        self.say(&waiting::line(what, ends, left));
        Waiting::said()
    }
    /// Put `text` (a user code, which is meant to be shown) on the
    /// clipboard; the tool that took it, or `None`.
    fn copy_to_clipboard(&self, _text: &str) -> Option<&'static str> {
        None
    }
}

/// A caller that forbids prompts (kubectl's `interactive: false`, …): what
/// is said still reaches stderr, but nobody is asked anything.
pub struct Unattended<'a>(pub &'a dyn Prompt);

impl Prompt for Unattended<'_> {
    fn can_open_browser(&self) -> bool {
        false
    }

    fn open_browser(&self, _: &Url) -> Result<()> {
        Err(crate::error::Error::Login(
            "nobody to ask here: no browser is opened".into(),
        ))
    }

    fn say(&self, text: &str) {
        self.0.say(text);
    }

    fn typed_lines(&self) -> Option<Receiver<String>> {
        None
    }

    fn someone_to_ask(&self) -> bool {
        false
    }

    fn waiting(&self, what: &str, ends: &str, until: Instant) -> Waiting {
        self.0.waiting(what, ends, until)
    }
}

/// The real person: stderr, `/dev/tty` (never stdin, which callers use for
/// their protocol) and the system browser.
pub struct Terminal;

impl Prompt for Terminal {
    fn can_open_browser(&self) -> bool {
        browser::available()
    }

    fn open_browser(&self, url: &Url) -> Result<()> {
        browser::open(url)
    }

    fn say(&self, text: &str) {
        waiting::around(|| {
            if text.ends_with('\n') {
                eprint!("{text}");
            } else {
                eprintln!("{text}");
            }
        });
    }

    fn typed_lines(&self) -> Option<Receiver<String>> {
        terminal_lines()
    }

    /// Someone is there when a browser can open or a terminal can show a
    /// device code (DESIGN.md "People in the loop"): an IDE's background
    /// fetch or a CI job has neither, and must not wait for a login.
    fn someone_to_ask(&self) -> bool {
        browser::available() || std::fs::File::open("/dev/tty").is_ok()
    }

    /// In place on `/dev/tty` when there is one, else a line on stderr.
    fn waiting(&self, what: &str, ends: &str, until: Instant) -> Waiting {
        match waiting::terminal() {
            Some(tty) => Waiting::in_place(tty, what, ends, until),
            None => {
                let left = until.saturating_duration_since(Instant::now());
                self.say(&waiting::line(what, ends, left));
                Waiting::said()
            }
        }
    }

    fn copy_to_clipboard(&self, text: &str) -> Option<&'static str> {
        clipboard::copy(text)
    }
}

/// Lines typed or pasted on the terminal (`/dev/tty`, never stdin, which git
/// uses for the protocol), when there is one. The reader thread lives until
/// the process ends; it only ever blocks on the terminal.
pub fn terminal_lines() -> Option<Receiver<String>> {
    use std::io::{BufRead, Read};
    let tty = std::fs::File::open("/dev/tty").ok()?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("tty-paste".into())
        .spawn(move || {
            let mut reader = std::io::BufReader::new(tty);
            loop {
                let mut line = String::new();
                match (&mut reader).take(MAX_LINE).read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if tx.send(line).is_err() {
                            break;
                        }
                    }
                }
            }
        })
        .ok()?;
    Some(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unattended_asks_nobody_and_opens_nothing() {
        let p = Unattended(&Terminal);
        assert!(!p.someone_to_ask() && !p.can_open_browser());
        assert!(p.typed_lines().is_none());
        assert!(p.open_browser(&Url::parse("https://a/").unwrap()).is_err());
    }
}
