//! Presets against emulators of their servers (the test server in the
//! shape each server's documentation gives, `TestServer::start_entra` and
//! the like): the real binary logs in, hands git the right username,
//! renews the token with the refresh token; and `doctor` knows Google's
//! limit on refresh tokens.

use crate::support::*;

const AZURE_DEVOPS: &str = "499b84ac-1321-427f-aa17-267ca6975798/.default";

/// Move every time in the cached token back by `secs`, as the clock
/// moving on would: the access token expires, the refresh token ages.
fn age_the_token(env: &Env, secs: u64) {
    let path = env
        .token_entries()
        .into_iter()
        .find(|p| {
            std::fs::read_to_string(p)
                .unwrap_or_default()
                .contains("access_token")
        })
        .expect("a cached token");
    let mut entry: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for field in ["obtained_at", "expires_at", "refresh_token_obtained_at"] {
        if let Some(at) = entry[field].as_u64() {
            entry[field] = (at - secs).into();
        }
    }
    std::fs::write(&path, entry.to_string()).unwrap();
}

/// Remove `field` from the cached token, as versions that did not write it left it.
fn forget_in_the_token(env: &Env, field: &str) {
    let path = env
        .token_entries()
        .into_iter()
        .next()
        .expect("a cached token");
    let mut entry: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    entry.as_object_mut().unwrap().remove(field);
    std::fs::write(&path, entry.to_string()).unwrap();
}

/// A git `get` for `host` over `protocol`.
fn git_get(protocol: &str, host: &str) -> String {
    format!("protocol={protocol}\nhost={host}\n\n")
}

/// Run a git `get` at a terminal and approve the device code it shows at
/// the Entra emulator's `/devicelogin`.
fn entra_device_login(server: &TestServer, env: &Env, request: &str) -> Output {
    let mut run = env.spawn_at_terminal(&["get"], request);
    let line = run.wait_for_line("user_code=", 20);
    let code = line.trim_start_matches("user_code=");
    let (status, _) = http_get(&format!("{}/devicelogin?user_code={code}", server.origin()));
    assert_eq!(status, 200);
    run.finish()
}

#[test]
fn entra_preset_logs_in_to_azure_devops_by_device_code_and_refreshes() {
    let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let server = TestServer::start_entra(tenant).unwrap();
    server.set_device_interval(0);
    server.add_client("ado-app", None);
    let env = Env::new();
    env.write_config(&format!(
        "storage = \"file\"\n\n[[provider]]\nurl = \"https://dev.azure.com/contoso/\"\n\
         preset = \"entra\"\nissuer = \"{}\"\nclient_id = \"ado-app\"\n",
        server.issuer()
    ));
    let request = "protocol=https\nhost=dev.azure.com\npath=contoso/project/_git/repo\n\n";
    let out = entra_device_login(&server, &env, request);
    out.ok();
    let first = out.field("password").unwrap();
    assert!(server.is_active(&first), "{out}");
    assert_eq!(out.field("username").as_deref(), Some("oauth2"), "{out}");
    // The preset's endpoints, under the tenant written in the issuer.
    let asked = server
        .last_request(&format!("/{tenant}/oauth2/v2.0/devicecode"))
        .expect("the device code was asked at the tenant's endpoint");
    assert_eq!(
        asked.param("scope"),
        Some(format!("{AZURE_DEVOPS} offline_access").as_str())
    );
    assert_eq!(asked.param("client_id"), Some("ado-app"));
    assert!(asked.header("authorization").is_none(), "a public client");
    assert!(
        env.only_token_entry()["refresh_token"].is_string(),
        "offline_access brought a refresh token"
    );
    // 75 minutes on, the token is renewed without anyone.
    age_the_token(&env, 75 * 60);
    let renewed = env.run(&["get"], request);
    renewed.ok();
    assert_eq!(server.count("refresh_token"), 1, "{renewed}");
    assert_eq!(server.count("device_code"), 1);
    let second = renewed.field("password").unwrap();
    assert_ne!(second, first);
    assert!(server.is_active(&second), "{renewed}");
    assert_eq!(renewed.field("username").as_deref(), Some("oauth2"));
}

#[test]
fn entra_preset_without_offline_access_gets_no_refresh_token_from_the_emulator() {
    // The control for the test above: Entra gives a refresh token only for
    // offline_access, so scopes written without it log in every time.
    let server = TestServer::start_entra("contoso.onmicrosoft.com").unwrap();
    server.set_device_interval(0);
    server.add_client("ado-app", None);
    let env = Env::new();
    env.write_config(&format!(
        "storage = \"file\"\n\n[[provider]]\nurl = \"https://dev.azure.com/\"\n\
         preset = \"entra\"\nissuer = \"{}\"\nclient_id = \"ado-app\"\n\
         scopes = [\"{AZURE_DEVOPS}\"]\n",
        server.issuer()
    ));
    let out = entra_device_login(&server, &env, &git_get("https", "dev.azure.com"));
    out.ok();
    assert!(env.only_token_entry().get("refresh_token").is_none());
}

#[test]
fn entra_multi_tenant_metadata_with_the_tenantid_template_is_accepted_for_its_alias_only() {
    // No preset: the endpoints come from the alias's metadata, whose issuer
    // is the literal {tenantid} template.
    let server = TestServer::start_entra("organizations").unwrap();
    server.set_device_interval(0);
    server.add_client("ado-app", None);
    let env = Env::new();
    let provider = |issuer: &str| {
        format!(
            "storage = \"file\"\n\n[[provider]]\nurl = \"https://dev.azure.com/\"\n\
             issuer = \"{issuer}\"\nclient_id = \"ado-app\"\ngrant = \"device_code\"\n\
             scopes = [\"{AZURE_DEVOPS}\", \"offline_access\"]\n"
        )
    };
    env.write_config(&provider(&server.issuer()));
    let out = entra_device_login(&server, &env, &git_get("https", "dev.azure.com"));
    out.ok();
    assert!(server.is_active(&out.field("password").unwrap()), "{out}");
    assert_eq!(server.count("oidc"), 1, "{out}");

    // A concrete tenant whose metadata names the template is refused.
    let tenant = TestServer::start_entra("contoso").unwrap();
    let template = format!("{}/{{tenantid}}/v2.0", tenant.origin());
    tenant.set_metadata_issuer(Some(&template));
    tenant.add_client("ado-app", None);
    // Were the document taken, a login would start: let it end at once.
    tenant.set_device_code_lifetime(0);
    let env = Env::new();
    env.write_config(&provider(&tenant.issuer()));
    let out = env.run_at_terminal(&["token", "https://dev.azure.com/"], "");
    out.fails();
    assert!(out.stderr.contains("not the configured"), "{out}");
    assert!(out.stderr.contains("{tenantid}"), "{out}");
    assert_eq!(tenant.count("device_authorization"), 0, "{out}");

    // So is an alias whose metadata names one concrete tenant.
    let alias = TestServer::start_entra("organizations").unwrap();
    let other = format!("{}/contoso/v2.0", alias.origin());
    alias.set_metadata_issuer(Some(&other));
    alias.add_client("ado-app", None);
    alias.set_device_code_lifetime(0);
    let env = Env::new();
    env.write_config(&provider(&alias.issuer()));
    let out = env.run_at_terminal(&["token", "https://dev.azure.com/"], "");
    out.fails();
    assert!(out.stderr.contains("not the configured"), "{out}");
    assert_eq!(alias.count("device_authorization"), 0, "{out}");
}

#[test]
fn gitea_and_forgejo_presets_log_in_with_pkce_and_refresh_an_hour_later() {
    for preset in ["gitea", "forgejo"] {
        let server = TestServer::start_gitea().unwrap();
        // A public ("non-confidential") app with the loopback redirect that
        // takes any port, as the README says to register it.
        server.add_client_with_redirect_uris("app", None, &["http://127.0.0.1/"]);
        let mut env = Env::new();
        env.browser(r#"curl -sS -L -o /dev/null "$1""#);
        let url = format!("{}/", server.origin());
        env.write_config(&format!(
            "storage = \"file\"\n\n[[provider]]\nurl = \"{url}\"\npreset = \"{preset}\"\n\
             client_id = \"app\"\nredirect_uri = \"http://127.0.0.1:0/\"\n"
        ));
        let host = url.trim_start_matches("http://").trim_end_matches('/');
        let request = git_get("http", host);
        let out = env.run(&["get"], &request);
        out.ok();
        let first = out.field("password").unwrap();
        assert!(server.is_active(&first), "{preset}: {out}");
        assert_eq!(out.field("username").as_deref(), Some("oauth2"));
        let authorize = server.last_request("/login/oauth/authorize").unwrap();
        assert_eq!(authorize.param("code_challenge_method"), Some("S256"));
        assert_eq!(authorize.param("scope"), None, "{preset}: no scope asked");
        assert_eq!(
            server.count("token"),
            1,
            "{preset}: at /login/oauth/access_token"
        );
        age_the_token(&env, 3600);
        let renewed = env.run(&["get"], &request);
        renewed.ok();
        assert_eq!(server.count("refresh_token"), 1, "{preset}: {renewed}");
        assert_eq!(server.count("authorize"), 1, "{preset}: nobody asked again");
        assert!(server.is_active(&renewed.field("password").unwrap()));
    }
}

/// The Bitbucket emulator with the consumer `key`/`secret`, and an Env
/// whose provider for bitbucket.org has the preset and `client`.
fn bitbucket(client: &str) -> (TestServer, Env) {
    let server = TestServer::start_bitbucket().unwrap();
    server.add_client_with_redirect_uris("key", Some("secret"), &["http://127.0.0.1:5210/"]);
    let mut env = Env::new();
    env.browser(r#"curl -sS -L -o /dev/null "$1""#);
    env.write_config(&format!(
        "storage = \"file\"\n\n[[provider]]\nurl = \"https://bitbucket.org/\"\n\
         preset = \"bitbucket\"\nissuer = \"{}\"\nredirect_uri = \"http://127.0.0.1:0/\"\n{client}",
        server.origin()
    ));
    (server, env)
}

#[test]
fn bitbucket_preset_logs_in_as_x_token_auth_with_the_consumer_secret_and_refreshes() {
    let (server, env) = bitbucket("client_id = \"key\"\nclient_secret = \"secret\"\n");
    let request = git_get("https", "bitbucket.org");
    let out = env.run(&["get"], &request);
    out.ok();
    let first = out.field("password").unwrap();
    assert!(server.is_active(&first), "{out}");
    assert_eq!(out.field("username").as_deref(), Some("x-token-auth"));
    let exchange = server.last_request("/site/oauth2/access_token").unwrap();
    assert!(
        exchange
            .header("authorization")
            .is_some_and(|h| h.starts_with("Basic ")),
        "the secret goes in HTTP Basic"
    );
    assert!(!out.stderr.contains("secret"), "{out}");
    // Two hours on: renewed with the same refresh token, the secret again.
    let refresh_token = env.only_token_entry()["refresh_token"].clone();
    age_the_token(&env, 2 * 3600);
    let renewed = env.run(&["get"], &request);
    renewed.ok();
    assert_eq!(server.count("refresh_token"), 1, "{renewed}");
    assert_eq!(server.count("authorize"), 1);
    assert!(server.is_active(&renewed.field("password").unwrap()));
    assert_eq!(renewed.field("username").as_deref(), Some("x-token-auth"));
    assert_eq!(env.only_token_entry()["refresh_token"], refresh_token);
}

#[test]
fn bitbucket_preset_without_the_consumer_secret_is_a_config_error_that_says_so() {
    let (server, env) = bitbucket("client_id = \"key\"\n");
    let out = env.run(&["get"], &git_get("https", "bitbucket.org"));
    out.fails();
    assert!(
        out.stderr
            .contains("preset \"bitbucket\" needs client_secret"),
        "{out}"
    );
    assert!(out.stderr.contains("OAuth consumer"), "{out}");
    assert_eq!(server.count("authorize") + server.count("token"), 0);
}

/// An Env logged in at the Google emulator through a provider whose issuer
/// is Google's (its endpoints written, on the emulator). Doctor's clock
/// check would ask accounts.google.com: a proxy that refuses keeps it here.
fn google_logged_in() -> (TestServer, Env) {
    let server = TestServer::start_google().unwrap();
    server.add_client("desktop", Some("desktop-secret"));
    let mut env = Env::new();
    env.browser(r#"curl -sS -L -o /dev/null "$1""#);
    env.var("HTTPS_PROXY", "http://127.0.0.1:9");
    env.write_config(&format!(
        "storage = \"file\"\n\n[[provider]]\nname = \"gcp\"\nurl = \"https://europe-docker.pkg.dev/\"\n\
         issuer = \"https://accounts.google.com\"\n\
         authorization_endpoint = \"{0}/o/oauth2/v2/auth\"\ntoken_endpoint = \"{0}/token\"\n\
         client_id = \"desktop\"\nclient_secret = \"desktop-secret\"\n\
         redirect_uri = \"http://127.0.0.1:0/\"\n\
         scopes = [\"https://www.googleapis.com/auth/cloud-platform\"]\n",
        server.origin()
    ));
    env.run(&["token", "https://europe-docker.pkg.dev/"], "")
        .ok();
    (server, env)
}

fn refresh_token_warning(out: &Output) -> Option<String> {
    out.stdout
        .lines()
        .find(|l| l.starts_with("warning  gcp: the refresh token was obtained"))
        .map(str::to_string)
}

#[test]
fn doctor_warns_when_a_google_refresh_token_is_older_than_seven_days() {
    let (server, env) = google_logged_in();
    let out = env.run(&["doctor"], "");
    assert_eq!(refresh_token_warning(&out), None, "a day-old token: {out}");
    age_the_token(&env, 6 * 24 * 3600);
    let out = env.run(&["doctor"], "");
    assert_eq!(refresh_token_warning(&out), None, "six days: {out}");
    age_the_token(&env, 2 * 24 * 3600);
    let out = env.run(&["doctor"], "");
    let line = refresh_token_warning(&out).unwrap_or_else(|| panic!("no warning\n{out}"));
    assert!(line.contains("obtained 8 d ago"), "{line}");
    assert!(line.contains("\"Testing\" status after 7 days"), "{line}");
    let fix = out
        .stdout
        .lines()
        .skip_while(|l| *l != line)
        .nth(1)
        .unwrap_or_default();
    assert!(
        fix.contains("fix: publish the app")
            && fix.contains("credential-oauth login https://europe-docker.pkg.dev/"),
        "{fix}"
    );
    // A refresh keeps the refresh token (Google sends none back), and its age.
    env.run(&["token", "https://europe-docker.pkg.dev/"], "")
        .ok();
    assert_eq!(server.count("refresh_token"), 1);
    let out = env.run(&["doctor"], "");
    let line = refresh_token_warning(&out).unwrap_or_else(|| panic!("no warning\n{out}"));
    assert!(line.contains("obtained 8 d ago"), "{line}");
    assert!(!out.stdout.contains("desktop-secret"), "{out}");
}

#[test]
fn doctor_bounds_the_age_of_a_google_refresh_token_cached_before_it_was_kept() {
    let (_server, env) = google_logged_in();
    forget_in_the_token(&env, "refresh_token_obtained_at");
    let out = env.run(&["doctor"], "");
    assert_eq!(refresh_token_warning(&out), None, "{out}");
    age_the_token(&env, 9 * 24 * 3600);
    let out = env.run(&["doctor"], "");
    let line = refresh_token_warning(&out).unwrap_or_else(|| panic!("no warning\n{out}"));
    assert!(line.contains("obtained at least 9 d ago"), "{line}");
}

#[test]
fn doctor_says_nothing_of_an_old_refresh_token_from_a_server_that_is_not_google() {
    let server = TestServer::start_gitea().unwrap();
    server.add_client("app", None);
    let mut env = Env::new();
    env.browser(r#"curl -sS -L -o /dev/null "$1""#);
    env.write_config(&format!(
        "storage = \"file\"\n\n[[provider]]\nname = \"gcp\"\nurl = \"{0}/\"\npreset = \"gitea\"\n\
         client_id = \"app\"\nredirect_uri = \"http://127.0.0.1:0/\"\n",
        server.origin()
    ));
    env.run(&["token", &format!("{}/", server.origin())], "")
        .ok();
    age_the_token(&env, 30 * 24 * 3600);
    let out = env.run(&["doctor"], "");
    assert!(out.stdout.contains("ok       gcp: token cached"), "{out}");
    assert_eq!(refresh_token_warning(&out), None, "{out}");
}
