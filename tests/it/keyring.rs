//! Tokens in the OS keychain: a real Secret Service (gnome-keyring on a
//! private D-Bus session bus per test), the file when there is none, and
//! logout removing the entry wherever it is.
//!
//! Needs dbus-daemon, dbus-send, gnome-keyring-daemon and secret-tool (Debian: dbus,
//! gnome-keyring, libsecret-tools); without them the tests say "skipped",
//! except under CI.

use crate::support::*;

const URL: &str = "https://git.example.com/";

fn parse(secret: &str) -> serde_json::Value {
    serde_json::from_str(secret.trim_end()).expect("the keychain secret is the token JSON")
}

#[test]
fn get_keeps_the_token_in_the_secret_service_and_logout_removes_and_revokes_it() {
    let server = TestServer::start().unwrap();
    server.set_client_credentials_refresh(true);
    let mut env = Env::new();
    env.client_credentials_config_with_storage(&server, URL, "auto");
    let Some(bus) = SessionBus::start(&mut env, true) else {
        return;
    };
    let key = Env::client_credentials_key(&server);

    let first = env.run(&["-v", "get"], &git_request(URL));
    first.ok();
    let token = first.field("password").expect("a password");
    assert!(first.stderr.contains("storage: keyring"), "{first}");
    assert!(!first.stderr.contains(&token), "{first}");

    let stored = bus
        .lookup(&env, &key)
        .unwrap_or_else(|| panic!("no keychain item for {key}\n{}", bus.search(&env)));
    let json = parse(&stored);
    assert_eq!(json["access_token"], token.as_str());
    let refresh = json["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_string();
    assert!(bus.search(&env).contains(&format!("username = {key}")));
    assert!(env.token_entries().is_empty(), "{:?}", env.token_files());

    let again = env.run(&["-v", "get"], &git_request(URL));
    assert_eq!(
        again.ok().field("password").as_deref(),
        Some(token.as_str())
    );
    assert!(again.stderr.contains("served by the keyring"), "{again}");
    assert_eq!(server.count("token"), 1, "the second get is a cache hit");

    let status = env.run(&["status"], "");
    status.ok();
    assert!(status.stdout.contains("stored:  keyring"), "{status}");
    assert!(status.stdout.contains("token:   expires in"), "{status}");
    assert!(!status.stdout.contains(&token) && !status.stdout.contains(&refresh));

    let logout = env.run(&["logout", URL], "");
    logout.ok();
    assert!(logout.stderr.contains("logged out"), "{logout}");
    assert_eq!(bus.lookup(&env, &key), None, "{}", bus.search(&env));
    assert_eq!(
        server.count("revoke"),
        2,
        "the access token, then the refresh token"
    );
    let revoke = server.last_request("/revoke").unwrap();
    assert_eq!(revoke.param("token_type_hint"), Some("refresh_token"));
    assert!(!server.is_active(&refresh), "the refresh token is revoked");
    assert!(
        !server.is_active(&token),
        "so is the access token of its grant"
    );
    assert!(env.token_entries().is_empty());
}

#[test]
fn a_token_in_the_file_keeps_working_when_the_keychain_appears_and_moves_there() {
    let server = TestServer::start().unwrap();
    let mut env = Env::new();
    env.client_credentials_config_with_storage(&server, URL, "auto");
    let key = Env::client_credentials_key(&server);
    let nowhere = env.root.join("no-bus");
    env.set_var(
        "DBUS_SESSION_BUS_ADDRESS",
        &format!("unix:path={}", nowhere.display()),
    );
    // Neither a keychain nor a kernel keyring: the file.
    env.no_kernel_keyring = true;
    let old = env.run(&["get"], &git_request(URL));
    let old_token = old.ok().field("password").unwrap();
    assert_eq!(env.token_entries().len(), 1);
    env.no_kernel_keyring = false;

    let Some(bus) = SessionBus::start(&mut env, true) else {
        return;
    };
    let upgraded = env.run(&["-v", "get"], &git_request(URL));
    assert_eq!(
        upgraded.ok().field("password").as_deref(),
        Some(old_token.as_str())
    );
    assert!(upgraded.stderr.contains("served by the file"), "{upgraded}");
    assert_eq!(
        server.count("token"),
        1,
        "nobody is logged out by an upgrade"
    );
    let status = env.run(&["status"], "");
    assert!(status.ok().stdout.contains("stored:  file"), "{status}");

    // The next token is written to the keychain, and the file copy goes.
    env.run(&["login", URL], "").ok();
    let stored = bus
        .lookup(&env, &key)
        .expect("the new token is in the keychain");
    let new_token = parse(&stored)["access_token"].as_str().unwrap().to_string();
    assert_ne!(new_token, old_token);
    assert!(env.token_entries().is_empty(), "{:?}", env.token_files());
    if kernel_keyring_available() {
        assert_eq!(env.kernel_cache_entry(&key), Some(stored.clone()));
        assert_eq!(env.kernel_entry(&key), None, "not a kernel-stored token");
    }

    // git erase names the rejected token; it goes from the keychain.
    let erase =
        format!("protocol=https\nhost=git.example.com\nusername=oauth2\npassword={new_token}\n\n");
    env.run(&["erase"], &erase).ok();
    assert_eq!(bus.lookup(&env, &key), None);
    assert_eq!(env.kernel_cache_entry(&key), None);
}

#[test]
fn logout_removes_a_token_left_in_the_file_while_the_keychain_is_available() {
    let server = TestServer::start().unwrap();
    let mut env = Env::new();
    env.client_credentials_config_with_storage(&server, URL, "file");
    let token = env.run(&["get"], &git_request(URL)).ok().field("password");
    assert_eq!(env.token_entries().len(), 1);
    env.client_credentials_config_with_storage(&server, URL, "auto");
    let Some(_bus) = SessionBus::start(&mut env, true) else {
        return;
    };
    let logout = env.run(&["logout", URL], "");
    assert!(logout.ok().stderr.contains("logged out"), "{logout}");
    assert!(env.token_entries().is_empty());
    assert!(!server.is_active(&token.unwrap()));
}

#[test]
fn without_a_session_bus_or_a_kernel_keyring_auto_uses_the_0600_file_and_keyring_fails_clearly() {
    let server = TestServer::start().unwrap();
    let mut env = Env::new();
    env.no_kernel_keyring = true;
    env.client_credentials_config_with_storage(&server, URL, "auto");
    let nowhere = env.root.join("no-bus");
    env.set_var(
        "DBUS_SESSION_BUS_ADDRESS",
        &format!("unix:path={}", nowhere.display()),
    );
    let started = std::time::Instant::now();
    let out = env.run(&["-v", "get"], &git_request(URL));
    let token = out.ok().field("password").unwrap();
    assert!(out.stderr.contains("storage: file"), "{out}");
    // Known without a connection attempt: the socket is not there.
    assert!(
        out.stderr.contains(&format!(
            "keychain: no session bus ({} does not exist)",
            nowhere.display()
        )),
        "{out}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let entries = env.token_entries();
    assert_eq!(entries.len(), 1, "{:?}", env.token_files());
    assert_eq!(mode(&entries[0]), 0o600);

    // No address at all, and no runtime directory holding a bus either.
    env.unset_var("DBUS_SESSION_BUS_ADDRESS");
    let runtime = env.root.join("empty-runtime");
    std::fs::create_dir_all(&runtime).unwrap();
    env.set_var("XDG_RUNTIME_DIR", runtime.to_str().unwrap());
    let again = env.run(&["get"], &git_request(URL));
    assert_eq!(again.ok().field("password"), Some(token.clone()));
    assert_eq!(server.count("token"), 1);

    env.set_var("CREDENTIAL_OAUTH_STORAGE", "keyring");
    let forced = env.run(&["get"], &git_request(URL));
    forced.fails();
    assert!(
        forced
            .stderr
            .contains("storage = \"keyring\" but no keychain is available"),
        "{forced}"
    );
    assert!(!forced.stderr.contains(&token), "{forced}");
    assert_eq!(forced.stderr.lines().count(), 1, "{forced}");
}

#[test]
fn a_locked_collection_that_would_need_a_prompt_means_the_file() {
    let server = TestServer::start().unwrap();
    let mut env = Env::new();
    env.client_credentials_config_with_storage(&server, URL, "auto");
    let Some(bus) = SessionBus::start(&mut env, true) else {
        return;
    };
    // A token from before the lock: reading it would need an unlock. (Not
    // cached in the kernel, which would serve it without asking the keychain.)
    env.no_kernel_keyring = true;
    let before = env.run(&["get"], &git_request(URL));
    let old_token = before.ok().field("password").unwrap();
    bus.lock(&env);

    let started = std::time::Instant::now();
    let out = env.run(&["-v", "get"], &git_request(URL));
    let token = out.ok().field("password").unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(out.stderr.contains("using the file from now on"), "{out}");
    assert!(!out.stderr.contains(&old_token) && !out.stderr.contains(&token));
    assert_eq!(env.token_entries().len(), 1, "{out}");
    assert_eq!(
        server.count("token"),
        2,
        "the locked token could not be read"
    );
    let again = env.run(&["get"], &git_request(URL));
    assert_eq!(again.ok().field("password"), Some(token));
    assert_eq!(server.count("token"), 2, "now served by the file");
}

#[test]
fn a_session_bus_without_a_secret_service_means_the_kernel_keyring_else_the_file() {
    let server = TestServer::start().unwrap();
    let mut env = Env::new();
    env.client_credentials_config_with_storage(&server, URL, "auto");
    let key = Env::client_credentials_key(&server);
    let Some(_bus) = SessionBus::start(&mut env, false) else {
        return;
    };
    if kernel_keyring_available() {
        let out = env.run(&["-v", "get"], &git_request(URL));
        let token = out.ok().field("password").unwrap();
        assert!(out.stderr.contains("no keychain"), "{out}");
        assert!(out.stderr.contains("storage: kernel"), "{out}");
        let stored = env
            .kernel_entry(&key)
            .expect("the token in the kernel keyring");
        assert_eq!(parse(&stored)["access_token"], token.as_str());
        assert!(env.token_entries().is_empty(), "{:?}", env.token_files());
        env.run(&["logout", URL], "").ok();
        assert_eq!(env.kernel_entry(&key), None);
    }

    env.no_kernel_keyring = true;
    let out = env.run(&["-v", "get"], &git_request(URL));
    out.ok();
    assert!(out.stderr.contains("no keychain"), "{out}");
    assert!(out.stderr.contains("storage: file"), "{out}");
    assert_eq!(env.token_entries().len(), 1, "{out}");
}

#[test]
fn a_secret_service_that_hangs_costs_a_bounded_wait_then_the_file() {
    let server = TestServer::start().unwrap();
    let mut env = Env::new();
    env.no_kernel_keyring = true;
    env.client_credentials_config_with_storage(&server, URL, "auto");
    let Some(_bus) = SessionBus::start_hanging(&mut env) else {
        return;
    };
    let started = std::time::Instant::now();
    let out = env.run(&["-v", "get"], &git_request(URL));
    let elapsed = started.elapsed();
    out.ok();
    assert!(out.stderr.contains("no answer within 1.5 s"), "{out}");
    assert!(
        elapsed < std::time::Duration::from_secs(10),
        "{elapsed:?} is far beyond the 1.5 s bound\n{out}"
    );
    assert_eq!(env.token_entries().len(), 1, "{out}");
}
