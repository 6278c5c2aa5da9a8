//! The config file: any text is a config or one error line, never a panic.
#![no_main]

use credential_oauth::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = Config::parse(text, std::path::Path::new("fuzz.toml")) {
            assert!(!e.to_string().contains('\n'), "error messages are one line");
        }
    }
});
