//! Server-sent events (the HTML Living Standard's `text/event-stream`, as
//! the MCP Streamable HTTP transport uses it): a reader that turns a byte
//! stream into events, whatever the sizes of the reads that bring it.
//!
//! Lines end in CRLF, LF or CR; a line starting with `:` is a comment; a
//! blank line dispatches the event; `data:` lines are joined with `\n`; one
//! space after the colon is dropped. An event with no data is not
//! dispatched. Every line and every event is bounded.

use std::io::{self, Read};

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Event {
    /// `event:`; empty means `message`.
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// `id:` (a NUL in it makes it ignored, as the standard says).
    pub id: Option<String>,
    /// `retry:` in milliseconds, when it was digits only.
    pub retry: Option<u64>,
}

impl Event {
    /// Whether this is a plain `message` event (no `event:` field, or
    /// `event: message`), the kind that carries a JSON-RPC message.
    pub fn is_message(&self) -> bool {
        self.event.is_empty() || self.event == "message"
    }
}

/// An event stream over `R`, read in chunks; at most `max_event` bytes
/// per event (its lines included).
pub struct Reader<R> {
    inner: R,
    buf: Vec<u8>,
    /// Where unread bytes of `buf` start.
    start: usize,
    /// The last line ended in CR: a LF right after it belongs to it.
    after_cr: bool,
    eof: bool,
    pending: Event,
    /// Bytes taken into `pending` so far.
    size: usize,
    has_data: bool,
    max_event: usize,
}

const CHUNK: usize = 8 * 1024;

impl<R: Read> Reader<R> {
    pub fn new(inner: R, max_event: usize) -> Reader<R> {
        Reader {
            inner,
            buf: Vec::new(),
            start: 0,
            after_cr: false,
            eof: false,
            pending: Event::default(),
            size: 0,
            has_data: false,
            max_event,
        }
    }

    /// The next event; `Ok(None)` at the end of the stream (an event not
    /// ended by a blank line is dropped, as the standard says). An event
    /// larger than the bound is an error of kind `FileTooLarge`.
    pub fn next_event(&mut self) -> io::Result<Option<Event>> {
        loop {
            match self.next_line()? {
                None => return Ok(None),
                Some(line) => {
                    if let Some(event) = self.take_line(&line)? {
                        return Ok(Some(event));
                    }
                }
            }
        }
    }

    /// One line without its ending; `None` at the end of the stream.
    fn next_line(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            let unread = &self.buf[self.start..];
            if self.after_cr && !unread.is_empty() {
                self.after_cr = false;
                if unread[0] == b'\n' {
                    self.start += 1;
                    continue;
                }
            }
            if let Some(end) = unread.iter().position(|b| *b == b'\n' || *b == b'\r') {
                let line = unread[..end].to_vec();
                self.after_cr = unread[end] == b'\r';
                self.start += end + 1;
                return Ok(Some(line));
            }
            if unread.len() + self.size > self.max_event {
                return Err(too_large(self.max_event));
            }
            if self.eof {
                return Ok(None);
            }
            // Keep only what is unread, then read more after it.
            self.buf.drain(..self.start);
            self.start = 0;
            let old = self.buf.len();
            self.buf.resize(old + CHUNK, 0);
            let n = loop {
                match self.inner.read(&mut self.buf[old..]) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other,
                }
            };
            let n = match n {
                Ok(n) => n,
                Err(e) => {
                    self.buf.truncate(old);
                    return Err(e);
                }
            };
            self.buf.truncate(old + n);
            if n == 0 {
                self.eof = true;
            }
        }
    }

    /// Interpret one line; a blank line dispatches the pending event.
    fn take_line(&mut self, line: &[u8]) -> io::Result<Option<Event>> {
        if line.is_empty() {
            let event = std::mem::take(&mut self.pending);
            let dispatch = std::mem::take(&mut self.has_data);
            self.size = 0;
            return Ok(dispatch.then_some(event));
        }
        self.size += line.len() + 1;
        if self.size > self.max_event {
            return Err(too_large(self.max_event));
        }
        if line[0] == b':' {
            return Ok(None);
        }
        let (field, value) = match line.iter().position(|b| *b == b':') {
            Some(i) => {
                let value = &line[i + 1..];
                (&line[..i], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        let value = String::from_utf8_lossy(value);
        match field {
            b"data" => {
                if self.has_data {
                    self.pending.data.push('\n');
                }
                self.pending.data.push_str(&value);
                self.has_data = true;
            }
            b"event" => self.pending.event = value.into_owned(),
            b"id" if !value.contains('\0') => self.pending.id = Some(value.into_owned()),
            b"retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                self.pending.retry = value.parse().ok();
            }
            _ => {}
        }
        Ok(None)
    }
}

fn too_large(max: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::FileTooLarge,
        format!("an event is larger than {} KiB", max / 1024),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out its bytes `step` at a time.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.bytes.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    fn events(bytes: &[u8], step: usize) -> Vec<Event> {
        let mut reader = Reader::new(Trickle { bytes, step }, 1024);
        let mut out = Vec::new();
        while let Some(e) = reader.next_event().unwrap() {
            out.push(e);
        }
        out
    }

    fn data(events: &[Event]) -> Vec<&str> {
        events.iter().map(|e| e.data.as_str()).collect()
    }

    #[test]
    fn a_message_split_across_reads_is_one_event_whatever_the_read_size() {
        let stream = b"event: message\nid: 7\ndata: {\"jsonrpc\":\"2.0\",\"id\":1}\n\n\
                       data: {\"b\":2}\n\n";
        for step in 1..stream.len() {
            let got = events(stream, step);
            assert_eq!(
                data(&got),
                ["{\"jsonrpc\":\"2.0\",\"id\":1}", "{\"b\":2}"],
                "{step}"
            );
            assert_eq!(got[0].id.as_deref(), Some("7"));
            assert!(got[0].is_message() && got[1].is_message());
        }
    }

    #[test]
    fn crlf_and_lone_cr_end_lines_too() {
        for step in [1, 2, 3, 100] {
            assert_eq!(
                data(&events(b"data: a\r\n\r\ndata: b\r\rdata: c\n\n", step)),
                ["a", "b", "c"]
            );
        }
        // A CR at the end of one read and its LF at the start of the next
        // are one line ending, not a blank line between.
        let got = events(b"data: x\r\ndata: y\r\n\r\n", 8);
        assert_eq!(data(&got), ["x\ny"]);
    }

    #[test]
    fn comments_are_skipped_and_data_lines_join_with_newlines() {
        let got = events(
            b": keep-alive\n\n:\ndata: first\ndata:second\ndata\ndata:  two spaces\n\n",
            5,
        );
        assert_eq!(data(&got), ["first\nsecond\n\n two spaces"]);
    }

    #[test]
    fn fields_are_read_and_an_event_without_data_is_not_dispatched() {
        let got = events(
            b"event: endpoint\nretry: 1500\n\nevent: ping\ndata: p\nretry: x\nid: a\0b\nfoo: bar\n\ndata: tail-without-blank-line",
            4,
        );
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].event, "ping");
        assert!(!got[0].is_message());
        assert_eq!((got[0].retry, got[0].id.as_deref()), (None, None));
        let got = events(b"retry: 1500\ndata: d\n\n", 3);
        assert_eq!(got[0].retry, Some(1500));
    }

    #[test]
    fn an_event_over_the_bound_is_an_error_even_without_a_line_end() {
        let mut big = b"data: ".to_vec();
        big.resize(5000, b'x');
        let mut reader = Reader::new(&big[..], 1024);
        let e = reader.next_event().unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        let mut many = Vec::new();
        for _ in 0..200 {
            many.extend_from_slice(b"data: 0123456789\n");
        }
        let mut reader = Reader::new(&many[..], 1024);
        assert_eq!(
            reader.next_event().unwrap_err().kind(),
            io::ErrorKind::FileTooLarge
        );
        // Comments count too: a server cannot grow memory with them.
        let mut comments = Vec::new();
        for _ in 0..200 {
            comments.extend_from_slice(b": 0123456789\n");
        }
        comments.extend_from_slice(b"\ndata: ok\n\n");
        let mut reader = Reader::new(&comments[..], 1024);
        assert!(reader.next_event().is_err());
    }
}
