//! Terraform's credentials-helper input: `store`'s JSON object and HOST.
#![no_main]

use credential_oauth::protocol::terraform::{Credentials, parse_host};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(creds) = Credentials::parse(data) {
        let mut out = Vec::new();
        if creds.write_to(&mut out).is_ok() {
            assert_eq!(Credentials::parse(&out).ok(), Some(creds));
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_host(text);
    }
});
