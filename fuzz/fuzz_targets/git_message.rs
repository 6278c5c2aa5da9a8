//! git's credential format: parsing never panics, and whatever parses is
//! written back and re-read unchanged.
#![no_main]

use credential_oauth::protocol::git::{Message, Request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = Message::parse(data) {
        let mut out = Vec::new();
        msg.write_to(&mut out).expect("a parsed message can be written");
        assert_eq!(Message::parse(&out).expect("written output parses"), msg);
        let _ = Request::from_message(&msg).url();
    }
});
