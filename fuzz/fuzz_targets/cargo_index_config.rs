//! A registry index's `config.json`, as the helper reads it before it
//! answers cargo: parsing and cutting `dl` and `api` into places never
//! panics, whatever the registry serves.
#![no_main]

use credential_oauth::protocol::cargo_index::IndexConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = serde_json::from_slice::<serde_json::Value>(data)
        && let Ok(config) = IndexConfig::parse(&doc)
    {
        let _ = config.places();
    }
});
