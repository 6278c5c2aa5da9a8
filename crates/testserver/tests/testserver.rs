//! The test authorization server itself, spoken to over plain HTTP/1.1.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use oauth_test_server::{Fault, MetadataMode, TestServer};
use serde_json::Value;
use sha2::{Digest, Sha256};
use url::{Url, form_urlencoded};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

const CLIENT_CREDENTIALS: (&str, &str) = ("grant_type", "client_credentials");
const DEVICE_CODE: (&str, &str) = ("grant_type", "urn:ietf:params:oauth:grant-type:device_code");
const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");
const REDIRECT: &str = "http://127.0.0.1:1234/cb?keep=1";

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        let mut headers = self.headers.iter();
        let found = headers.find(|(n, _)| n.eq_ignore_ascii_case(name));
        found.map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Result<Value> {
        Ok(serde_json::from_str(&self.body)?)
    }

    fn field(&self, name: &str) -> Result<String> {
        let json = self.json()?;
        let value = json[name].as_str().ok_or(format!("no {name} in {json}"))?;
        Ok(value.to_owned())
    }

    fn error(&self) -> Result<String> {
        self.field("error")
    }
}

/// A server that knows the confidential client "app" and the public client "cli".
struct Fixture(TestServer);

impl std::ops::Deref for Fixture {
    type Target = TestServer;
    fn deref(&self) -> &TestServer {
        &self.0
    }
}

fn start() -> Result<Fixture> {
    let server = TestServer::start()?;
    server.add_client("app", Some("s3cret"));
    server.add_client("cli", None);
    Ok(Fixture(server))
}

impl Fixture {
    /// One request (`"GET /path"`) on a fresh connection, read to the end.
    fn send(&self, request: &str, headers: &[(&str, &str)], body: &str) -> Result<Response> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port()))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut head = format!("{request} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
        for (name, value) in headers {
            head += &format!("{name}: {value}\r\n");
        }
        head += &format!("Content-Length: {}\r\n\r\n{body}", body.len());
        stream.write_all(head.as_bytes())?;
        let mut raw = String::new();
        stream.read_to_string(&mut raw)?;
        let (head, body) = raw.split_once("\r\n\r\n").ok_or("no end of headers")?;
        let mut lines = head.split("\r\n");
        let status = lines.next().and_then(|l| l.split(' ').nth(1));
        let status = status.ok_or("no status")?.parse()?;
        let headers = lines.filter_map(|l| l.split_once(':'));
        let headers = headers.map(|(n, v)| (n.to_owned(), v.trim().to_owned()));
        let body = body.to_owned();
        Ok(Response {
            status,
            headers: headers.collect(),
            body,
        })
    }

    fn get(&self, target: &str) -> Result<Response> {
        self.send(&format!("GET {target}"), &[], "")
    }

    fn post(&self, path: &str, basic: &str, form: &[(&str, &str)]) -> Result<Response> {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let authorization = format!("Basic {}", STANDARD.encode(basic));
        let mut headers = vec![FORM];
        headers.extend((!basic.is_empty()).then_some(("Authorization", authorization.as_str())));
        self.send(&format!("POST {path}"), &headers, &body)
    }

    /// A form POST as "app", authenticated with client_secret_basic.
    fn app(&self, path: &str, form: &[(&str, &str)]) -> Result<Response> {
        self.post(path, "app:s3cret", form)
    }

    /// A form POST as the public client "cli".
    fn cli(&self, path: &str, form: &[(&str, &str)]) -> Result<Response> {
        self.post(path, "", &[&[("client_id", "cli")], form].concat())
    }

    fn userinfo(&self, access_token: &str) -> Result<Response> {
        let bearer = format!("Bearer {access_token}");
        self.send("GET /userinfo", &[("Authorization", &bearer)], "")
    }

    /// Access and refresh token from a client_credentials grant that issues both.
    fn tokens(&self) -> Result<(String, String)> {
        self.set_client_credentials_refresh(true);
        let answer = self.app("/token", &[CLIENT_CREDENTIALS])?;
        let access_token = answer.field("access_token")?;
        Ok((access_token, answer.field("refresh_token")?))
    }

    /// Runs /authorize as "cli"; returns the query parameters of the redirect.
    fn authorize(&self, challenge: &str) -> Result<HashMap<String, String>> {
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([("response_type", "code"), ("client_id", "cli")])
            .extend_pairs([("redirect_uri", REDIRECT), ("state", "xyz")])
            .extend_pairs([("code_challenge", challenge), ("login_hint", "alice")])
            .extend_pairs([("code_challenge_method", "S256")])
            .finish();
        let answer = self.get(&format!("/authorize?{query}"))?;
        assert_eq!(answer.status, 302);
        let location = Url::parse(answer.header("location").ok_or("no Location")?)?;
        assert_eq!(location.path(), "/cb");
        Ok(location.query_pairs().into_owned().collect())
    }
}

#[test]
fn metadata_names_the_issuer_and_follows_the_mode() -> Result {
    let server = start()?;
    let rfc8414 = "/.well-known/oauth-authorization-server";
    let doc = server.get(rfc8414)?.json()?;
    assert_eq!(doc["issuer"], server.issuer().as_str());
    let token_endpoint = format!("{}/token", server.issuer());
    assert_eq!(doc["token_endpoint"], token_endpoint.as_str());
    assert_eq!(doc["code_challenge_methods_supported"][0], "S256");
    server.set_metadata_mode(MetadataMode::Rfc8414);
    server.set_metadata_issuer(Some("https://elsewhere.example"));
    server.set_device_grant(false);
    let oidc = server.get("/.well-known/openid-configuration")?;
    assert_eq!(oidc.status, 404);
    let doc = server.get(rfc8414)?.json()?;
    assert_eq!(doc["issuer"], "https://elsewhere.example");
    assert!(doc.get("device_authorization_endpoint").is_none());
    assert_eq!((server.count("metadata"), server.count("oidc")), (2, 1));
    Ok(())
}

#[test]
fn client_credentials_accepts_basic_and_post_and_refuses_bad_clients() -> Result {
    let server = start()?;
    let basic = server.app("/token", &[CLIENT_CREDENTIALS, ("scope", "read write")])?;
    assert_eq!(basic.header("cache-control"), Some("no-store"));
    assert!(basic.field("access_token")?.starts_with("at_"));
    assert_eq!(basic.field("scope")?, "read write");
    let answer = basic.json()?;
    assert_eq!(answer["expires_in"], 3600);
    assert!(answer.get("refresh_token").is_none());
    let in_body = [("client_id", "app"), ("client_secret", "s3cret")];
    let post = server.post("/token", "", &[CLIENT_CREDENTIALS, in_body[0], in_body[1]])?;
    assert_eq!(post.status, 200);
    let wrong = server.post("/token", "app:nope", &[CLIENT_CREDENTIALS])?;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.error()?, "invalid_client");
    assert_eq!(wrong.header("www-authenticate"), Some("Basic"));
    server.set_auth_methods_supported(&["client_secret_post"]);
    assert_eq!(server.app("/token", &[CLIENT_CREDENTIALS])?.status, 401);
    let public = server.cli("/token", &[CLIENT_CREDENTIALS])?;
    assert_eq!(public.error()?, "unauthorized_client");
    assert_eq!(server.count("token"), 5);
    assert_eq!(server.count("client_credentials"), 5);
    Ok(())
}

#[test]
fn pkce_code_needs_the_matching_verifier_and_is_single_use() -> Result {
    let server = start()?;
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r~wW1gFWFOEjXk";
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier));
    let exchange = |code: &str, verifier: &str| {
        let grant = [("grant_type", "authorization_code"), ("code", code)];
        let proof = [("redirect_uri", REDIRECT), ("code_verifier", verifier)];
        server.cli("/token", &[grant, proof].concat())
    };
    let params = server.authorize(&challenge)?;
    assert_eq!((&*params["keep"], &*params["state"]), ("1", "xyz"));
    let wrong = exchange(&params["code"], &"x".repeat(43))?;
    assert_eq!(wrong.status, 400);
    assert_eq!(wrong.error()?, "invalid_grant");

    let params = server.authorize(&challenge)?;
    let code = &params["code"];
    let access = exchange(code, verifier)?.field("access_token")?;
    let user = server.userinfo(&access)?.field("sub")?;
    assert_eq!(user, "alice", "the login_hint names the user");
    assert_eq!(exchange(code, verifier)?.error()?, "invalid_grant");
    assert!(!server.is_active(&access), "code reuse revokes");
    let recorded = server.last_request("/authorize").ok_or("not recorded")?;
    assert_eq!(recorded.param("code_challenge"), Some(challenge.as_str()));
    Ok(())
}

#[test]
fn authorize_refuses_without_pkce_and_reports_denial() -> Result {
    let server = start()?;
    let query = "response_type=code&redirect_uri=http://[::1]:9/&state=s";
    let unknown = server.get(&format!("/authorize?client_id=who&{query}"))?;
    assert_eq!((unknown.status, unknown.header("location")), (400, None));
    let no_pkce = server.get(&format!("/authorize?client_id=cli&{query}"))?;
    let location = no_pkce.header("location").ok_or("no redirect")?;
    assert!(location.contains("error=invalid_request"), "{location}");
    assert!(location.ends_with("&state=s"), "{location}");
    server.set_authorize_deny(true);
    let params = server.authorize(&"a".repeat(43))?;
    assert_eq!(params["error"], "access_denied");
    assert_eq!(server.count("authorize"), 3);
    Ok(())
}

#[test]
fn refresh_rotates_and_reuse_revokes_the_family() -> Result {
    let server = start()?;
    let (access, first) = server.tokens()?;
    let refresh = |token: &str| {
        let form = [("grant_type", "refresh_token"), ("refresh_token", token)];
        server.app("/token", &form)
    };
    let second = refresh(&first)?.field("refresh_token")?;
    assert_ne!(first, second);
    let reused = refresh(&first)?;
    assert_eq!(reused.status, 400);
    assert_eq!(reused.error()?, "invalid_grant");
    assert!(!server.is_active(&second) && !server.is_active(&access));
    server.set_rotate_refresh_tokens(false);
    let (_, kept) = server.tokens()?;
    assert!(refresh(&kept)?.json()?.get("refresh_token").is_none());
    assert!(server.is_active(&kept));
    assert_eq!(server.count("refresh_token"), 3);
    Ok(())
}

#[test]
fn device_grant_is_pending_until_the_page_is_visited() -> Result {
    let server = start()?;
    server.set_device_interval(0);
    let started = server.cli("/device_authorization", &[("scope", "read")])?;
    assert_eq!(started.json()?["interval"], 0);
    assert!(started.field("verification_uri")?.ends_with("/device"));
    let code = started.field("device_code")?;
    let poll = || server.cli("/token", &[DEVICE_CODE, ("device_code", &code)]);
    assert_eq!(poll()?.error()?, "authorization_pending");
    server.set_device_slow_down(1);
    assert_eq!(poll()?.error()?, "slow_down");
    let page = Url::parse(&started.field("verification_uri_complete")?)?;
    let query = page.query().unwrap_or_default();
    assert_eq!(server.get(&format!("/device?{query}"))?.status, 200);
    let answer = poll()?;
    assert_eq!(answer.field("scope")?, "read");
    assert_eq!(answer.field("token_type")?, "Bearer");
    assert_eq!(poll()?.error()?, "invalid_grant", "used up");
    assert_eq!(server.device_poll_times().len(), 4);
    assert_eq!(server.get("/device?user_code=NOPE-NOPE")?.status, 404);
    Ok(())
}

#[test]
fn revoking_a_refresh_token_ends_its_access_tokens() -> Result {
    let server = start()?;
    let (access, refresh) = server.tokens()?;
    let introspect = |token: &str| server.app("/introspect", &[("token", token)]);
    let active = introspect(&access)?.json()?;
    assert_eq!(active["active"], true);
    assert_eq!(active["client_id"], "app");
    assert_eq!(server.userinfo(&access)?.status, 200);
    let hint = ("token_type_hint", "refresh_token");
    let revoked = server.app("/revoke", &[("token", &refresh), hint])?;
    assert_eq!(revoked.status, 200);
    assert_eq!(introspect(&access)?.json()?["active"], false);
    let refused = server.userinfo(&access)?;
    assert_eq!(refused.status, 401);
    let challenge = refused.header("www-authenticate");
    assert_eq!(challenge, Some("Bearer error=\"invalid_token\""));
    Ok(())
}

#[test]
fn faults_bad_input_and_unknown_paths_get_clean_answers() -> Result {
    let server = start()?;
    server.fail_next_on("/token", 1, Fault::html(502, "<h1>Bad gateway</h1>"));
    server.fail_next(1, Fault::json(503, "{}"));
    let faulted = server.get("/token")?;
    assert_eq!(faulted.status, 502);
    let html = Some("text/html; charset=utf-8");
    assert_eq!(faulted.header("content-type"), html);
    assert_eq!(server.get("/userinfo")?.status, 503);
    let json = [("Content-Type", "application/json")];
    let not_a_form = server.send("POST /token", &json, "{}")?;
    assert_eq!(not_a_form.error()?, "invalid_request");
    let bad_json = server.send("POST /register", &json, "{not json")?;
    assert_eq!(bad_json.error()?, "invalid_client_metadata");
    let garbage = [FORM, ("Authorization", "Basic %%%")];
    let garbled = server.send("POST /token", &garbage, "a=%zz&&=")?;
    assert_eq!(garbled.error()?, "invalid_client");
    let huge = server.send("POST /token", &[FORM], &"a".repeat(70 * 1024))?;
    assert_eq!(huge.status, 413);
    assert_eq!(server.get("/nowhere")?.error()?, "not_found");
    assert_eq!(server.count("token"), 3, "failures count too");
    Ok(())
}

#[test]
fn delayed_answers_run_in_parallel_and_drop_cuts_them_short() -> Result {
    let server = start()?;
    server.set_delay(Duration::from_millis(300));
    let started = Instant::now();
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let get = || server.get("/userinfo").map_or(0, |r| r.status);
        let clients: Vec<_> = (0..20).map(|_| s.spawn(get)).collect();
        clients.into_iter().map(|c| c.join().unwrap_or(0)).collect()
    });
    assert_eq!(statuses, [401; 20]);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "not in parallel"
    );

    server.set_delay(Duration::from_secs(60));
    let mut stalled = TcpStream::connect(("127.0.0.1", server.port()))?;
    stalled.write_all(b"GET /userinfo HTTP/1.1\r\nHost: x\r\n\r\n")?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.count("userinfo") == 20 && Instant::now() < deadline {
        std::thread::yield_now();
    }
    let dropping = Instant::now();
    drop(server);
    assert!(dropping.elapsed() < Duration::from_secs(2), "drop waited");
    Ok(())
}

#[test]
fn openid_in_the_scope_brings_an_id_token_with_the_claims_a_cluster_checks() -> Result {
    let server = start()?;
    server.set_client_credentials_refresh(true);
    server.set_id_token_lifetime(600);
    let plain = server.app("/token", &[CLIENT_CREDENTIALS, ("scope", "read")])?;
    assert!(plain.json()?.get("id_token").is_none());
    let answer = server.app("/token", &[CLIENT_CREDENTIALS, ("scope", "openid read")])?;
    let id_token = answer.field("id_token")?;
    let parts: Vec<&str> = id_token.split('.').collect();
    assert_eq!(parts.len(), 3, "{id_token}");
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1])?)?;
    assert_eq!(claims["iss"], server.issuer().as_str());
    assert_eq!(
        (claims["sub"].as_str(), claims["aud"].as_str()),
        (Some("app"), Some("app"))
    );
    let lifetime =
        claims["exp"].as_i64().ok_or("no exp")? - claims["iat"].as_i64().ok_or("no iat")?;
    assert_eq!(lifetime, 600);
    assert!(server.is_id_token(&id_token));
    assert!(!server.is_id_token(&answer.field("access_token")?));
    let checker = server.token_checker();
    assert!(checker.is_id_token(&id_token) && !checker.is_access_token(&id_token));
    assert!(checker.is_access_token(&answer.field("access_token")?));
    assert!(!checker.is_access_token(&answer.field("refresh_token")?));

    // A refresh brings a new one, unless the server is set to leave it out.
    let refresh = [("grant_type", "refresh_token")];
    let rt = answer.field("refresh_token")?;
    let renewed = server.app("/token", &[refresh[0], ("refresh_token", &rt)])?;
    let new_id_token = renewed.field("id_token")?;
    assert_ne!(new_id_token, id_token);
    server.set_id_token_on_refresh(false);
    let rt = renewed.field("refresh_token")?;
    let bare = server.app("/token", &[refresh[0], ("refresh_token", &rt)])?;
    assert_eq!(bare.status, 200);
    assert!(bare.json()?.get("id_token").is_none());
    Ok(())
}

#[test]
fn an_endpoint_moved_or_removed_is_served_and_named_where_it_now_is() -> Result {
    let server = start()?;
    server.set_endpoint_path("token", Some("/oauth2/v2.0/token"));
    server.set_endpoint_path("revoke", None);
    let doc = server.get("/.well-known/openid-configuration")?.json()?;
    let moved = format!("{}/oauth2/v2.0/token", server.origin());
    assert_eq!(doc["token_endpoint"], moved.as_str());
    assert!(doc.get("revocation_endpoint").is_none(), "{doc}");
    assert_eq!(server.app("/token", &[CLIENT_CREDENTIALS])?.status, 404);
    let answer = server.app("/oauth2/v2.0/token", &[CLIENT_CREDENTIALS])?;
    assert!(answer.field("access_token")?.starts_with("at_"));
    assert_eq!(server.app("/revoke", &[("token", "x")])?.status, 404);
    // Counted under the endpoint's name wherever it is.
    assert_eq!(server.count("token"), 1);
    assert_eq!(server.count("client_credentials"), 1);
    assert!(server.last_request("/oauth2/v2.0/token").is_some());
    Ok(())
}

#[test]
fn entra_shape_serves_a_tenant_and_the_template_for_multi_tenant_aliases() -> Result {
    let concrete = Fixture(TestServer::start_entra("contoso")?);
    let doc = concrete
        .get("/contoso/v2.0/.well-known/openid-configuration")?
        .json()?;
    let issuer = format!("{}/contoso/v2.0", concrete.origin());
    assert_eq!(doc["issuer"], issuer.as_str());
    assert_eq!(concrete.issuer(), issuer);
    let devicecode = format!("{}/contoso/oauth2/v2.0/devicecode", concrete.origin());
    assert_eq!(doc["device_authorization_endpoint"], devicecode.as_str());
    assert!(doc.get("revocation_endpoint").is_none(), "{doc}");
    assert!(doc.get("registration_endpoint").is_none(), "{doc}");
    let multi = Fixture(TestServer::start_entra("organizations")?);
    let doc = multi
        .get("/organizations/v2.0/.well-known/openid-configuration")?
        .json()?;
    let template = format!("{}/{{tenantid}}/v2.0", multi.origin());
    assert_eq!(doc["issuer"], template.as_str());
    Ok(())
}

#[test]
fn entra_shape_gives_a_refresh_token_only_for_offline_access_and_devices_a_message() -> Result {
    let server = Fixture(TestServer::start_entra("contoso")?);
    server.add_client("cli", None);
    let token = "/contoso/oauth2/v2.0/token";
    let login = |scope: &str| -> Result<Value> {
        let started = server.cli("/contoso/oauth2/v2.0/devicecode", &[("scope", scope)])?;
        let started = started.json()?;
        assert!(started.get("verification_uri_complete").is_none());
        let code = started["user_code"].as_str().ok_or("no user_code")?;
        assert!(
            started["message"]
                .as_str()
                .is_some_and(|m| m.contains(code))
        );
        let page = started["verification_uri"].as_str().ok_or("no uri")?;
        let page = Url::parse(page)?;
        assert_eq!(page.path(), "/devicelogin");
        server.get(&format!("/devicelogin?user_code={code}"))?;
        let device_code = started["device_code"].as_str().ok_or("no device_code")?;
        server
            .cli(token, &[DEVICE_CODE, ("device_code", device_code)])?
            .json()
    };
    let without = login("499b84ac-1321-427f-aa17-267ca6975798/.default")?;
    assert!(without.get("refresh_token").is_none(), "{without}");
    let with = login("499b84ac-1321-427f-aa17-267ca6975798/.default offline_access")?;
    assert_eq!(with["expires_in"], 4500);
    assert_eq!(with["ext_expires_in"], 4500);
    let first = with["refresh_token"].as_str().ok_or("no refresh_token")?;
    let refreshed = server.cli(
        token,
        &[("grant_type", "refresh_token"), ("refresh_token", first)],
    )?;
    assert_ne!(refreshed.field("refresh_token")?, first);
    Ok(())
}

#[test]
fn gitea_shape_wants_pkce_from_a_public_client_on_any_loopback_port() -> Result {
    let server = Fixture(TestServer::start_gitea()?);
    server.add_client_with_redirect_uris("cli", None, &["http://127.0.0.1/"]);
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r~wW1gFWFOEjXk";
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier));
    let authorize = |pkce: bool| -> Result<Url> {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.extend_pairs([("response_type", "code"), ("client_id", "cli")]);
        query.extend_pairs([("redirect_uri", "http://127.0.0.1:4711/"), ("state", "s")]);
        if pkce {
            query.extend_pairs([("code_challenge", challenge.as_str())]);
            query.extend_pairs([("code_challenge_method", "S256")]);
        }
        let answer = server.get(&format!("/login/oauth/authorize?{}", query.finish()))?;
        Ok(Url::parse(answer.header("location").ok_or("no Location")?)?)
    };
    let refused = authorize(false)?;
    assert!(
        refused
            .query()
            .is_some_and(|q| q.contains("error=invalid_request"))
    );
    let back = authorize(true)?;
    assert_eq!(back.port(), Some(4711), "any port on the loopback URI");
    let code = back
        .query_pairs()
        .find(|(k, _)| k == "code")
        .ok_or("no code")?
        .1;
    let answer = server.cli(
        "/login/oauth/access_token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:4711/"),
            ("code_verifier", verifier),
        ],
    )?;
    let answer = answer.json()?;
    assert_eq!(answer["token_type"], "bearer");
    assert_eq!(answer["expires_in"], 3600);
    assert!(answer["refresh_token"].is_string(), "{answer}");
    let doc = server.get("/.well-known/openid-configuration")?.json()?;
    assert!(doc.get("device_authorization_endpoint").is_none(), "{doc}");
    Ok(())
}

#[test]
fn bitbucket_shape_takes_only_a_consumer_with_its_secret_in_basic_and_ignores_pkce() -> Result {
    let server = Fixture(TestServer::start_bitbucket()?);
    server.add_client("key", Some("secret"));
    assert_eq!(
        server.get("/.well-known/openid-configuration")?.status,
        404,
        "no metadata"
    );
    let query = "response_type=code&client_id=key&redirect_uri=http://127.0.0.1:5210/&state=s\
                 &scope=repository";
    let answer = server.get(&format!("/site/oauth2/authorize?{query}"))?;
    let back = Url::parse(answer.header("location").ok_or("no Location")?)?;
    let code = back
        .query_pairs()
        .find(|(k, _)| k == "code")
        .ok_or("no code")?
        .1;
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", &*code),
        ("redirect_uri", "http://127.0.0.1:5210/"),
        ("code_verifier", &*"x".repeat(43)),
    ];
    let in_body = [("client_id", "key"), ("client_secret", "secret")];
    let post = server.post(
        "/site/oauth2/access_token",
        "",
        &[&exchange[..], &in_body].concat(),
    )?;
    assert_eq!(post.error()?, "invalid_client", "Basic only");
    let answer = server.post("/site/oauth2/access_token", "key:secret", &exchange)?;
    let answer = answer.json()?;
    assert_eq!(answer["expires_in"], 7200);
    assert_eq!(answer["token_type"], "bearer");
    assert_eq!(answer["scopes"], "repository");
    assert!(answer.get("scope").is_none(), "{answer}");
    let refresh = answer["refresh_token"].as_str().ok_or("no refresh_token")?;
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    let renewed = server.post("/site/oauth2/access_token", "key:secret", &form)?;
    assert!(renewed.field("access_token")?.starts_with("at_"));
    let public = server.post(
        "/site/oauth2/access_token",
        "",
        &[&form[..], &[("client_id", "key")]].concat(),
    )?;
    assert_eq!(public.error()?, "invalid_client");
    Ok(())
}

/// A DPoP proof (RFC 9449 §4.2) signed by the test key `tests/keys/<key>`.
fn proof(key: &str, method: &str, url: &str, nonce: Option<&str>) -> Result<String> {
    use oauth_test_server::assertion::TestKey;
    let pem = std::fs::read_to_string(format!(
        "{}/../../tests/keys/{key}",
        env!("CARGO_MANIFEST_DIR")
    ))?;
    let key = TestKey::from_pem(&pem);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let mut claims = serde_json::json!({
        "jti": URL_SAFE_NO_PAD.encode(rand_bytes()),
        "htm": method,
        "htu": url,
        "iat": now,
    });
    if let Some(n) = nonce {
        claims["nonce"] = n.into();
    }
    Ok(key.sign(
        serde_json::json!({"typ": "dpop+jwt", "jwk": key.jwk(None)}),
        &claims,
    ))
}

/// Bytes that differ from one call to the next, for a `jti`.
fn rand_bytes() -> [u8; 16] {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let t = Instant::now().elapsed().as_nanos() as u64;
    let mut out = [0; 16];
    out[..8].copy_from_slice(&n.to_le_bytes());
    out[8..].copy_from_slice(&t.to_le_bytes());
    out
}

impl Fixture {
    /// A form POST to /token as "app" with a `DPoP` header.
    fn app_with_proof(&self, form: &[(&str, &str)], proof: &str) -> Result<Response> {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let basic = format!("Basic {}", STANDARD.encode("app:s3cret"));
        let headers = [FORM, ("Authorization", &basic), ("DPoP", proof)];
        self.send("POST /token", &headers, &body)
    }
}

#[test]
fn a_proof_binds_the_token_to_its_key_after_the_nonce_is_asked_for() -> Result {
    let server = start()?;
    server.set_dpop(true);
    server.set_dpop_nonce_required(true);
    server.set_client_credentials_refresh(true);
    let meta = server
        .get("/.well-known/oauth-authorization-server")?
        .json()?;
    assert_eq!(
        meta["dpop_signing_alg_values_supported"],
        serde_json::json!(["ES256"])
    );
    let token_url = format!("{}/token", server.issuer());

    // RFC 9449 §8: no nonce, told which.
    let first = server.app_with_proof(
        &[CLIENT_CREDENTIALS],
        &proof("ec-pkcs8.pem", "POST", &token_url, None)?,
    )?;
    assert_eq!(
        (first.status, first.error()?.as_str()),
        (400, "use_dpop_nonce")
    );
    let nonce = first
        .header("dpop-nonce")
        .ok_or("no DPoP-Nonce")?
        .to_owned();
    assert_eq!(nonce, server.dpop_nonce());

    let good = proof("ec-pkcs8.pem", "POST", &token_url, Some(&nonce))?;
    let answer = server.app_with_proof(&[CLIENT_CREDENTIALS], &good)?;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.field("token_type")?, "DPoP");
    let access_token = answer.field("access_token")?;
    let jkt = server.proof_thumbprints().pop().ok_or("no proof kept")?;
    assert_eq!(
        server.token_checker().bound_key(&access_token),
        Some(jkt.clone())
    );
    let introspected = server
        .app("/introspect", &[("token", &access_token)])?
        .json()?;
    assert_eq!(introspected["cnf"]["jkt"], jkt.as_str());
    assert_eq!(introspected["token_type"], "DPoP");
    // A bound token is no bearer token.
    assert_eq!(server.userinfo(&access_token)?.status, 401);

    // A replayed proof, a proof for another URL, and one for GET are refused.
    let replayed = server.app_with_proof(&[CLIENT_CREDENTIALS], &good)?;
    assert_eq!(replayed.error()?, "invalid_dpop_proof");
    assert!(replayed.body.contains("used before"), "{}", replayed.body);
    let elsewhere = proof(
        "ec-pkcs8.pem",
        "POST",
        "http://127.0.0.1:1/token",
        Some(&nonce),
    )?;
    assert_eq!(
        server
            .app_with_proof(&[CLIENT_CREDENTIALS], &elsewhere)?
            .error()?,
        "invalid_dpop_proof"
    );
    let get = proof("ec-pkcs8.pem", "GET", &token_url, Some(&nonce))?;
    assert_eq!(
        server
            .app_with_proof(&[CLIENT_CREDENTIALS], &get)?
            .error()?,
        "invalid_dpop_proof"
    );

    // The refresh token is bound too: only the same key renews it.
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", &answer.field("refresh_token")?),
    ];
    let without = server.app("/token", &refresh)?;
    assert_eq!(without.error()?, "invalid_dpop_proof");
    let other_key = proof("ec-other.pem", "POST", &token_url, Some(&nonce))?;
    assert_eq!(
        server.app_with_proof(&refresh, &other_key)?.error()?,
        "invalid_dpop_proof"
    );
    let renewed = server.app_with_proof(
        &refresh,
        &proof("ec-pkcs8.pem", "POST", &token_url, Some(&nonce))?,
    )?;
    assert_eq!(renewed.field("token_type")?, "DPoP");
    assert_eq!(server.count("token_with_dpop"), 7);
    assert_eq!(server.count("token_without_dpop"), 1);
    Ok(())
}

#[test]
fn a_server_that_ignores_proofs_issues_bearer_tokens() -> Result {
    let server = start()?;
    server.set_dpop_ignored(true);
    let token_url = format!("{}/token", server.issuer());
    let answer = server.app_with_proof(
        &[CLIENT_CREDENTIALS],
        &proof("ec-pkcs8.pem", "POST", &token_url, None)?,
    )?;
    assert_eq!(answer.field("token_type")?, "Bearer");
    let meta = server
        .get("/.well-known/oauth-authorization-server")?
        .json()?;
    assert!(meta.get("dpop_signing_alg_values_supported").is_none());
    Ok(())
}

#[test]
fn a_login_asking_for_an_acr_and_max_age_authenticates_again_and_the_id_token_says_so() -> Result {
    let server = start()?;
    let (verifier, challenge) = (
        "v".repeat(43),
        URL_SAFE_NO_PAD.encode(Sha256::digest("v".repeat(43))),
    );
    let login = |extra: &[(&str, &str)]| -> Result<Value> {
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([("response_type", "code"), ("client_id", "cli")])
            .extend_pairs([("redirect_uri", REDIRECT), ("scope", "openid")])
            .extend_pairs([
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
            ])
            .extend_pairs(extra.iter().copied())
            .finish();
        let answer = server.get(&format!("/authorize?{query}"))?;
        let location = Url::parse(answer.header("location").ok_or("no Location")?)?;
        let code = location
            .query_pairs()
            .find(|(k, _)| k == "code")
            .ok_or("no code")?
            .1
            .into_owned();
        let token = server.cli(
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &verifier),
            ],
        )?;
        let id_token = token.field("id_token")?;
        let payload = id_token.split('.').nth(1).ok_or("no payload")?;
        Ok(serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload)?)?)
    };
    let first = login(&[])?;
    assert_eq!(first["acr"], "pwd");
    assert_eq!(server.count("authenticate"), 1);
    // The session serves a login that asks for nothing more.
    assert_eq!(login(&[])?["auth_time"], first["auth_time"]);
    assert_eq!(server.count("authenticate"), 1);
    // A stronger acr needs the person again; then that session serves it.
    let stepped = login(&[("acr_values", "mfa phr")])?;
    assert_eq!(stepped["acr"], "phr");
    assert_eq!(server.count("authenticate"), 2);
    login(&[("acr_values", "phr"), ("max_age", "600")])?;
    assert_eq!(server.count("authenticate"), 2);
    std::thread::sleep(Duration::from_millis(1100));
    login(&[("acr_values", "phr"), ("max_age", "0")])?;
    assert_eq!(server.count("authenticate"), 3, "max_age 0 means now");
    // Some servers want openid for acr_values.
    server.set_acr_needs_openid(true);
    let query = format!(
        "/authorize?response_type=code&client_id=cli&redirect_uri={}&code_challenge={challenge}\
         &code_challenge_method=S256&scope=read&acr_values=phr&state=s",
        form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    );
    let refused = server.get(&query)?;
    assert!(
        refused
            .header("location")
            .ok_or("no Location")?
            .contains("error=invalid_request")
    );
    Ok(())
}

#[test]
fn resource_indicators_bind_tokens_and_a_refresh_cannot_move_them() -> Result {
    let server = start()?;
    server.set_client_credentials_refresh(true);
    let mcp = [("resource", "https://mcp.example/mcp")];
    let answer = server.app("/token", &[&[CLIENT_CREDENTIALS], &mcp[..]].concat())?;
    let (access, refresh) = (
        answer.field("access_token")?,
        answer.field("refresh_token")?,
    );
    assert_eq!(
        server.resource_of(&access).as_deref(),
        Some("https://mcp.example/mcp")
    );
    let introspected = server.app("/introspect", &[("token", &access)])?.json()?;
    assert_eq!(introspected["aud"], "https://mcp.example/mcp");
    let grant = [("grant_type", "refresh_token"), ("refresh_token", &refresh)];
    let moved = server.app(
        "/token",
        &[&grant[..], &[("resource", "https://other.example/")]].concat(),
    )?;
    assert_eq!(
        (moved.status, moved.error()?),
        (400, "invalid_target".to_owned())
    );
    let kept = server.app("/token", &[&grant[..], &mcp[..]].concat())?;
    let renewed = kept.field("access_token")?;
    assert_eq!(
        server.resource_of(&renewed).as_deref(),
        Some("https://mcp.example/mcp")
    );
    let fragment = server.app(
        "/token",
        &[CLIENT_CREDENTIALS, ("resource", "https://a/#f")],
    )?;
    assert_eq!(fragment.error()?, "invalid_target");
    Ok(())
}

#[test]
fn a_pushed_request_is_used_once_by_its_client_and_required_when_set() -> Result {
    let server = start()?;
    server.set_par(oauth_test_server::Par::Required);
    let meta = server
        .get("/.well-known/oauth-authorization-server")?
        .json()?;
    assert_eq!(meta["require_pushed_authorization_requests"], true);
    assert!(
        meta["pushed_authorization_request_endpoint"]
            .as_str()
            .unwrap()
            .ends_with("/par")
    );
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest("v".repeat(43)));
    let plain = server.get(&format!(
        "/authorize?response_type=code&client_id=cli&redirect_uri={}&code_challenge={challenge}&code_challenge_method=S256",
        form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    ))?;
    assert_eq!(plain.status, 400, "PAR is required");
    let pushed = server.cli(
        "/par",
        &[
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("resource", "https://mcp.example/mcp"),
        ],
    )?;
    assert_eq!(pushed.status, 201);
    let uri = pushed.field("request_uri")?;
    let target = format!(
        "/authorize?client_id=cli&request_uri={}",
        form_urlencoded::byte_serialize(uri.as_bytes()).collect::<String>()
    );
    let answer = server.get(&target)?;
    assert_eq!(answer.status, 302, "{}", answer.body);
    assert!(
        answer
            .header("location")
            .unwrap_or_default()
            .contains("code=")
    );
    assert_eq!(server.get(&target)?.status, 400, "used once");
    Ok(())
}
