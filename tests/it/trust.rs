//! Trust: a git server, a discovered authorization server or a stray config
//! line must never steer a secret (DESIGN.md "Trust: where secrets may go").
//! Each test plays the attacker with a hostile server on loopback and
//! asserts what the attacker received.

use crate::support::hostile::{Hostile, Plan};
use crate::support::*;

/// A browser that follows every redirect, keeping the page it ends on.
const FOLLOW: &str = r#"curl -sS -L -o "$DIR/page.html" -w '%{http_code}' "$1" > "$DIR/status.tmp"
mv "$DIR/status.tmp" "$DIR/status""#;

/// A config allowing discovery for the hostile host, plus `providers`.
fn discovering(hostile: &Hostile, providers: &str) -> String {
    format!(
        "storage = \"file\"\ndiscover_hosts = [\"127.0.0.1:{}\"]\n\n{providers}",
        hostile.port
    )
}

#[test]
fn a_discovered_resource_never_receives_another_providers_cached_token() {
    let honest = TestServer::start().unwrap();
    let hostile = Hostile::start(Plan {
        resource_issuer: Some(honest.issuer()),
        ..Plan::default()
    });
    let mut env = Env::new();
    // A provider with no client id and no scopes: the one whose cache key a
    // discovered provider for the same issuer would share.
    env.write_config(&discovering(
        &hostile,
        &format!(
            "[[provider]]\nname = \"corp\"\nurl = \"https://git.example.com/\"\nissuer = \"{}\"\n\
             redirect_uri = \"http://127.0.0.1:0/\"\n",
            honest.issuer()
        ),
    ));
    env.browser(FOLLOW);
    let corp = env.run(&["token", "https://git.example.com/"], "");
    corp.ok();
    let corp_token = corp.stdout.trim().to_string();

    let out = env.run(&["get"], &hostile.git_request("repo.git", Some("read")));
    out.ok();
    let handed = out.field("credential").or_else(|| out.field("password"));
    assert_ne!(
        handed.as_deref(),
        Some(corp_token.as_str()),
        "the hostile resource got corp's token\n{out}"
    );
    assert!(honest.is_active(&corp_token));
    // What it got was obtained for it, with the scope its challenge named.
    let authorize = honest.last_request("/authorize").unwrap();
    assert_eq!(authorize.param("scope"), Some("read"), "{authorize:?}");
}

#[test]
fn a_discovered_provider_asks_for_the_scopes_the_resource_supports() {
    let honest = TestServer::start().unwrap();
    let hostile = Hostile::start(Plan {
        resource_issuer: Some(honest.issuer()),
        scopes_supported: vec!["read".into(), "write".into()],
        ..Plan::default()
    });
    let mut env = Env::new();
    env.write_config(&discovering(&hostile, ""));
    env.browser(FOLLOW);
    env.run(&["get"], &hostile.git_request("repo.git", None))
        .ok();
    let authorize = honest.last_request("/authorize").unwrap();
    assert_eq!(
        authorize.param("scope"),
        Some("read write"),
        "{authorize:?}"
    );
}

#[test]
fn discover_true_never_sends_the_configured_secret_to_a_discovered_issuer() {
    let hostile = Hostile::start(Plan::default());
    let env = Env::new();
    env.write_config(&format!(
        "storage = \"file\"\n\n[[provider]]\nname = \"team\"\nurl = \"{}/\"\ndiscover = true\n\
         client_id = \"app\"\nclient_secret = \"s3cret-app\"\ngrant = \"client_credentials\"\n",
        hostile.origin()
    ));
    let out = env.run(&["get"], &hostile.git_request("repo.git", None));
    let basic =
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "app:s3cret-app");
    for seen in hostile.seen() {
        assert!(
            !seen.carries("s3cret-app") && !seen.carries(&basic) && !seen.carries("app"),
            "the attacker received the client's credentials: {seen:?}\n{out}"
        );
    }
    assert!(out.stdout.is_empty(), "{out}");
    assert!(out.stderr.contains("discover"), "{out}");
}

/// The mix-up attack of RFC 9700 §4.4: the user has an honest provider
/// whose client `victim` the attacker knows; a discovered attacker AS sends
/// the browser to the honest AS with the helper's own request.
fn mixup(honest: &TestServer) -> (Hostile, Env) {
    let hostile = Hostile::start(Plan {
        mixup_to: Some(format!("{}/authorize", honest.issuer())),
        victim_client_id: "victim".into(),
        ..Plan::default()
    });
    let mut env = Env::new();
    env.write_config(&discovering(
        &hostile,
        &format!(
            "[[provider]]\nname = \"honest\"\nurl = \"https://git.example.com/\"\nissuer = \"{}\"\n\
             client_id = \"victim\"\n",
            honest.issuer()
        ),
    ));
    env.browser(FOLLOW);
    // A login whose code goes where nobody listens ends when this runs out,
    // not after five minutes; long enough for the browser's round trip on
    // a busy machine.
    env.var("CREDENTIAL_OAUTH_LOGIN_TIMEOUT", "10");
    (hostile, env)
}

/// Neither code nor verifier reached the attacker.
fn assert_attacker_got_no_code(hostile: &Hostile, out: &Output) {
    assert!(
        !hostile.seen_at("/authorize").is_empty(),
        "the attack did not run\n{out}"
    );
    for seen in hostile.seen_at("/token") {
        assert!(
            seen.form("code").is_none() && seen.form("code_verifier").is_none(),
            "the attacker redeemed the honest server's code: {seen:?}\n{out}"
        );
    }
    assert!(out.field("password").is_none(), "{out}");
}

#[test]
fn a_mixed_up_authorization_server_never_receives_the_honest_servers_code() {
    let honest = TestServer::start().unwrap();
    // The honest registration names its redirect; a strict server holds
    // the request to it (any port, RFC 8252 §7.3, but this path).
    honest.add_client_with_redirect_uris("victim", None, &["http://127.0.0.1/"]);
    let (hostile, env) = mixup(&honest);
    let out = env.run(&["get"], &hostile.git_request("repo.git", None));
    assert_attacker_got_no_code(&hostile, &out);
    assert_eq!(honest.count("authorization_code"), 0);
}

#[test]
fn an_authorization_response_naming_another_issuer_is_refused() {
    let honest = TestServer::start().unwrap();
    // A lax registration lets any loopback redirect through; RFC 9207's
    // `iss` still tells the listener whose code this is.
    honest.add_client("victim", None);
    honest.set_authorization_response_iss(true);
    let (hostile, mut env) = mixup(&honest);
    // The refusal ends this login, not the timeout: no hurry for the browser.
    env.set_var("CREDENTIAL_OAUTH_LOGIN_TIMEOUT", "120");
    let out = env.run(&["get"], &hostile.git_request("repo.git", None));
    assert_attacker_got_no_code(&hostile, &out);
    let page = std::fs::read_to_string(env.root.join("page.html")).unwrap_or_default();
    assert!(page.contains("iss"), "{page}");
}

#[test]
fn a_login_at_a_server_that_sends_iss_still_works() {
    let server = TestServer::start().unwrap();
    server.add_client("app", None);
    server.set_authorization_response_iss(true);
    let mut env = Env::new();
    env.write_config(&interactive_provider(
        &server,
        "https://git.example.com/",
        "client_id = \"app\"\n",
    ));
    env.browser(FOLLOW);
    let out = env.run(&["token", "https://git.example.com/"], "");
    out.ok();
    assert!(server.is_active(out.stdout.trim()));
}

#[test]
fn a_discovered_device_login_names_the_authorization_server_and_needs_https() {
    let hostile = Hostile::start(Plan {
        verification_uri: "http://phish.example/login".into(),
        ..Plan::default()
    });
    let env = Env::new();
    env.write_config(&discovering(&hostile, ""));
    // No browser here, a person at a terminal: the device grant is the way in.
    let out = env.run_at_terminal(&["get"], &hostile.git_request("repo.git", None));
    out.fails();
    assert!(!out.stderr.contains("open http://phish.example"), "{out}");
    assert!(out.stderr.contains("https"), "{out}");

    let hostile = Hostile::start(Plan {
        verification_uri: "https://phish.example/login".into(),
        ..Plan::default()
    });
    env.write_config(&discovering(&hostile, ""));
    let mut get = env.spawn_at_terminal(&["get"], &hostile.git_request("repo.git", None));
    let out = get.finish();
    let shown = out
        .stderr
        .lines()
        .find(|l| l.contains("https://phish.example/login"))
        .unwrap_or_else(|| panic!("no instructions\n{out}"));
    assert!(
        shown.contains(&hostile.origin()),
        "the person is not told which server asks: {shown}"
    );
    // The line drawn on the terminal while approval is awaited shows the
    // page again, so it names the server too.
    let waiting = "waiting for approval at https://phish.example/login";
    let tty = get.terminal().wait_for(10, |t| t.contains(waiting));
    let line = tty
        .split('\r')
        .find(|l| l.contains(waiting))
        .unwrap_or_else(|| panic!("no waiting line on the terminal: {tty:?}\n{out}"));
    assert!(
        line.contains(&format!("(authorization server {})", hostile.origin())),
        "the waiting line does not say which server asks: {line:?}"
    );
}

#[test]
fn logout_revokes_the_grant_of_a_registered_client() {
    let server = TestServer::start().unwrap();
    let mut env = Env::new();
    env.write_config(&interactive_provider(
        &server,
        "https://git.example.com/",
        "",
    ));
    env.browser(FOLLOW);
    env.run(&["token", "https://git.example.com/"], "").ok();
    let entry = env.only_token_entry();
    let refresh = entry["refresh_token"].as_str().unwrap().to_string();
    assert!(server.is_active(&refresh));
    let out = env.run(&["logout", "https://git.example.com/"], "");
    out.ok();
    assert!(
        !server.is_active(&refresh),
        "the refresh token still works after logout\n{out}"
    );
}

#[test]
fn status_and_logout_reach_a_discovered_providers_token() {
    let honest = TestServer::start().unwrap();
    let hostile = Hostile::start(Plan {
        resource_issuer: Some(honest.issuer()),
        ..Plan::default()
    });
    let mut env = Env::new();
    env.write_config(&discovering(&hostile, ""));
    env.browser(FOLLOW);
    env.run(&["get"], &hostile.git_request("repo.git", Some("read")))
        .ok();
    let entry = env.only_token_entry();
    let refresh = entry["refresh_token"].as_str().unwrap().to_string();
    let status = env.run(&["status"], "");
    status.ok();
    assert!(status.stdout.contains(&hostile.origin()), "{status}");
    let out = env.run(&["logout", &hostile.url("")], "");
    out.ok();
    assert!(env.token_entries().iter().all(|p| {
        !std::fs::read_to_string(p)
            .unwrap_or_default()
            .contains("access_token")
    }));
    assert!(!honest.is_active(&refresh), "{out}");
}

#[test]
fn clients_we_register_listen_on_any_free_port_at_a_path_of_their_issuer() {
    let server = TestServer::start().unwrap();
    let mut env = Env::new();
    env.write_config(&format!(
        "storage = \"file\"\n\n[[provider]]\nname = \"corp\"\nurl = \"https://git.example.com/\"\n\
         issuer = \"{}\"\n",
        server.issuer()
    ));
    env.browser(FOLLOW);
    env.run(&["token", "https://git.example.com/"], "").ok();
    let register: serde_json::Value =
        serde_json::from_str(&server.last_request("/register").unwrap().body).unwrap();
    let registered = url::Url::parse(register["redirect_uris"][0].as_str().unwrap()).unwrap();
    let authorize = server.last_request("/authorize").unwrap();
    let used = url::Url::parse(authorize.param("redirect_uri").unwrap()).unwrap();
    assert_ne!(used.port(), Some(5210));
    assert!(used.path().len() > 1, "no path of its own: {used}");
    assert_eq!(used.path(), registered.path());
}

#[test]
fn the_device_login_waits_no_longer_than_login_timeout() {
    let server = TestServer::start().unwrap();
    server.add_client("app", None);
    server.set_device_interval(0);
    let env = Env::new();
    env.write_config(&interactive_provider(
        &server,
        "https://git.example.com/",
        "client_id = \"app\"\ngrant = \"device_code\"\nlogin_timeout = 1\n",
    ));
    let mut running = env.spawn_at_terminal(&["token", "https://git.example.com/"], "");
    // Nobody approves; the device code lives ten minutes, the login one second.
    running.wait_for_line("credential-oauth: no approval", 60);
    let out = running.finish();
    out.fails();
    assert!(out.stderr.contains("login_timeout"), "{out}");
}

#[test]
fn a_plain_http_provider_url_needs_allow_insecure_http() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    env.client_credentials_config(&server, "http://git.example.com/");
    let out = env.run(&["token", "http://git.example.com/"], "");
    out.fails();
    assert!(out.stderr.contains("allow_insecure_http"), "{out}");
    assert_eq!(server.count("token"), 0);
    let text = std::fs::read_to_string(env.config_path()).unwrap();
    env.write_config(&text.replace(
        "grant = \"client_credentials\"",
        "grant = \"client_credentials\"\nallow_insecure_http = true",
    ));
    env.run(&["token", "http://git.example.com/"], "").ok();
}

#[test]
fn a_refresh_token_git_brings_never_goes_to_a_discovered_issuer() {
    let hostile = Hostile::start(Plan {
        verification_uri: "https://verify.example/device".into(),
        ..Plan::default()
    });
    let env = Env::new();
    env.write_config(&discovering(&hostile, ""));
    // git kept this for the URL from another helper's login elsewhere.
    let request = hostile
        .git_request("repo.git", None)
        .replace("\n\n", "\noauth_refresh_token=rt-from-another-helper\n\n");
    let out = env.run(&["get"], &request);
    for seen in hostile.seen() {
        assert!(
            !seen.carries("rt-from-another-helper"),
            "the attacker received git's refresh token: {seen:?}\n{out}"
        );
    }
}

#[test]
fn a_warm_get_with_a_challenge_touches_no_network() {
    let honest = TestServer::start().unwrap();
    let hostile = Hostile::start(Plan {
        resource_issuer: Some(honest.issuer()),
        ..Plan::default()
    });
    let mut env = Env::new();
    env.write_config(&discovering(&hostile, ""));
    env.browser(FOLLOW);
    let first = env.run(&["get"], &hostile.git_request("repo.git", Some("read")));
    first.ok();
    let (resource_seen, server_seen) = (hostile.seen().len(), honest.count("metadata"));
    let warm = env.run(&["get"], &hostile.git_request("repo.git", Some("read")));
    warm.ok();
    assert_eq!(warm.field("password"), first.field("password"));
    assert_eq!(hostile.seen().len(), resource_seen, "{warm}");
    assert_eq!(honest.count("metadata"), server_seen);
    assert_eq!(honest.count("token"), 1);
}

/// A workload credential the attacker would love to replay: it must not
/// reach the authorization server a git server names.
const WORKLOAD_JWT: &str =
    "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ3b3JrbG9hZCJ9.c2lnbmVkLWJ5LXRoZS1wbGF0Zm9ybQ";

/// `discover = true` with no issuer and `extra`: whatever the attacker's
/// resource metadata names would be the issuer.
fn discovering_workload(env: &Env, hostile: &Hostile, extra: &str) -> String {
    format!(
        "storage = \"file\"\n\n[[provider]]\nname = \"workload\"\nurl = \"{}/\"\ndiscover = true\n\
         {extra}\n",
        hostile.origin(),
    )
    .replace("$ROOT", &env.root.display().to_string())
}

/// The attacker received no subject token and no client assertion, the
/// caller got no token, and the helper said why in one line naming `key`.
fn assert_no_workload_credential_left(hostile: &Hostile, out: &Output, key: &str) {
    for seen in hostile.seen() {
        assert!(
            !seen.carries(WORKLOAD_JWT)
                && seen.form("subject_token").is_none()
                && seen.form("client_assertion").is_none(),
            "the attacker received a workload credential: {seen:?}\n{out}"
        );
    }
    assert!(hostile.seen_at("/token").is_empty(), "{out}");
    assert!(out.stdout.is_empty(), "{out}");
    let said: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(said.len(), 1, "{out}");
    assert!(
        said[0].starts_with("credential-oauth: ")
            && said[0].contains(&format!(
                "discover = true without issuer cannot be combined with {key}: "
            )),
        "{out}"
    );
}

#[test]
fn a_discovered_issuer_never_receives_the_subject_token_of_a_token_exchange() {
    let hostile = Hostile::start(Plan::default());
    let env = Env::new();
    std::fs::write(env.root.join("sa-token"), WORKLOAD_JWT).unwrap();
    env.write_config(&discovering_workload(
        &env,
        &hostile,
        "grant = \"token_exchange\"\nsubject_token_file = \"$ROOT/sa-token\"\n",
    ));
    let out = env.run(&["get"], &hostile.git_request("repo.git", None));
    assert_no_workload_credential_left(&hostile, &out, "subject_token_file");
}

#[test]
fn a_discovered_issuer_never_receives_a_client_assertion() {
    let hostile = Hostile::start(Plan::default());
    let env = Env::new();
    std::fs::write(env.root.join("oidc-token"), WORKLOAD_JWT).unwrap();
    let key = private_key_file(&env, "ec-pkcs8.pem");
    for (extra, named) in [
        (
            "grant = \"client_credentials\"\nclient_assertion_file = \"$ROOT/oidc-token\"\n"
                .to_string(),
            "client_assertion_file",
        ),
        (
            format!(
                "client_id = \"ci\"\ngrant = \"client_credentials\"\nprivate_key_file = \"{}\"\n",
                key.display()
            ),
            "private_key_file",
        ),
    ] {
        env.write_config(&discovering_workload(&env, &hostile, &extra));
        let out = env.run(&["get"], &hostile.git_request("repo.git", None));
        assert_no_workload_credential_left(&hostile, &out, named);
    }
}
