//! Bazel's credential-helper request on stdin, and the answer read back.
#![no_main]

use credential_oauth::protocol::bazel::{Request, Response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = Request::parse(data) {
        let mut out = Vec::new();
        request.write_to(&mut out).unwrap();
        assert_eq!(Request::parse(&out).unwrap(), request);
    }
    if let Ok(response) = Response::parse(data) {
        let mut out = Vec::new();
        response.write_to(&mut out).unwrap();
        assert_eq!(Response::parse(&out).unwrap(), response);
    }
});
