//! docker's credential-helper input: a server URL or a credentials JSON.
#![no_main]

use credential_oauth::protocol::docker::{Credentials, parse_server_url};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_server_url(data);
    if let Ok(creds) = Credentials::parse(data) {
        let mut out = Vec::new();
        let _ = creds.write_to(&mut out);
    }
});
