//! pip and uv with `--keyring-provider subprocess`: the real installers
//! fetch a wheel from a private index that accepts only a live token, asking
//! the binary linked as `keyring` first on PATH; and the keyring command
//! line's edges through the binary itself.

use crate::support::package_index::{PROJECT, PackageIndex, wheel_name};
use crate::support::python_tools;
use crate::support::*;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

/// A browser that would log in if it ran, and leaves a mark when it does.
const FOLLOW: &str = r#"echo run >> "$DIR/browser-runs"
curl -sS -L -o /dev/null "$1""#;

/// An index behind the test server, a client-credentials provider for its
/// URL, and the binary linked as `keyring` in a directory first on PATH.
fn setup() -> (Arc<TestServer>, PackageIndex, Env) {
    let server = Arc::new(TestServer::start().unwrap());
    let index = PackageIndex::start(Arc::clone(&server));
    let mut env = Env::new();
    env.client_credentials_config(&server, &index.index_url());
    env.link_as("keyring");
    let path = env.path_with_bin_dir();
    env.set_var("PATH", path.to_str().unwrap());
    (server, index, env)
}

/// `program args…` with the test's HOME and PATH, and neither the
/// person's pip or uv configuration nor their caches.
fn installer(env: &Env, program: &Path, args: &[&str]) -> Output {
    let mut cmd: Command = env.command(program);
    cmd.args(args)
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("UV_NO_CONFIG", "1")
        .env("UV_CACHE_DIR", env.root.join("uv-cache"))
        .env("UV_PYTHON_DOWNLOADS", "never");
    run_command(cmd, b"")
}

/// `pip download` of the index's one project into `dest`, without
/// prompting: only the keyring can answer the 401.
fn pip_download(env: &Env, python: &Path, index_url: &str, dest: &Path) -> Output {
    pip_download_with(env, python, index_url, dest, &[])
}

/// [`pip_download`] with more of pip's options (`--cert`).
fn pip_download_with(
    env: &Env,
    python: &Path,
    index_url: &str,
    dest: &Path,
    extra: &[&str],
) -> Output {
    let mut args = vec![
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--no-cache-dir",
        "--no-input",
        "--keyring-provider",
        "subprocess",
        "--index-url",
        index_url,
        "--dest",
        dest.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    args.push(PROJECT);
    installer(env, python, &args)
}

fn the_token(env: &Env) -> String {
    env.only_token_entry()["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// What every real fetch proves: the wheel arrived, every granted request
/// carried `user`, one token served the whole run, and nobody printed it.
fn assert_fetched(server: &TestServer, index: &PackageIndex, env: &Env, out: &Output, user: &str) {
    out.ok();
    assert!(index.granted() >= 2 && index.downloads() == 1, "{out}");
    assert!(
        index.usernames().iter().all(|u| u == user),
        "{:?}",
        index.usernames()
    );
    assert_eq!(
        server.count("token"),
        1,
        "one token for the whole run\n{out}"
    );
    let token = the_token(env);
    assert!(
        !out.stdout.contains(&token) && !out.stderr.contains(&token),
        "the token was printed\n{out}"
    );
}

#[test]
fn the_machines_pip_asks_keyring_get_service_username_and_fetches_the_wheel() {
    if require_tools(&["python3"]).is_none() {
        return;
    }
    let (server, index, env) = setup();
    let dest = env.root.join("dl");
    // pip ≤ 26.1 asks a keyring only for a user name it knows: the URL's.
    let out = pip_download(
        &env,
        Path::new("python3"),
        &index.index_url_as("oauth2"),
        &dest,
    );
    assert_fetched(&server, &index, &env, &out, "oauth2");
    assert!(dest.join(wheel_name()).is_file(), "{out}");
}

#[test]
fn a_recent_pip_asks_in_creds_mode_with_json_and_needs_no_user_name() {
    let Some(python) = python_tools::recent_pip_python() else {
        return;
    };
    let (server, index, env) = setup();
    let dest = env.root.join("dl");
    let out = pip_download(&env, &python, &index.index_url(), &dest);
    // The user name came from the helper: the provider's.
    assert_fetched(&server, &index, &env, &out, "oauth2");
    assert!(index.refused() >= 1, "pip asks after the 401\n{out}");
    assert!(dest.join(wheel_name()).is_file(), "{out}");
}

/// `uv pip install --target` of the index's one project.
fn uv_install(env: &Env, uv: &Path, index_url: &str, target: &Path, extra: &[&str]) -> Output {
    let python = find_on_path("python3").expect("python3 on PATH");
    let mut args = vec![
        "pip",
        "install",
        "--no-deps",
        "--python",
        python.to_str().unwrap(),
        "--index-url",
        index_url,
        "--target",
        target.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    args.push(PROJECT);
    installer(env, uv, &args)
}

#[test]
fn uv_installs_from_the_private_index_through_the_keyring_link() {
    let Some(uv) = python_tools::uv() else { return };
    if require_tools(&["python3"]).is_none() {
        return;
    }
    let (server, index, mut env) = setup();
    env.set_var("UV_KEYRING_PROVIDER", "subprocess");
    let target = env.root.join("site");
    let out = uv_install(&env, &uv, &index.index_url_as("oauth2"), &target, &[]);
    assert_fetched(&server, &index, &env, &out, "oauth2");
    assert!(target.join(PROJECT).join("__init__.py").is_file(), "{out}");
}

#[test]
fn uv_without_a_user_name_asks_in_creds_mode_where_the_index_always_authenticates() {
    let Some(uv) = python_tools::uv() else { return };
    if require_tools(&["python3"]).is_none() {
        return;
    }
    let (server, index, env) = setup();
    let config = env.root.join("uv.toml");
    std::fs::write(
        &config,
        format!(
            "keyring-provider = \"subprocess\"\n\n[[index]]\nname = \"corp\"\nurl = \"{}\"\n\
             default = true\nauthenticate = \"always\"\n",
            index.index_url()
        ),
    )
    .unwrap();
    let target = env.root.join("site");
    let python = find_on_path("python3").expect("python3 on PATH");
    let mut cmd = env.command(&uv);
    cmd.args(["pip", "install", "--no-deps", "--config-file"])
        .arg(&config)
        .args(["--python"])
        .arg(&python)
        .arg("--target")
        .arg(&target)
        .arg(PROJECT)
        .env("UV_CACHE_DIR", env.root.join("uv-cache"))
        .env("UV_PYTHON_DOWNLOADS", "never");
    let out = run_command(cmd, b"");
    // Asked before the first request, without a user name: the one that
    // came back is the provider's, from `--mode creds`.
    assert_fetched(&server, &index, &env, &out, "oauth2");
    assert_eq!(index.refused(), 0, "{out}");
    assert!(target.join(PROJECT).join("__init__.py").is_file(), "{out}");
}

/// The positive control of the test above: the same index over https,
/// under an https provider for it, serves the real pip through the
/// index URL (the form every pip and uv asks first).
#[test]
fn pip_fetches_from_the_https_index_its_https_provider_covers() {
    let Some(python) = python_tools::recent_pip_python() else {
        return;
    };
    if require_tools(&["openssl"]).is_none() {
        return;
    }
    let server = Arc::new(TestServer::start().unwrap());
    let index = PackageIndex::start(Arc::clone(&server));
    let mut env = Env::new();
    let (front, ca) = index.https_front(&env.root.join("pki"));
    let url = format!("{}/simple/", front.origin());
    env.client_credentials_config(&server, &url);
    env.link_as("keyring");
    let path = env.path_with_bin_dir();
    env.set_var("PATH", path.to_str().unwrap());
    let dest = env.root.join("dl");
    let cert = ca.to_str().unwrap();
    let out = pip_download_with(&env, &python, &url, &dest, &["--cert", cert]);
    assert_fetched(&server, &index, &env, &out, "oauth2");
    assert!(dest.join(wheel_name()).is_file(), "{out}");
}

fn keyring(env: &Env, args: &[&str], stdin: &str) -> Output {
    env.run_as("keyring", args, stdin)
}

#[test]
fn get_answers_in_each_format_for_the_index_url_and_nothing_for_the_bare_host() {
    let (server, index, env) = setup();
    let url = index.index_url();
    let plain = keyring(&env, &["get", &url, "oauth2"], "");
    plain.ok();
    let token = the_token(&env);
    assert!(server.is_active(&token));
    assert_eq!(plain.stdout, format!("{token}\n"), "{plain}");
    assert_eq!(plain.stderr, "", "{plain}");
    // pip ≥ 26.2's form.
    let json = keyring(&env, &["--mode=creds", "--output=json", "get", &url], "");
    assert_eq!(
        json.ok().stdout,
        format!("{{\"username\":\"oauth2\",\"password\":\"{token}\"}}\n")
    );
    // The request URL under the index, as uv names it first.
    let page = format!("{url}{PROJECT}/");
    assert_eq!(
        keyring(&env, &["get", &page, "oauth2"], "").ok().stdout,
        format!("{token}\n")
    );
    // The bare host names neither scheme nor path: nothing, even with a
    // token cached for the index on that host (DESIGN.md "Trust").
    for args in [
        &["get", &index.host(), "--mode", "creds"][..],
        &["get", &index.host(), "oauth2"],
    ] {
        let out = keyring(&env, args, "");
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (Some(1), "", ""),
            "{out}"
        );
    }
    assert_eq!(
        server.count("token"),
        1,
        "every answer from one cached token"
    );
}

/// pip asks `keyring get <index URL>` and then the bare `host:port`. An
/// index reached over http must not get the token of an https provider on
/// that host, nor an index on another path that of a provider scoped to
/// its own path: the real pip, and what the index (the attacker's place)
/// received.
#[test]
fn pip_gives_no_token_to_an_http_index_or_another_path_through_the_bare_host() {
    let Some(python) = python_tools::recent_pip_python() else {
        return;
    };
    let server = Arc::new(TestServer::start().unwrap());
    let index = PackageIndex::start(Arc::clone(&server));
    let port = index.host().rsplit_once(':').unwrap().1.to_string();
    for (n, provider_url) in [
        // The same host and port over https: the http index is not it.
        format!("https://127.0.0.1:{port}/simple/"),
        // The same scheme and host, another path.
        format!("http://127.0.0.1:{port}/org/simple/"),
    ]
    .iter()
    .enumerate()
    {
        let mut env = Env::new();
        env.client_credentials_config(&server, provider_url);
        env.link_as("keyring");
        let path = env.path_with_bin_dir();
        env.set_var("PATH", path.to_str().unwrap());
        let dest = env.root.join(format!("dl{n}"));
        let out = pip_download(&env, &python, &index.index_url(), &dest);
        out.fails();
        assert!(index.refused() >= 1, "pip asked the index\n{out}");
        assert_eq!(index.granted(), 0, "a token reached the index\n{out}");
        assert_eq!(
            server.count("token"),
            0,
            "no token was even obtained\n{out}"
        );
        assert!(!dest.join(wheel_name()).exists(), "{out}");
    }
}

#[test]
fn a_user_name_names_its_own_account_and_comes_back_as_given() {
    let (server, index, env) = setup();
    let url = index.index_url();
    let default = keyring(&env, &["get", &url, "oauth2"], "");
    let alice = keyring(&env, &["--mode", "creds", "get", &url, "alice"], "");
    let (default, alice) = (default.ok().stdout.clone(), alice.ok().stdout.clone());
    let (user, token) = alice.trim_end().split_once('\n').unwrap();
    assert_eq!(user, "alice");
    assert_ne!(token, default.trim_end(), "alice has a token of her own");
    assert_eq!(server.count("token"), 2);
}

#[test]
fn a_service_no_provider_serves_exits_1_with_nothing_on_stdout_or_stderr() {
    let (server, _index, env) = setup();
    for args in [
        &["get", "https://pypi.example/simple/", "oauth2"][..],
        &["--mode=creds", "--output=json", "get", "pypi.example"],
        &["get", "pypi.example:8443", "--mode", "creds"],
        &["get", "ftp://127.0.0.1/simple/", "oauth2"],
        &["del", "pypi.example", "oauth2"],
    ] {
        let out = keyring(&env, args, "");
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (Some(1), "", ""),
            "{out}"
        );
    }
    assert_eq!(server.count("token"), 0);
}

#[test]
fn set_keeps_nothing_and_del_logs_out() {
    let (server, index, env) = setup();
    let url = index.index_url();
    keyring(&env, &["get", &url, "oauth2"], "").ok();
    let before = std::fs::read_to_string(&env.token_entries()[0]).unwrap();
    // pip's `set` after a prompted password: accepted, kept nowhere.
    let out = keyring(&env, &["set", &url, "oauth2"], "typed-password\n");
    assert_eq!((out.code, out.stdout.as_str()), (Some(0), ""), "{out}");
    assert_eq!(
        std::fs::read_to_string(&env.token_entries()[0]).unwrap(),
        before
    );
    assert!(!std::fs::read_dir(env.tokens_dir()).unwrap().any(|e| {
        std::fs::read_to_string(e.unwrap().path()).is_ok_and(|t| t.contains("typed-password"))
    }));
    // Not a provider's: refused, in one line.
    let out = keyring(&env, &["set", "pypi.example", "me"], "typed-password\n");
    assert_eq!(out.code, Some(1), "{out}");
    assert_eq!(out.stderr.lines().count(), 1, "{out}");
    assert!(
        out.stderr.contains("pypi.example") && !out.stderr.contains("typed-password"),
        "{out}"
    );
    // `del`: credential-oauth logout for the service.
    let token = the_token(&env);
    let out = keyring(&env, &["del", &url, "oauth2"], "");
    out.ok();
    assert!(out.stderr.contains("logged out"), "{out}");
    assert!(env.token_entries().iter().all(|p| {
        !std::fs::read_to_string(p)
            .unwrap_or_default()
            .contains(&token)
    }));
    assert_eq!(server.count("token"), 1);
}

#[test]
fn a_malformed_command_line_is_one_line_and_status_2() {
    let (_server, _index, env) = setup();
    for args in [
        &[][..],
        &["frob", "h"],
        &["get"],
        &["--mode"],
        &["-p", "x", "get", "h"],
    ] {
        let out = keyring(&env, args, "");
        assert_eq!(out.code, Some(2), "{out}");
        assert_eq!(out.stdout, "", "{out}");
        assert_eq!(out.stderr.lines().count(), 1, "{out}");
        assert!(
            out.stderr.starts_with("credential-oauth: keyring: "),
            "{out}"
        );
    }
    let help = keyring(&env, &["--help"], "");
    assert!(help.ok().stdout.starts_with("usage: keyring "), "{help}");
}

/// An interactive provider for the index, as a person would have it.
fn interactive_setup() -> (Arc<TestServer>, PackageIndex, Env) {
    let (server, index, env) = setup();
    server.add_client("app", None);
    env.write_config(&interactive_provider(
        &server,
        &index.index_url(),
        "client_id = \"app\"\nscopes = [\"read\"]\n",
    ));
    (server, index, env)
}

#[test]
fn without_a_browser_nobody_is_asked_and_the_line_names_the_login() {
    let (server, index, env) = interactive_setup();
    let out = keyring(
        &env,
        &["--mode=creds", "--output=json", "get", &index.index_url()],
        "",
    );
    assert_eq!((out.code, out.stdout.as_str()), (Some(1), ""), "{out}");
    let hint = format!(
        "credential-oauth: corp: no cached token and nobody to ask here; run: credential-oauth login {}\n",
        index.index_url()
    );
    assert_eq!(out.stderr, hint, "{out}");
    assert_eq!(
        server.count("authorize") + server.count("device_authorization"),
        0
    );
}

#[test]
fn where_a_browser_can_open_the_keyring_logs_in_there() {
    let (server, index, mut env) = interactive_setup();
    env.browser(FOLLOW);
    let out = keyring(&env, &["get", &index.index_url(), "oauth2"], "");
    out.ok();
    assert_eq!(env.lines_of("browser-runs"), ["run"]);
    let token = out.stdout.trim_end();
    assert!(server.is_active(token), "{out}");
    assert!(!out.stderr.contains(token), "{out}");
}
