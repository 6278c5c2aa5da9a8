//! Tokens in the Linux kernel keyring: `storage = "kernel"` (the persistent
//! keyring), `auto` choosing it where no keychain answers, and the cache in
//! front of the Secret Service. The real kernel, no daemon; where the
//! kernel offers no persistent keyring the tests say "skipped" (never
//! under CI).

use crate::support::*;

const URL: &str = "https://git.example.com/";

fn parse(secret: &str) -> serde_json::Value {
    serde_json::from_str(secret).expect("the kernel keeps the token JSON")
}

/// A server whose tokens are served until their last minute (so the next
/// call renews them with the refresh token it hands out), and an Env whose
/// provider for it keeps tokens in `storage`, with that token's cache key.
fn renewing(storage: &str) -> (TestServer, Env, String) {
    let server = TestServer::start().unwrap();
    server.set_client_credentials_refresh(true);
    server.set_token_lifetime(Some(30));
    let env = Env::new();
    env.client_credentials_config_with_storage(&server, URL, storage);
    let key = Env::client_credentials_key(&server);
    (server, env, key)
}

/// No file in the token directory holds `secret` (lock files may exist).
fn not_on_disk(env: &Env, secret: &str) {
    for path in env.token_files() {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(!text.contains(secret), "{} holds the token", path.display());
    }
}

#[test]
fn storage_kernel_keeps_tokens_in_the_persistent_keyring_and_never_on_disk() {
    if !kernel_keyring_available() {
        return;
    }
    let (server, env, key) = renewing("kernel");

    let first = env.run(&["-v", "get"], &git_request(URL));
    let token = first.ok().field("password").unwrap();
    assert!(first.stderr.contains("storage: kernel"), "{first}");
    let stored = parse(&env.kernel_entry(&key).expect("the entry"));
    assert_eq!(stored["access_token"], token.as_str());
    let refresh = stored["refresh_token"].as_str().unwrap().to_string();
    assert!(env.token_entries().is_empty(), "{:?}", env.token_files());
    not_on_disk(&env, &token);
    not_on_disk(&env, &refresh);
    assert_eq!(
        env.kernel_cache_entry(&key),
        None,
        "no cache for the kernel itself"
    );

    // Another process of the same user (in a session of its own) reads the
    // entry: its refresh token renews the token, which replaces the entry.
    server.set_token_lifetime(Some(3600));
    let renewed = env.run_detached(&["get"], &git_request(URL));
    let new_token = renewed.ok().field("password").unwrap();
    assert_ne!(new_token, token);
    assert_eq!(server.count("refresh_token"), 1, "{renewed}");
    assert_eq!(server.count("client_credentials"), 1);
    assert_eq!(
        parse(&env.kernel_entry(&key).unwrap())["access_token"],
        new_token.as_str()
    );
    let warm = env.run(&["token", URL], "");
    assert_eq!(warm.ok().stdout.trim(), new_token);
    assert_eq!(
        server.count("token"),
        2,
        "the second token served from the kernel"
    );

    let status = env.run(&["status"], "");
    assert!(status.ok().stdout.contains("stored:  kernel"), "{status}");
    let doctor = env.run(&["doctor"], "");
    assert!(
        doctor
            .stdout
            .contains("storage: the kernel's persistent keyring (never on disk; gone at reboot"),
        "{doctor}"
    );

    let logout = env.run(&["logout", URL], "");
    assert!(logout.ok().stderr.contains("logged out"), "{logout}");
    assert_eq!(env.kernel_entry(&key), None);
    assert!(env.kernel_keys().is_empty(), "{:?}", env.kernel_keys());
    assert!(!server.is_active(&new_token));
}

#[test]
fn auto_without_a_keychain_moves_a_file_token_into_the_kernel_keyring() {
    if !kernel_keyring_available() {
        return;
    }
    let (server, env, key) = renewing("file");
    let old = env.run(&["get"], &git_request(URL)).ok().field("password");
    assert_eq!(env.token_entries().len(), 1);

    // An upgrade logs nobody out: the file's token is still served.
    env.client_credentials_config_with_storage(&server, URL, "auto");
    let upgraded = env.run(&["-v", "status"], "");
    assert!(upgraded.ok().stdout.contains("stored:  file"), "{upgraded}");

    // Its renewal goes to the kernel, and the file copy goes.
    server.set_token_lifetime(Some(3600));
    let renewed = env.run(&["get"], &git_request(URL));
    let token = renewed.ok().field("password").unwrap();
    assert_ne!(Some(token.clone()), old);
    assert_eq!(
        parse(&env.kernel_entry(&key).expect("moved"))["access_token"],
        token.as_str()
    );
    assert!(env.token_entries().is_empty(), "{:?}", env.token_files());
}

#[test]
fn where_the_kernel_refuses_keyrings_kernel_fails_clearly_and_auto_uses_the_file() {
    let server = TestServer::start().unwrap();
    let mut env = Env::new();
    env.no_kernel_keyring = true;
    env.client_credentials_config_with_storage(&server, URL, "kernel");
    let out = env.run(&["get"], &git_request(URL));
    out.fails();
    assert!(
        out.stderr
            .contains("storage = \"kernel\" but kernel keyring: no persistent keyring"),
        "{out}"
    );
    assert!(out.stderr.contains("not allowed here"), "{out}");
    assert_eq!(out.stderr.lines().count(), 1, "{out}");
    assert_eq!(out.stdout, "");
    assert!(env.token_entries().is_empty(), "{:?}", env.token_files());

    let doctor = env.run(&["doctor"], "");
    doctor.fails();
    assert!(
        doctor
            .stdout
            .contains("storage = \"kernel\" but there is no kernel keyring"),
        "{doctor}"
    );

    env.client_credentials_config_with_storage(&server, URL, "auto");
    let out = env.run(&["-v", "get"], &git_request(URL));
    out.ok();
    assert!(out.stderr.contains("storage: file"), "{out}");
    let entries = env.token_entries();
    assert_eq!(entries.len(), 1, "{out}");
    assert_eq!(mode(&entries[0]), 0o600);
}

#[test]
fn twenty_parallel_gets_after_expiry_refresh_once_in_the_kernel_keyring() {
    if !kernel_keyring_available() {
        return;
    }
    let (server, env, _) = renewing("kernel");
    env.run(&["get"], &git_request(URL)).ok();
    server.set_token_lifetime(Some(3600));
    let outs: Vec<Output> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..20)
            .map(|_| s.spawn(|| env.run(&["get"], &git_request(URL))))
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let first = outs[0].field("password").unwrap();
    for o in &outs {
        assert_eq!(o.ok().field("password").as_ref(), Some(&first), "{o}");
    }
    assert!(server.is_active(&first));
    assert_eq!(server.count("refresh_token"), 1);
}

#[test]
fn a_warm_keychain_get_is_served_by_the_kernel_cache_without_the_bus() {
    if !kernel_keyring_available() {
        return;
    }
    let server = TestServer::start().unwrap();
    let mut env = Env::new();
    env.client_credentials_config_with_storage(&server, URL, "auto");
    let key = Env::client_credentials_key(&server);
    let Some(bus) = SessionBus::start(&mut env, true) else {
        return;
    };
    let first = env.run(&["get"], &git_request(URL));
    let token = first.ok().field("password").unwrap();
    let stored = bus.lookup(&env, &key).expect("in the keychain");
    assert_eq!(env.kernel_cache_entry(&key), Some(stored));
    not_on_disk(&env, &token);

    // The bus and the Secret Service gone: a warm get needs neither.
    drop(bus);
    let warm = env.run(&["-v", "get"], &git_request(URL));
    assert_eq!(warm.ok().field("password"), Some(token.clone()));
    assert!(
        warm.stderr.contains("served by the keyring's kernel cache"),
        "{warm}"
    );
    assert!(!warm.stderr.contains("no keychain"), "{warm}");
    assert_eq!(server.count("token"), 1);

    // git's erase of the rejected token reaches the cache even with no
    // keychain to remove it from.
    let erase =
        format!("protocol=https\nhost=git.example.com\nusername=oauth2\npassword={token}\n\n");
    env.run(&["erase"], &erase);
    assert_eq!(env.kernel_cache_entry(&key), None);
}

#[test]
fn the_kernel_cache_is_kept_only_in_front_of_the_keychain() {
    if !kernel_keyring_available() {
        return;
    }
    let server = TestServer::start().unwrap();
    let env = Env::new();
    env.client_credentials_config_with_storage(&server, URL, "file");
    env.run(&["get"], &git_request(URL)).ok();
    env.client_credentials_config_with_storage(&server, URL, "auto");
    env.run(&["get"], &git_request(URL)).ok();
    let key = Env::client_credentials_key(&server);
    assert_eq!(env.kernel_cache_entry(&key), None);
    assert_eq!(env.kernel_keys(), Vec::<String>::new());
}

#[test]
fn logout_under_one_cache_directory_ends_the_kernel_copy_another_one_serves() {
    if !kernel_keyring_available() {
        return;
    }
    let server = TestServer::start().unwrap();
    let mut env = Env::new();
    env.client_credentials_config_with_storage(&server, URL, "auto");
    let key = Env::client_credentials_key(&server);
    let Some(bus) = SessionBus::start(&mut env, true) else {
        return;
    };
    // Two processes of one user on one keychain, each with a cache
    // directory of its own: an IDE or a systemd unit (B) and a shell (A).
    let b = env.root.join("b").display().to_string();
    let a = env.root.join("a").display().to_string();

    env.set_var("XDG_CACHE_HOME", &b);
    let token = env.run(&["get"], &git_request(URL)).ok().field("password");
    let token = token.unwrap();
    let warm = env.run(&["-v", "get"], &git_request(URL));
    assert_eq!(warm.ok().field("password"), Some(token.clone()));
    assert!(
        warm.stderr.contains("served by the keyring's kernel cache"),
        "{warm}"
    );
    let stored = bus.lookup(&env, &key).expect("in the keychain");
    assert_eq!(env.kernel_cache_entry(&key), Some(stored.clone()));
    // The copy a version that kept one per token directory left for B.
    let b_tokens = env.root.join("b/credential-oauth/tokens");
    let old_copy = env.plant_per_directory_cache_entry(&b_tokens, &key, &stored);

    env.set_var("XDG_CACHE_HOME", &a);
    let logout = env.run(&["logout", URL], "");
    assert!(logout.ok().stderr.contains("logged out"), "{logout}");
    assert_eq!(bus.lookup(&env, &key), None);
    assert!(!server.is_active(&token));
    assert_eq!(env.kernel_cache_entry(&key), None, "{logout}");
    assert_eq!(env.user_keyring_entry(&old_copy), None, "{logout}");

    // B's next get finds nothing cached and asks the server again.
    env.set_var("XDG_CACHE_HOME", &b);
    let after = env.run(&["-v", "get"], &git_request(URL));
    let fresh = after.ok().field("password").unwrap();
    assert_ne!(fresh, token, "B still serves the logged-out token\n{after}");
    assert!(
        !after
            .stderr
            .contains("served by the keyring's kernel cache"),
        "{after}"
    );
    assert!(server.is_active(&fresh));
    assert_eq!(server.count("client_credentials"), 2, "{after}");
}

/// A cache directory someone deleted leaves its kernel-keyring entries
/// behind (tokens nobody reaches through the helper, held until reboot):
/// doctor names the directory, and `logout --all` removes them. The
/// entries of the directory a process uses itself are its own, on disk or
/// not.
#[test]
fn entries_of_a_deleted_cache_directory_are_reported_and_removed() {
    if !kernel_keyring_available() {
        return;
    }
    let (_server, mut env, key) = renewing("kernel");
    let key = key.as_str();
    let old_cache = env.home.join("old-cache");
    env.set_var("XDG_CACHE_HOME", old_cache.to_str().unwrap());
    env.run(&["get"], &git_request(URL)).ok();
    let old_tokens = old_cache.join("credential-oauth/tokens");
    let old_entry = format!("credential-oauth:{}:{key}", old_tokens.display());
    assert!(env.persistent_keyring_entry(&old_entry).is_some());
    std::fs::remove_dir_all(&old_cache).unwrap();
    // Its own process still reaches it: no orphan for that one.
    let doctor = env.run(&["doctor"], "");
    assert!(!doctor.stdout.contains("no longer exist"), "{doctor}");

    // Another cache directory: the old one's entry is an orphan.
    env.unset_var("XDG_CACHE_HOME");
    let doctor = env.run(&["doctor"], "");
    assert!(
        doctor
            .stdout
            .contains("cache directories that no longer exist")
            && doctor.stdout.contains(&old_tokens.display().to_string()),
        "{doctor}"
    );
    let out = env.run(&["logout", "--all"], "");
    out.ok();
    assert!(
        out.stderr.contains("removed 1 kernel keyring entry"),
        "{out}"
    );
    assert_eq!(env.persistent_keyring_entry(&old_entry), None, "{out}");
    let doctor = env.run(&["doctor"], "");
    assert!(
        !doctor.stdout.contains(&old_tokens.display().to_string()),
        "{doctor}"
    );
}
