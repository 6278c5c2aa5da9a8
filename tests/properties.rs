//! Property tests: the parsers never panic, round-trip what they accept,
//! and the URL matcher keeps its promise for any input.

use credential_oauth::config::Config;
use credential_oauth::protocol::git::{Message, Request};
use proptest::prelude::*;
use std::path::Path;
use url::Url;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn git_parse_never_panics_and_reparses_what_it_writes(input in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(msg) = Message::parse(&input) {
            let mut out = Vec::new();
            msg.write_to(&mut out).unwrap();
            prop_assert_eq!(Message::parse(&out).unwrap(), msg);
            let req = Request::from_message(&Message::parse(&out).unwrap());
            if let Some(url) = req.url() {
                prop_assert!(url.username().is_empty() && url.password().is_none());
                prop_assert!(matches!(url.scheme(), "http" | "https"));
            }
        }
    }

    #[test]
    fn git_messages_round_trip_byte_for_byte(
        entries in proptest::collection::vec(("[a-z_\\[\\]]{1,12}", "[^\n\r\0]{0,40}"), 0..8)
    ) {
        let msg = Message { entries: entries.clone() };
        let mut out = Vec::new();
        msg.write_to(&mut out).unwrap();
        let expected: String = entries.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        prop_assert_eq!(&out, expected.as_bytes());
        prop_assert_eq!(Message::parse(&out).unwrap(), msg);
    }

    #[test]
    fn values_with_newline_or_nul_are_never_written(
        value in "[a-z]{0,5}[\n\0][a-z]{0,5}"
    ) {
        let msg = Message { entries: vec![("password".into(), value)] };
        let mut out = Vec::new();
        prop_assert!(msg.write_to(&mut out).is_err());
        prop_assert!(out.is_empty());
    }

    #[test]
    fn config_parse_never_panics(text in "\\PC{0,300}") {
        let _ = Config::parse(&text, Path::new("c.toml"));
    }

    #[test]
    fn a_match_means_same_origin_and_a_whole_segment_prefix(
        provider_path in "(/[a-c]{1,2}){0,3}/?",
        request_path in "(/[a-c]{1,2}){0,4}/?",
        port in prop_oneof![Just(None), Just(Some(443u16)), Just(Some(8443u16))],
        host in prop_oneof![Just("git.example.com"), Just("GIT.example.com"), Just("other.example.com")],
    ) {
        let text = format!(
            "[[provider]]\nurl = \"https://git.example.com{provider_path}\"\nissuer = \"https://auth.example.com\"\nclient_id = \"c\"\n"
        );
        let config = Config::parse(&text, Path::new("c.toml")).unwrap();
        let port = port.map(|p| format!(":{p}")).unwrap_or_default();
        let request = Url::parse(&format!("https://{host}{port}{request_path}")).unwrap();
        let matched = config.provider_for(&request).is_some();
        let prefix = provider_path.trim_end_matches('/');
        let path = request.path();
        let expected = request.host_str() == Some("git.example.com")
            && request.port_or_known_default() == Some(443)
            && (path == prefix || path.starts_with(&format!("{prefix}/")));
        prop_assert_eq!(matched, expected, "provider {} request {}", provider_path, request);
    }
}
