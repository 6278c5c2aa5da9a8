//! Step-up authentication (RFC 9470): a server whose challenge says
//! `insufficient_user_authentication` with `acr_values` and `max_age`
//! gets a login that asks for them, and then the token obtained with them
//! from the cache while `max_age` allows. Real git, a git server that
//! wants the acr, and the test server's simulated login.

use crate::support::git_server::{GitServer, Settings, StepUp};
use crate::support::*;
use std::path::Path;
use std::sync::Arc;

/// A browser that follows the authorization URL to the loopback
/// listener, counting its runs.
const FOLLOW: &str = r#"echo run >> "$DIR/browser-runs"
curl -sS -L -o /dev/null "$1""#;

struct Forge {
    auth: Arc<TestServer>,
    git: GitServer,
    env: Env,
}

impl Forge {
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.git.port)
    }

    fn clone(&self, into: &str) -> Output {
        git(
            &self.env,
            &self.env.root,
            &["clone", "-q", &self.git.url("repo.git"), into],
        )
    }

    fn browser_runs(&self) -> usize {
        self.env.lines_of("browser-runs").len()
    }

    /// What the last authorization request asked for.
    fn asked(&self, name: &str) -> Option<String> {
        self.auth
            .last_request("/authorize")?
            .query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }
}

fn git(env: &Env, dir: &Path, args: &[&str]) -> Output {
    let mut cmd = env.command("git");
    cmd.current_dir(dir).args(args);
    run_command(cmd, b"")
}

/// A git server whose repositories want a login with `acr` no older than
/// `max_age`, an authorization server that refuses `acr_values` without
/// `openid` (which the provider's scopes lack), and a HOME whose git uses
/// the helper with a browser that logs in.
fn forge(acr: &str, max_age: Option<i64>) -> Forge {
    let auth = Arc::new(TestServer::start().unwrap());
    auth.add_client("app", None);
    auth.set_acr_needs_openid(true);
    let mut env = Env::new();
    for (k, v) in [
        ("GIT_CONFIG_NOSYSTEM", "1"),
        ("GIT_AUTHOR_NAME", "T"),
        ("GIT_AUTHOR_EMAIL", "t@example.com"),
        ("GIT_COMMITTER_NAME", "T"),
        ("GIT_COMMITTER_EMAIL", "t@example.com"),
    ] {
        env.var(k, v);
    }
    env.browser(FOLLOW);
    let seed = env.root.join("seed");
    std::fs::create_dir_all(env.root.join("srv")).unwrap();
    git(&env, &env.root, &["init", "-q", "-b", "main", "seed"]).ok();
    std::fs::write(seed.join("README"), "hello\n").unwrap();
    git(&env, &seed, &["add", "README"]).ok();
    git(&env, &seed, &["commit", "-q", "-m", "first"]).ok();
    git(
        &env,
        &env.root,
        &["clone", "-q", "--bare", "seed", "srv/repo.git"],
    )
    .ok();
    let checker = auth.token_checker();
    let valid = {
        let checker = checker.clone();
        Arc::new(move |t: &str| checker.is_access_token(t))
    };
    let git_server = GitServer::start(
        &env.root.join("srv"),
        valid,
        Settings {
            step_up: Some(StepUp {
                acr: acr.to_string(),
                max_age,
                authentication: Arc::new(move |t: &str| checker.authentication(t)),
            }),
            ..Settings::default()
        },
    );
    env.write_config(&interactive_provider(
        &auth,
        &format!("http://127.0.0.1:{}/", git_server.port),
        "client_id = \"app\"\nscopes = [\"read\"]\n",
    ));
    git(
        &env,
        &env.root,
        &["config", "--global", "credential.helper", BIN],
    )
    .ok();
    Forge {
        auth,
        git: git_server,
        env,
    }
}

/// A git request for the forge's repository carrying the step-up
/// challenge git got.
fn stepped_up_request(f: &Forge, challenge: &str) -> String {
    format!(
        "protocol=http\nhost=127.0.0.1:{}\npath=repo.git\ncapability[]=authtype\n\
         wwwauth[]={challenge}\n\n",
        f.git.port
    )
}

#[test]
fn a_clone_that_meets_a_step_up_logs_in_once_with_the_acr_and_a_second_clone_needs_no_login() {
    let mut f = forge("phr", Some(600));
    f.env.var("CREDENTIAL_OAUTH_LOG", "debug");
    let first = f.clone("work");
    first.ok();
    assert!(
        first.stderr.contains("asking for the openid scope too"),
        "-v says why the scope grew\n{first}"
    );
    assert_eq!(
        std::fs::read_to_string(f.env.root.join("work/README")).unwrap(),
        "hello\n"
    );
    assert_eq!(f.browser_runs(), 1, "{first}");
    assert_eq!(f.asked("acr_values").as_deref(), Some("phr"));
    assert_eq!(f.asked("max_age").as_deref(), Some("600"));
    // The server refuses acr_values without openid: the helper added it.
    let scope = f.asked("scope").unwrap();
    assert!(scope.split(' ').any(|s| s == "openid"), "{scope}");
    let entry = f.env.only_token_entry();
    assert_eq!(entry["acr"], "phr");
    assert!(entry["auth_time"].as_u64().is_some(), "{entry}");

    let status = f.env.run(&["status"], "");
    assert!(status.stdout.contains("login acr phr"), "{status}");

    let second = f.clone("work2");
    second.ok();
    assert_eq!(f.browser_runs(), 1, "no second login\n{second}");
    assert_eq!(f.auth.count("authorize"), 1);
    let tokens = f.git.tokens();
    assert!(tokens.len() >= 2 && tokens.iter().all(|t| *t == tokens[0]));
}

#[test]
fn a_cached_token_without_the_acr_is_replaced_by_a_login_that_asks_for_it() {
    let f = forge("phr", None);
    let url = f.url();
    f.env.run(&["login", &url], "").ok();
    assert_eq!(f.asked("acr_values"), None);
    let plain = f.env.only_token_entry();
    assert_eq!(plain["acr"], serde_json::Value::Null);

    // git presents nothing first; the server's challenge asks for phr,
    // which the cached token was not obtained with.
    f.clone("work").ok();
    assert_eq!(f.browser_runs(), 2);
    assert_eq!(f.asked("acr_values").as_deref(), Some("phr"));
    assert_ne!(
        f.env.only_token_entry()["access_token"],
        plain["access_token"]
    );
    assert_eq!(
        f.auth.count("authenticate"),
        2,
        "the person authenticated again"
    );
}

#[test]
fn once_max_age_has_passed_the_next_clone_logs_in_again() {
    let f = forge("phr", Some(1));
    f.clone("work").ok();
    assert_eq!(f.browser_runs(), 1);
    std::thread::sleep(std::time::Duration::from_millis(2200));
    let again = f.clone("work2");
    again.ok();
    assert_eq!(f.browser_runs(), 2, "{again}");
    assert_eq!(f.asked("max_age").as_deref(), Some("1"));
    assert_eq!(f.auth.count("authenticate"), 2);
}

#[test]
fn with_nobody_to_ask_a_step_up_starts_no_login() {
    let f = forge("phr", None);
    let url = f.url();
    f.env.run(&["login", &url], "").ok();
    let challenge = challenge("phr", None);
    // GIT_TERMINAL_PROMPT=0: git may not ask anyone, so neither may we.
    let mut quiet = f.env.command(BIN);
    quiet.env("GIT_TERMINAL_PROMPT", "0").arg("get");
    let out = run_command(quiet, stepped_up_request(&f, &challenge).as_bytes());
    out.ok();
    assert_eq!(out.stdout, "", "git goes on without a token\n{out}");
    assert!(
        out.stderr.contains(&format!(
            "nobody to ask here; run: credential-oauth login {url}"
        )),
        "{out}"
    );
    assert_eq!(f.auth.count("authorize"), 1, "only the first login");
}

/// The step-up challenge for `acr` and `max_age`.
fn challenge(acr: &str, max_age: Option<i64>) -> String {
    StepUp {
        acr: acr.into(),
        max_age,
        authentication: Arc::new(|_: &str| None),
    }
    .challenge()
}

#[test]
fn goauth_answers_a_step_up_from_the_cache_and_never_logs_in() {
    const MODULES: &str = "https://go.example.com/";
    let auth = TestServer::start().unwrap();
    auth.add_client("app", None);
    let mut env = Env::new();
    env.write_config(&interactive_provider(
        &auth,
        MODULES,
        "client_id = \"app\"\n",
    ));
    env.browser(FOLLOW);
    // A login for phr, as git's step-up made it.
    let get = format!(
        "protocol=https\nhost=go.example.com\nwwwauth[]={}\n\n",
        challenge("phr", Some(600))
    );
    let token = env.run(&["get"], &get).ok().field("password").unwrap();
    assert_eq!(env.lines_of("browser-runs").len(), 1);

    let module = "https://go.example.com/mod/@v/list";
    let out = env.run(
        &["goauth", module],
        &go_401_stdin(&challenge("phr", Some(600))),
    );
    out.ok();
    assert!(
        out.stdout
            .contains(&format!("Authorization: Bearer {token}")),
        "{out}"
    );
    // Go would need a stronger login: never one from Go's side; the line.
    let out = env.run(
        &["goauth", module],
        &go_401_stdin(&challenge("phrh", Some(600))),
    );
    out.fails();
    assert_eq!(out.stdout, "", "{out}");
    assert!(
        out.stderr
            .contains(&format!("run: credential-oauth login {MODULES}")),
        "{out}"
    );
    assert_eq!(env.lines_of("browser-runs").len(), 1);
}

#[test]
fn a_device_login_asks_for_the_acr_and_max_age_too() {
    let server = TestServer::start().unwrap();
    let env = device_env(&server, "https://git.example.com/", "device_code", "");
    let request = "protocol=https\nhost=git.example.com\nwwwauth[]=Bearer \
                   error=\"insufficient_user_authentication\", acr_values=\"phrh phr\", \
                   max_age=300\n\n";
    let mut run = env.spawn_at_terminal(&["get"], request);
    let line = run.wait_for_line("user_code=", 20);
    let code = line.trim_start_matches("user_code=");
    http_get(&format!("{}/device?user_code={code}", server.issuer()));
    let out = run.finish();
    out.ok();
    let asked = server.last_request("/device_authorization").unwrap();
    assert_eq!(asked.param("acr_values"), Some("phrh phr"));
    assert_eq!(asked.param("max_age"), Some("300"));
    assert!(asked.param("scope").is_some_and(|s| s.contains("openid")));
    let entry = env.only_token_entry();
    assert_eq!(entry["acr"], "phrh");
}
