//! The query string of the loopback redirect, checked against a state.
#![no_main]

use credential_oauth::grant::callback::{ExpectedIssuer, judge, parse_callback};
use credential_oauth::secret::Secret;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(query) = std::str::from_utf8(data) {
        let issuer = ExpectedIssuer {
            issuer: "https://as.example".into(),
            required: data.first().is_some_and(|b| b & 1 == 1),
        };
        let _ = judge(parse_callback(query), &Secret::new("expected-state"), &issuer);
    }
});
