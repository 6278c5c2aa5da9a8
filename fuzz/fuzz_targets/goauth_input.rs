//! Go's GOAUTH input (the 4xx response on stdin) and output grammar.
#![no_main]

use credential_oauth::protocol::goauth::{CredentialSet, Response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(response) = Response::parse(data) {
        let _ = response.challenges();
        let mut out = Vec::new();
        if response.write_to(&mut out).is_ok() {
            assert!(Response::parse(&out).is_ok());
        }
    }
    if let Ok(sets) = CredentialSet::parse_all(data) {
        let mut out = Vec::new();
        let _ = CredentialSet::write_all(&sets, &mut out);
    }
});
