//! Wire formats of the programs that ask for credentials. Nothing here knows
//! OAuth; nothing outside knows a wire format.

pub mod challenge;
pub mod docker;
pub mod git;

use crate::error::{Error, Result};
use std::io::Read;

/// Most a caller may send on stdin. Real requests are a few hundred bytes.
pub const MAX_INPUT: u64 = 64 * 1024;

/// Read all of `input`, refusing more than [`MAX_INPUT`] bytes.
pub fn read_bounded(input: &mut dyn Read) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    input
        .take(MAX_INPUT + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::Input(format!("cannot read standard input: {e}")))?;
    if buf.len() as u64 > MAX_INPUT {
        return Err(Error::Input(format!(
            "standard input is larger than {} KiB",
            MAX_INPUT / 1024
        )));
    }
    Ok(buf)
}
