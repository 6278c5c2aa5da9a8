//! cargo's credential-provider request line: parsed without a panic, and a
//! request that parses is written back as one line that parses to itself.
#![no_main]

use credential_oauth::protocol::cargo::{Request, read_line};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(line) = read_line(&mut &data[..]) else {
        return;
    };
    if let Ok(request) = Request::parse(&line) {
        let _ = request.registry.url();
        let _ = request.registry.challenges();
        let mut out = Vec::new();
        request.write_to(&mut out).unwrap();
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
        assert_eq!(Request::parse(&out).unwrap(), request);
    }
});
