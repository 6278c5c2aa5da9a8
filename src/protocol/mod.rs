//! Wire formats of the programs that ask for credentials. Nothing here knows
//! OAuth; nothing outside knows a wire format.

pub mod bazel;
pub mod cargo;
pub mod cargo_index;
pub mod docker;
pub mod exec_credential;
pub mod git;
pub mod goauth;
pub mod jsonrpc;
pub mod keyring_cli;
pub mod sse;
pub mod terraform;

use crate::bounded::read_at_most;
use crate::error::{Error, Result};
use std::io::{self, Read};

/// Write `bytes` to the caller's stdout and flush: an answer is whole or
/// the failure says so.
pub fn write_answer(out: &mut dyn std::io::Write, bytes: &[u8]) -> Result<()> {
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("cannot write to standard output".into(), e))
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

/// Read all of `input`, refusing more than [`MAX_INPUT`] bytes.
pub fn read_bounded(input: &mut dyn Read) -> Result<Vec<u8>> {
    read_at_most(input, MAX_INPUT).map_err(|e| match e.kind() {
        io::ErrorKind::FileTooLarge => Error::Input(format!(
            "standard input is larger than {} KiB",
            MAX_INPUT / 1024
        )),
        _ => Error::io("cannot read standard input".into(), e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdin_over_the_limit_is_named_in_kib() {
        let big = vec![b'x'; MAX_INPUT as usize + 1];
        let e = read_bounded(&mut &big[..]).unwrap_err().to_string();
        assert!(e.contains("standard input is larger than 64 KiB"), "{e}");
        assert_eq!(read_bounded(&mut &b"host=a\n"[..]).unwrap(), b"host=a\n");
    }
}
