//! kubectl's ExecCredential: the request in KUBERNETES_EXEC_INFO, and an
//! answer. Whatever parses writes again and parses back to the same value.
#![no_main]

use credential_oauth::protocol::exec_credential::{Request, Response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = Request::parse(data) {
        let mut out = Vec::new();
        request.write_to(&mut out).expect("a parsed request writes");
        assert_eq!(Request::parse(&out).expect("written parses"), request);
    }
    if let Ok(response) = Response::parse(data) {
        let mut out = Vec::new();
        response.write_to(&mut out).expect("a parsed answer writes");
        assert_eq!(Response::parse(&out).expect("written parses"), response);
    }
});
