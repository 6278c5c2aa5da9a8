//! Property tests: the parsers never panic, round-trip what they accept,
//! and the URL matcher keeps its promise for any input.

use credential_oauth::config::{AuthMethod, Config, GrantKind, Storage};
use credential_oauth::protocol::cargo;
use credential_oauth::protocol::git::{Message, Request};
use proptest::prelude::*;
use std::path::Path;
use std::time::Duration;
use url::Url;

/// One `[[provider]]` table with random values, every one valid, and the
/// optional keys present or not.
#[derive(Debug, Clone)]
struct GenProvider {
    name: Option<String>,
    host: String,
    port: Option<u16>,
    path: String,
    issuer: String,
    client_id: Option<String>,
    client_secret: Option<String>,
    grant: Option<GrantKind>,
    scopes: Option<Vec<String>>,
    username: Option<String>,
    redirect_port: Option<u16>,
    auth_method: Option<AuthMethod>,
    authtype: Option<&'static str>,
    discover: Option<bool>,
    token_endpoint: Option<String>,
    login_timeout: Option<u64>,
}

/// A TOML basic string: the generators include `"` and `\` on purpose.
fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn url_of(host: &str, port: Option<u16>, path: &str) -> String {
    let port = port.map(|p| format!(":{p}")).unwrap_or_default();
    format!("https://{host}{port}{path}")
}

impl GenProvider {
    fn url(&self) -> String {
        url_of(&self.host, self.port, &self.path)
    }

    /// The table as a person would write it; `extra` lines go last.
    fn toml(&self, extra: &[String]) -> String {
        let mut lines = vec!["[[provider]]".to_string()];
        let mut key = |k: &str, v: String| lines.push(format!("{k} = {v}"));
        if let Some(n) = &self.name {
            key("name", quoted(n));
        }
        key("url", quoted(&self.url()));
        key("issuer", quoted(&self.issuer));
        if let Some(v) = &self.client_id {
            key("client_id", quoted(v));
        }
        if let Some(v) = &self.client_secret {
            key("client_secret", quoted(v));
        }
        if let Some(g) = self.grant {
            key("grant", quoted(g.as_str()));
        }
        if let Some(scopes) = &self.scopes {
            let items: Vec<String> = scopes.iter().map(|s| quoted(s)).collect();
            key("scopes", format!("[{}]", items.join(", ")));
        }
        if let Some(v) = &self.username {
            key("username", quoted(v));
        }
        if let Some(p) = self.redirect_port {
            key("redirect_uri", quoted(&format!("http://127.0.0.1:{p}/")));
        }
        if let Some(m) = self.auth_method {
            let m = match m {
                AuthMethod::ClientSecretBasic => "client_secret_basic",
                AuthMethod::ClientSecretPost => "client_secret_post",
                AuthMethod::PrivateKeyJwt => "private_key_jwt",
                AuthMethod::None => "none",
            };
            key("token_endpoint_auth_method", quoted(m));
        }
        if let Some(a) = self.authtype {
            key("authtype", quoted(a));
        }
        if let Some(d) = self.discover {
            key("discover", d.to_string());
        }
        if let Some(t) = &self.token_endpoint {
            key("token_endpoint", quoted(t));
        }
        if let Some(t) = self.login_timeout {
            key("login_timeout", t.to_string());
        }
        lines.extend(extra.iter().cloned());
        lines.join("\n") + "\n"
    }

    /// Whether the config file's rules accept this table.
    fn is_valid(&self) -> bool {
        self.grant != Some(GrantKind::ClientCredentials)
            || (self.client_id.is_some() && self.client_secret.is_some())
    }
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9]{0,10}(\\.[a-z][a-z0-9]{0,6}){1,3}",
        Just("127.0.0.1".to_string()),
        Just("[::1]".to_string()),
    ]
}

fn path() -> impl Strategy<Value = String> {
    "(/[A-Za-z0-9._~-]{1,8}){0,3}/?"
}

fn port() -> impl Strategy<Value = Option<u16>> {
    proptest::option::of(1u16..)
}

fn word() -> impl Strategy<Value = String> {
    "[A-Za-z0-9:._/\\\\\"-]{1,12}"
}

fn grant() -> impl Strategy<Value = GrantKind> {
    prop_oneof![
        Just(GrantKind::AuthorizationCode),
        Just(GrantKind::DeviceCode),
        Just(GrantKind::ClientCredentials),
    ]
}

fn auth_method() -> impl Strategy<Value = AuthMethod> {
    prop_oneof![
        Just(AuthMethod::ClientSecretBasic),
        Just(AuthMethod::ClientSecretPost),
        Just(AuthMethod::None),
    ]
}

prop_compose! {
    fn provider()(
        name in proptest::option::of("[A-Za-z0-9 \"\\\\é-]{1,16}"),
        (host, port, path) in (host(), port(), path()),
        issuer in (host(), port(), path()).prop_map(|(h, p, path)| url_of(&h, p, &path)),
        client_id in proptest::option::of(word()),
        client_secret in proptest::option::of(word()),
        grant in proptest::option::of(grant()),
        scopes in proptest::option::of(proptest::collection::vec("[a-z:._/-]{1,10}", 0..5)),
        username in proptest::option::of(word()),
        redirect_port in proptest::option::of(0u16..),
        auth_method in proptest::option::of(auth_method()),
        authtype in proptest::option::of(prop_oneof![Just("auto"), Just("bearer"), Just("Bearer")]),
        discover in proptest::option::of(any::<bool>()),
        token_endpoint in proptest::option::of((host(), port(), path()).prop_map(|(h, p, path)| url_of(&h, p, &path))),
        login_timeout in proptest::option::of(1u64..200_000),
    ) -> GenProvider {
        GenProvider {
            name, host, port, path, issuer, client_id, client_secret, grant, scopes,
            username, redirect_port, auth_method, authtype, discover, token_endpoint, login_timeout,
        }
    }
}

/// A value that breaks one key, and the key the error must name.
fn breakage() -> impl Strategy<Value = (&'static str, String)> {
    prop_oneof![
        Just(("grant", "grant = \"implicit\"".to_string())),
        Just(("scopes", "scopes = [\"two words\"]".to_string())),
        Just(("scopes", "scopes = \"read\"".to_string())),
        Just(("login_timeout", "login_timeout = 0".to_string())),
        Just(("login_timeout", "login_timeout = -5".to_string())),
        Just((
            "redirect_uri",
            "redirect_uri = \"https://example.com/\"".to_string()
        )),
        Just(("authtype", "authtype = \"basic\"".to_string())),
        Just((
            "token_endpoint_auth_method",
            "token_endpoint_auth_method = \"jwt\"".to_string()
        )),
        Just(("ca_file", "ca_file = \"relative.pem\"".to_string())),
        Just(("discover", "discover = \"yes\"".to_string())),
        Just((
            "revocation_endpoint",
            "revocation_endpoint = \"not a url\"".to_string()
        )),
        word().prop_map(|w| ("username", format!("username = [{}]", quoted(&w)))),
    ]
}

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
    fn generated_configs_yield_providers_holding_what_was_written(
        providers in proptest::collection::vec(provider(), 1..4),
        storage in proptest::option::of(prop_oneof![Just("auto"), Just("keyring"), Just("file")]),
    ) {
        let mut text = storage.map(|s| format!("storage = \"{s}\"\n\n")).unwrap_or_default();
        for p in &providers {
            text.push_str(&p.toml(&[]));
            text.push('\n');
        }
        let parsed = Config::parse(&text, Path::new("c.toml"));
        let Some(bad) = providers.iter().position(|p| !p.is_valid()) else {
            let config = parsed.map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            prop_assert_eq!(config.providers.len(), providers.len());
            let expected_storage = match storage {
                Some("keyring") => Storage::Keyring,
                Some("file") => Storage::File,
                _ => Storage::Auto,
            };
            prop_assert_eq!(config.storage, expected_storage);
            for (g, p) in providers.iter().zip(&config.providers) {
                let url = Url::parse(&g.url()).unwrap();
                prop_assert_eq!(&p.url, &url);
                let name = g.name.clone().unwrap_or_else(|| url.host_str().unwrap().to_string());
                prop_assert_eq!(&p.name, &name);
                prop_assert_eq!(&p.issuer, &g.issuer);
                prop_assert_eq!(&p.client_id, &g.client_id);
                prop_assert_eq!(
                    p.client_secret.as_ref().map(|s| s.expose()),
                    g.client_secret.as_deref()
                );
                prop_assert_eq!(p.grant, g.grant.unwrap_or(GrantKind::AuthorizationCode));
                prop_assert_eq!(&p.scopes, &g.scopes.clone().unwrap_or_default());
                prop_assert_eq!(&p.username, g.username.as_deref().unwrap_or("oauth2"));
                let redirect = g
                    .redirect_port
                    .map(|port| Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap());
                prop_assert_eq!(&p.redirect_uri_written, &redirect);
                prop_assert_eq!(p.auth_method, g.auth_method);
                prop_assert_eq!(p.bearer, matches!(g.authtype, Some("bearer" | "Bearer")));
                prop_assert_eq!(p.discover, g.discover.unwrap_or(false));
                let token_endpoint = g.token_endpoint.as_deref().map(|t| Url::parse(t).unwrap());
                prop_assert_eq!(&p.endpoints.token, &token_endpoint);
                prop_assert_eq!(
                    p.login_timeout,
                    Duration::from_secs(g.login_timeout.unwrap_or(300).min(24 * 3600))
                );
                prop_assert!(!p.issuer_discovered);
            }
            return Ok(());
        };
        let e = parsed.err().map(|e| e.to_string()).unwrap_or_default();
        prop_assert!(
            e.contains(&format!("provider #{}", bad + 1)) && e.contains("client_credentials"),
            "{}\n{}", e, text
        );
    }

    #[test]
    fn an_invalid_value_is_an_error_naming_its_key(
        p in provider().prop_filter("valid", GenProvider::is_valid),
        (field, line) in breakage(),
    ) {
        // A key written twice is a TOML error of its own; drop the valid one.
        let mut p = p;
        match field {
            "grant" => p.grant = None,
            "scopes" => p.scopes = None,
            "login_timeout" => p.login_timeout = None,
            "redirect_uri" => p.redirect_port = None,
            "authtype" => p.authtype = None,
            "token_endpoint_auth_method" => p.auth_method = None,
            "discover" => p.discover = None,
            "username" => p.username = None,
            _ => {}
        }
        let text = p.toml(&[line]);
        let e = Config::parse(&text, Path::new("c.toml")).map(|_| ()).unwrap_err().to_string();
        prop_assert!(e.contains("provider #1") && e.contains(field), "{}\n{}", e, text);
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

/// A cargo request with arbitrary text wherever cargo writes text.
fn cargo_request() -> impl Strategy<Value = cargo::Request> {
    let text = || "\\PC{0,24}";
    let operation = prop_oneof![
        Just(cargo::Operation::Read),
        (text(), text(), text()).prop_map(|(name, vers, cksum)| cargo::Operation::Publish {
            name,
            vers,
            cksum
        }),
        (text(), text()).prop_map(|(name, vers)| cargo::Operation::Yank { name, vers }),
        text().prop_map(|name| cargo::Operation::Owners { name }),
    ];
    let action = prop_oneof![
        operation.prop_map(cargo::Action::Get),
        (proptest::option::of(text()), proptest::option::of(text())).prop_map(
            |(token, login_url)| cargo::Action::Login(cargo::LoginOptions {
                token: token.map(credential_oauth::secret::Secret::new),
                login_url,
            })
        ),
        Just(cargo::Action::Logout),
    ];
    (
        text(),
        proptest::option::of(text()),
        proptest::collection::vec(text(), 0..3),
        action,
        proptest::collection::vec(text(), 0..3),
    )
        .prop_map(|(index_url, name, headers, action, args)| cargo::Request {
            v: 1,
            registry: cargo::Registry {
                index_url,
                name,
                headers,
            },
            action,
            args,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn cargo_parse_never_panics(input in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = cargo::Request::parse(&input);
        let _ = cargo::parse_response(&input);
    }

    #[test]
    fn cargo_requests_are_one_line_and_round_trip(request in cargo_request()) {
        let mut out = Vec::new();
        request.write_to(&mut out).unwrap();
        prop_assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
        prop_assert_eq!(out.last(), Some(&b'\n'));
        prop_assert_eq!(cargo::Request::parse(&out).unwrap(), request);
    }
}
