//! Where a request may go, and how a server is named: https everywhere
//! except loopback (DESIGN.md "Rules that hold everywhere"), and names fit
//! for one line of a message.

use crate::error::{Error, Result};
use std::net::IpAddr;
use url::Url;

/// Whether the URL's host is a loopback address (127.0.0.0/8, ::1, localhost).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// HTTPS everywhere except loopback (tests, demos, and the redirect listener).
pub fn check_transport(url: &Url) -> Result<()> {
    check_transport_allowing(url, false)
}

/// [`check_transport`], or any http URL when the provider set
/// `allow_insecure_http = true`.
pub fn check_transport_allowing(url: &Url, allow_insecure_http: bool) -> Result<()> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_insecure_http || is_loopback(url) => Ok(()),
        _ => Err(Error::Refused(format!(
            "refusing {}: endpoints must use https (plain http only on loopback, \
             or with allow_insecure_http = true)",
            origin(url)
        ))),
    }
}

/// `scheme://host[:port]/path` with no query: how a server is named in messages.
pub fn origin(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

/// How an authorization server is named to a person: the `scheme://host[:port]`
/// of its issuer, with an internationalised host in its ASCII form, so a
/// look-alike name cannot pass for another.
pub fn authority(issuer: &str) -> String {
    match Url::parse(issuer) {
        Ok(u) if u.host().is_some() => u.origin().ascii_serialization(),
        _ => printable(issuer, 200),
    }
}

/// A server-chosen string made safe for one terminal line: what
/// [`crate::prompt::is_unsafe_on_a_terminal`] flags (controls, and format
/// characters such as U+202E that would reorder the line) becomes a space.
pub fn printable(s: &str, max: usize) -> String {
    s.chars()
        .take(max)
        .map(|c| {
            if crate::prompt::is_unsafe_on_a_terminal(c) {
                ' '
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_is_https_except_loopback() {
        let ok = [
            "https://a.example/",
            "http://127.0.0.1:8/",
            "http://127.3.4.5/",
            "http://[::1]:9/",
            "http://localhost/",
        ];
        for u in ok {
            assert!(check_transport(&Url::parse(u).unwrap()).is_ok(), "{u}");
        }
        for u in ["http://a.example/", "http://10.0.0.1/", "ftp://a/"] {
            assert!(check_transport(&Url::parse(u).unwrap()).is_err(), "{u}");
        }
        let internal = Url::parse("http://auth.internal.example/").unwrap();
        assert!(check_transport_allowing(&internal, true).is_ok());
        let ftp = Url::parse("ftp://auth.internal.example/").unwrap();
        assert!(check_transport_allowing(&ftp, true).is_err());
    }

    #[test]
    fn printable_blanks_controls_and_format_characters() {
        assert_eq!(
            printable("a\u{1b}[2Jb\u{202e}c\u{200b}d\u{2028}e", 100),
            "a [2Jb c d e"
        );
        assert_eq!(printable("abcdef", 3), "abc");
    }
}
