//! Wire formats of the programs that ask for credentials. Nothing here knows
//! OAuth; nothing outside knows a wire format.

pub mod bazel;
pub mod cargo;
pub mod cargo_index;
pub mod docker;
pub mod exec_credential;
pub mod git;
pub mod goauth;
pub mod keyring_cli;
pub mod terraform;

use crate::error::{Error, Result};
use std::io::{self, Read};

/// Write `bytes` to the caller's stdout and flush: an answer is whole or
/// the failure says so.
pub fn write_answer(out: &mut dyn std::io::Write, bytes: &[u8]) -> Result<()> {
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| Error::Input(format!("cannot write to standard output: {e}")))
}

/// `value` as one line of compact JSON (which escapes every control
/// character, so no newline can split it) and a newline, flushed.
pub fn write_json_line<T: serde::Serialize>(value: &T, out: &mut dyn std::io::Write) -> Result<()> {
    let mut line = serde_json::to_vec(value)
        .map_err(|e| Error::Local(format!("cannot encode the answer: {e}")))?;
    line.push(b'\n');
    write_answer(out, &line)
}

/// Most a caller may send on stdin. Real requests are a few hundred bytes.
pub const MAX_INPUT: u64 = 64 * 1024;

/// Read all of `reader`, refusing more than `limit` bytes: the one bounded
/// read behind stdin, the config file, cache entries, git's output and
/// HTTP bodies (DESIGN.md "Bounded reads and bounded waits"). At most
/// `limit + 1` bytes are read; more is an error of kind
/// [`io::ErrorKind::FileTooLarge`], which callers word for their reader.
pub fn read_at_most(reader: impl Read, limit: u64) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    reader.take(limit.saturating_add(1)).read_to_end(&mut buf)?;
    if buf.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("larger than {limit} bytes"),
        ));
    }
    Ok(buf)
}

/// `host[:port]` as callers write a server: git's `host=`, a docker
/// registry, an entry of `discover_hosts`. The port is written only when
/// given (`url::Url::port` leaves out the scheme's default).
pub fn host_and_port(host: &str, port: Option<u16>) -> String {
    match port {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// Read all of `input`, refusing more than [`MAX_INPUT`] bytes.
pub fn read_bounded(input: &mut dyn Read) -> Result<Vec<u8>> {
    read_at_most(input, MAX_INPUT).map_err(|e| match e.kind() {
        io::ErrorKind::FileTooLarge => Error::Input(format!(
            "standard input is larger than {} KiB",
            MAX_INPUT / 1024
        )),
        _ => Error::Input(format!("cannot read standard input: {e}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_at_most_takes_the_limit_and_refuses_one_byte_more() {
        assert_eq!(read_at_most(&b"abcd"[..], 4).unwrap(), b"abcd");
        assert_eq!(read_at_most(&b""[..], 0).unwrap(), b"");
        let e = read_at_most(&b"abcde"[..], 4).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        // An endless reader is cut off after limit + 1 bytes.
        let e = read_at_most(io::repeat(b'x'), 1024).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
    }

    #[test]
    fn host_and_port_writes_the_port_only_when_given() {
        assert_eq!(host_and_port("git.example", None), "git.example");
        assert_eq!(host_and_port("git.example", Some(8443)), "git.example:8443");
        let url = url::Url::parse("https://[::1]:443/").unwrap();
        assert_eq!(host_and_port(url.host_str().unwrap(), url.port()), "[::1]");
    }

    #[test]
    fn stdin_over_the_limit_is_named_in_kib() {
        let big = vec![b'x'; MAX_INPUT as usize + 1];
        let e = read_bounded(&mut &big[..]).unwrap_err().to_string();
        assert!(e.contains("standard input is larger than 64 KiB"), "{e}");
        assert_eq!(read_bounded(&mut &b"host=a\n"[..]).unwrap(), b"host=a\n");
    }
}
