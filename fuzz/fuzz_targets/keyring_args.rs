//! The `keyring` command line pip and uv pass: NUL-separated arguments.
#![no_main]

use credential_oauth::protocol::keyring_cli::{Command, parse_credential, write_credential};
use credential_oauth::secret::Secret;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let args: Vec<String> = text.split('\0').map(str::to_string).collect();
    if let Ok(Command::Run(invocation)) = Command::parse(&args) {
        // Whatever user name was accepted, an answer reads back as written.
        let user = invocation.username.clone().unwrap_or_default();
        let mut out = Vec::new();
        if write_credential(invocation.mode, invocation.output, &user, &Secret::new("tok"), &mut out)
            .is_ok()
        {
            let back = parse_credential(
                invocation.mode,
                invocation.output,
                std::str::from_utf8(&out).unwrap(),
            );
            assert_eq!(back.map(|(_, p)| p).as_deref(), Some("tok"));
        }
    }
});
