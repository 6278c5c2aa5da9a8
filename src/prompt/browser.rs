//! Opening the system browser: `$BROWSER` (text browsers skipped, null
//! stdio, a failed start noticed), else the platform's opener.

use crate::error::{Error, Result};
use std::time::Duration;
use url::Url;

/// Whether a browser could open at all. On Linux and the BSDs a graphical
/// browser needs a display; without one and without `$BROWSER` the
/// platform opener would fail or start a text browser on git's terminal.
pub fn available() -> bool {
    if cfg!(any(target_os = "macos", windows)) || !cfg!(unix) {
        return true;
    }
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match var("BROWSER") {
        Some(b) => !only_text_browsers(&b),
        None => var("DISPLAY").is_some() || var("WAYLAND_DISPLAY").is_some(),
    }
}

/// Browsers that draw in the terminal they are started from. Ours is git's:
/// stdin and stdout are the credential protocol, so such a browser would
/// read git's request and write into git's answer. They are never started.
const TEXT_BROWSERS: [&str; 9] = [
    "lynx", "links", "links2", "elinks", "w3m", "eww", "netrik", "retawq", "curl",
];

/// How long a browser command is watched after it starts: one that exits
/// with an error by then did not open, and the next is tried. One still
/// running (a browser that stays in the foreground, or a script that waits
/// for the page) is taken as open; the person also has the printed URL.
const BROWSER_START: Duration = Duration::from_millis(500);

/// Whether every `$BROWSER` entry is empty or a text browser.
fn only_text_browsers(browser: &str) -> bool {
    browser
        .split(':')
        .all(|entry| browser_command(entry, "").is_none())
}

/// One `$BROWSER` entry as a command line, or `None` when it is empty or
/// names a text browser. As Python's `webbrowser` and the `webbrowser`
/// crate read it: words split on whitespace, `%s` replaced by the URL (the
/// URL appended as the last argument when no word has `%s`), `%c` by `:`
/// and `%%` by `%`.
fn browser_command(entry: &str, url: &str) -> Option<Vec<String>> {
    let mut has_url = false;
    let mut argv: Vec<String> = entry
        .split_whitespace()
        .map(|word| {
            let mut out = String::with_capacity(word.len());
            let mut chars = word.chars();
            while let Some(c) = chars.next() {
                match (c, chars.clone().next()) {
                    ('%', Some('s')) => {
                        out.push_str(url);
                        has_url = true;
                    }
                    ('%', Some('c')) => out.push(':'),
                    ('%', Some('%')) => out.push('%'),
                    _ => {
                        out.push(c);
                        continue;
                    }
                }
                chars.next();
            }
            out
        })
        .collect();
    if argv.first().is_none_or(|program| is_text_browser(program)) {
        return None;
    }
    if !has_url {
        argv.push(url.to_string());
    }
    Some(argv)
}

/// Whether `program` is a text browser by its name, or by the name of what
/// it resolves to on PATH (`x-www-browser` is often a link to `lynx`).
fn is_text_browser(program: &str) -> bool {
    let named = |p: &std::path::Path| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| TEXT_BROWSERS.contains(&n))
    };
    let path = std::path::Path::new(program);
    let found = if program.contains('/') {
        Some(path.to_path_buf())
    } else {
        std::env::var_os("PATH").and_then(|dirs| {
            std::env::split_paths(&dirs)
                .map(|dir| dir.join(program))
                .find(|p| p.is_file())
        })
    };
    named(path)
        || found
            .and_then(|p| std::fs::canonicalize(p).ok())
            .is_some_and(|p| named(&p))
}

/// Open `url` in the browser: the `$BROWSER` entries in order, text
/// browsers skipped, until one starts; without `$BROWSER`, the platform's
/// opener (the `webbrowser` crate, which starts it with null stdio).
pub fn open(url: &Url) -> Result<()> {
    let Some(list) = std::env::var("BROWSER").ok().filter(|b| !b.is_empty()) else {
        return webbrowser::open(url.as_str())
            .map_err(|e| Error::Login(format!("cannot open a browser: {e}")));
    };
    let mut failure = "$BROWSER names no graphical browser".to_string();
    for argv in list
        .split(':')
        .filter_map(|entry| browser_command(entry, url.as_str()))
    {
        match start_browser(&argv) {
            Ok(()) => return Ok(()),
            Err(why) => {
                crate::debug!("{why}");
                failure = why;
            }
        }
    }
    Err(Error::Login(format!("cannot open a browser: {failure}")))
}

/// Start one browser command with stdin, stdout and stderr on /dev/null:
/// git's pipes are the protocol, and the terminal is not the browser's.
/// `Err` (naming the program only: the URL carries `state`) when it cannot
/// be started or exits with an error within [`BROWSER_START`].
fn start_browser(argv: &[String]) -> std::result::Result<(), String> {
    use std::process::{Command, Stdio};
    let program = super::text::escape(&argv[0]);
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    // A thread waits, so the child is reaped whenever it exits, and this
    // thread waits no longer than BROWSER_START.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    match rx.recv_timeout(BROWSER_START) {
        Ok(Ok(status)) if !status.success() => Err(format!("{program} failed ({status})")),
        Ok(Err(e)) => Err(format!("{program}: {e}")),
        Ok(Ok(_)) | Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_entries_take_the_url_where_percent_s_is_or_last() {
        let url = "http://a/?x=1%2F";
        assert_eq!(browser_command("firefox", url).unwrap(), ["firefox", url]);
        assert_eq!(
            browser_command("  /opt/ff --new-tab  --url=%s ", url).unwrap(),
            ["/opt/ff", "--new-tab", &format!("--url={url}")]
        );
        assert_eq!(
            browser_command("b --x=%%s --y=%c%z", url).unwrap(),
            ["b", "--x=%s", "--y=:%z", url]
        );
        assert_eq!(browser_command("", url), None);
        assert_eq!(browser_command("  ", url), None);
        assert_eq!(browser_command("lynx -accept_all_cookies %s", url), None);
        assert_eq!(browser_command("/usr/bin/w3m", url), None);
    }

    #[test]
    fn text_browsers_do_not_count_as_a_browser() {
        assert!(only_text_browsers("w3m"));
        assert!(only_text_browsers(
            "/usr/bin/lynx -accept_all_cookies:links"
        ));
        assert!(!only_text_browsers("firefox"));
        assert!(!only_text_browsers("w3m:/opt/firefox/firefox %s"));
        assert!(!only_text_browsers("/tmp/it/browser.sh"));
    }
}
