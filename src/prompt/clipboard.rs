//! Putting a device login's user code on the clipboard, where a clipboard
//! tool is installed and a display is there to own the clipboard. Only the
//! user code goes there: it is meant to be shown (RFC 8628 §3.3), unlike
//! the device code, which never leaves this process but to the server.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long a clipboard tool is watched: one that fails by then (no
/// display to talk to) did not copy, and the next is tried; one still
/// running is serving the clipboard and is taken as done.
const TOOL_START: Duration = Duration::from_millis(500);

/// The tools to try, in order, for this session: Wayland's, then X11's
/// (only with a display), then macOS's.
fn tools() -> Vec<&'static [&'static str]> {
    let var = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    let mut tools: Vec<&'static [&'static str]> = Vec::new();
    if var("WAYLAND_DISPLAY") {
        tools.push(&["wl-copy"]);
    }
    if var("DISPLAY") {
        tools.push(&["xclip", "-selection", "clipboard"]);
        tools.push(&["xsel", "-b"]);
    }
    if cfg!(target_os = "macos") {
        tools.push(&["pbcopy"]);
    }
    tools
}

/// Copy `text`; the name of the tool that took it, or `None`. Never blocks
/// longer than [`TOOL_START`] per tool tried; the tools get null stdout and
/// stderr so one that stays to serve the clipboard holds none of ours.
pub fn copy(text: &str) -> Option<&'static str> {
    tools().into_iter().find_map(|argv| {
        let mut child = Command::new(argv[0])
            .args(&argv[1..])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        // A user code is a few bytes: the pipe takes them without waiting.
        let mut stdin = child.stdin.take()?;
        let written = stdin.write_all(text.as_bytes()).is_ok();
        drop(stdin);
        let (tx, rx) = mpsc::channel();
        // A thread reaps the tool whenever it exits.
        std::thread::spawn(move || {
            let _ = tx.send(child.wait());
        });
        let copied = match rx.recv_timeout(TOOL_START) {
            Ok(Ok(status)) => status.success(),
            Ok(Err(_)) => false,
            Err(_) => true,
        };
        (written && copied).then_some(argv[0])
    })
}
