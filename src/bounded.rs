//! The one bounded read (DESIGN.md "Bounded reads and bounded waits"):
//! stdin, the config file, cache entries, git's output, key and token
//! files all go through [`read_at_most`].

use std::io::{self, Read};

/// Read all of `reader`, refusing more than `limit` bytes. At most
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
}
