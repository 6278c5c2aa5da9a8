//! The commands people run, apart from the calling programs' frontends:
//! `login`, `logout`, `status`, `init`, `configure` / `unconfigure`,
//! `doctor`, `help` and `--version`. They talk to a person on the
//! terminal and in their own words; none of them speaks a caller's wire
//! format. `credential-oauth token`, which scripts call, is a frontend.

pub mod configure;
pub mod doctor;
pub mod help;
pub mod init;
pub mod login;
pub mod logout;
pub mod status;

use crate::error::Result;
use std::io::Write;

/// How long a token is used, for a person: until a moment, or until the
/// server rejects it.
pub fn valid_until(token: &crate::token::Token) -> String {
    match token.deadline() {
        Some(d) => format!("valid until {}", crate::calendar::format_utc(d)),
        None => "used until the server rejects it (no expiry given)".into(),
    }
}

pub(crate) fn write_out(stdout: &mut dyn Write, text: &str) -> Result<()> {
    crate::protocol::write_answer(stdout, text.as_bytes())
}
