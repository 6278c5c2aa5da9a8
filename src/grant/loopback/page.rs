//! The pages the browser lands on: what happened, for whom, and the
//! command to try again. Text only, escaped; each page is whole in itself.

use crate::error::Error;
use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

/// A page for the browser: a heading, a few lines, a command to run. All
/// text, escaped; the page is whole in itself (inline CSS, no script, no
/// other resource), which its Content-Security-Policy holds it to.
pub(super) struct Page {
    ok: bool,
    heading: String,
    lines: Vec<String>,
    command: Option<String>,
}

/// The look of every page: a card in the middle, light or dark as the
/// browser prefers.
const STYLE: &str = "body{margin:0;min-height:100vh;display:flex;align-items:center;\
justify-content:center;background:#f3f4f6;color:#1f2328;font:16px/1.5 system-ui,sans-serif}\
main{max-width:30rem;margin:1rem;padding:2rem 2.25rem;background:#fff;border-radius:12px;\
box-shadow:0 1px 4px #0002}\
.mark{width:2.5rem;height:2.5rem;border-radius:50%;color:#fff;font-size:1.5rem;\
line-height:2.5rem;text-align:center;background:#cf222e}.ok .mark{background:#1a7f37}\
h1{font-size:1.35rem;margin:1rem 0 .5rem}p{margin:.5rem 0}\
code{display:block;margin:.5rem 0;padding:.5rem .75rem;border-radius:6px;background:#f6f8fa;\
font:14px ui-monospace,monospace;overflow-wrap:anywhere}\
footer{margin-top:1.25rem;font-size:.85rem;color:#656d76}\
@media(prefers-color-scheme:dark){body{background:#0d1117;color:#e6edf3}\
main{background:#161b22;box-shadow:none}code{background:#0d1117}footer{color:#8d96a0}}";

impl Page {
    /// A page about a request that is no part of any login.
    pub(super) fn plain(line: &str) -> Page {
        Page {
            ok: false,
            heading: "Nothing here".into(),
            lines: vec![line.into()],
            command: None,
        }
    }

    /// A redirect that is not the login in progress (`why`): it waits on.
    pub(super) fn refused(why: &str, provider: &str, retry: String) -> Page {
        Page {
            ok: false,
            heading: "Not the login in progress".into(),
            lines: vec![
                format!("This tab was refused: {why}."),
                format!(
                    "The login to {provider} is still waiting: finish it in the tab \
                     credential-oauth opened, or run in a terminal:"
                ),
            ],
            command: Some(retry),
        }
    }

    /// The login went through.
    pub(super) fn logged_in(provider: &str, account: &str) -> Page {
        let mut lines = Vec::new();
        if !account.is_empty() {
            lines.push(format!("Account: {account}"));
        }
        lines.push(
            "credential-oauth received the authorization. You can close this tab \
             and return to the terminal."
                .into(),
        );
        Page {
            ok: true,
            heading: format!("Logged in to {provider}"),
            lines,
            command: None,
        }
    }

    /// The login ended with `e` (the server's error, another issuer).
    pub(super) fn failed(e: &Error, provider: &str, account: &str, retry: String) -> Page {
        let mut lines = vec![sentence(&format!("{e}."))];
        if !account.is_empty() {
            lines.push(format!("Account: {account}"));
        }
        lines.push("You can close this tab. To try again, run in a terminal:".into());
        Page {
            ok: false,
            heading: format!("The login to {provider} failed"),
            lines,
            command: Some(retry),
        }
    }

    fn html(&self) -> String {
        let mut body = String::new();
        for line in &self.lines {
            body.push_str(&format!("<p>{}</p>", html_escape(line)));
        }
        if let Some(command) = &self.command {
            body.push_str(&format!("<code>{}</code>", html_escape(command)));
        }
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
             <title>{h} \u{b7} credential-oauth</title><style>{STYLE}</style></head>\n\
             <body><main class=\"{class}\"><div class=\"mark\">{mark}</div><h1>{h}</h1>{body}\
             <footer>credential-oauth</footer></main></body></html>\n",
            h = html_escape(&self.heading),
            class = if self.ok { "ok" } else { "no" },
            mark = if self.ok { "\u{2713}" } else { "\u{2715}" },
        )
    }
}

pub(super) fn respond(mut stream: TcpStream, status: u16, page: &Page) {
    let html = page.html();
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        414 => "URI Too Long",
        _ => "Request Header Fields Too Large",
    };
    let answer = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n\
         Referrer-Policy: no-referrer\r\n\
         Cache-Control: no-store\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{html}",
        html.len()
    );
    // The page is small enough for the socket buffer; a browser that has
    // gone away changes nothing about the login's outcome.
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let _ = stream.write_all(answer.as_bytes());
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

/// `text` with its first letter capitalised: error messages start in lower
/// case to be quoted in a line, but stand alone on a page.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Text made safe to place in an HTML page.
fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_text_is_escaped() {
        assert_eq!(html_escape("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
        let page = Page {
            ok: false,
            heading: "The login to <corp> failed".into(),
            lines: vec!["a & b".into()],
            command: Some("credential-oauth login https://x/?a=1&b=<2>".into()),
        }
        .html();
        assert!(page.contains("<h1>The login to &lt;corp&gt; failed</h1><p>a &amp; b</p>"));
        assert!(
            page.contains("<code>credential-oauth login https://x/?a=1&amp;b=&lt;2&gt;</code>")
        );
        assert!(!page.contains("<script") && !page.contains("src=") && !page.contains("href="));
    }
}
