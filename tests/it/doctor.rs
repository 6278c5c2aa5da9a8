//! `credential-oauth doctor`: a line per finding, a case per problem it
//! reports, exit 1 on a problem and 0 otherwise.

use crate::support::*;
use std::sync::Arc;

const URL: &str = "https://git.example.com/";

/// An Env where git reads only the private HOME's config, and every link
/// doctor looks for is on PATH and points at the binary under test.
fn healthy_env() -> Env {
    let mut env = Env::new();
    env.var("GIT_CONFIG_NOSYSTEM", "1");
    for name in [
        "credential-oauth",
        "git-credential-oauth",
        "docker-credential-oauth",
        "bazel-credential-oauth",
    ] {
        env.link_as(name);
    }
    let path = env.path_with_bin_dir().into_string().unwrap();
    env.set_var("PATH", &path);
    let git = env
        .command("git")
        .args(["config", "--global", "credential.helper", "oauth"])
        .status()
        .unwrap();
    assert!(git.success());
    env
}

fn line<'a>(out: &'a Output, prefix: &str) -> &'a str {
    out.stdout
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?}\n{out}"))
}

/// The line after `prefix`'s: its fix.
fn fix_of<'a>(out: &'a Output, prefix: &str) -> &'a str {
    let mut lines = out.stdout.lines();
    lines.find(|l| l.starts_with(prefix));
    lines
        .next()
        .and_then(|l| l.trim_start().strip_prefix("fix: "))
        .unwrap_or_else(|| panic!("no fix after {prefix:?}\n{out}"))
}

#[test]
fn a_healthy_set_up_is_all_ok_or_warnings_and_exits_zero() {
    let server = TestServer::start().unwrap();
    let env = healthy_env();
    env.client_credentials_config(&server, URL);
    env.run(&["token", URL], "").ok();
    let out = env.run(&["doctor"], "");
    out.ok();
    assert!(!out.stdout.contains("problem"), "{out}");
    assert!(line(&out, "ok       config: ").contains("is valid (1 provider)"));
    assert!(
        line(&out, "ok       ci: ")
            .contains(&format!("{} answers; endpoints: token ", server.issuer()))
    );
    line(&out, "ok       clock: within 30 s of http://127.0.0.1:");
    assert!(line(&out, "ok       ci: token cached, expires in").contains("not refreshable"));
    line(&out, "ok       git-credential-oauth: ");
    line(&out, "ok       git: credential.helper includes oauth");
    assert!(!out.stdout.contains("ci-secret"), "{out}");
}

#[test]
fn a_broken_config_is_a_problem() {
    let env = healthy_env();
    env.write_config("[[provider]]\nurl = \"https://git.example.com/\"\ngrant = \"magic\"\n");
    let out = env.run(&["doctor"], "");
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        line(&out, "problem  config: ").contains("config.toml"),
        "{out}"
    );
    assert!(out.stderr.contains("doctor found 1 problem"), "{out}");
}

#[test]
fn an_unreachable_issuer_is_a_problem() {
    // A loopback port nobody listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let env = healthy_env();
    env.write_config(&format!(
        "storage = \"file\"\n\n[[provider]]\nname = \"corp\"\nurl = \"{URL}\"\n\
         issuer = \"http://127.0.0.1:{port}\"\nclient_id = \"app\"\n"
    ));
    let out = env.run(&["doctor"], "");
    assert_eq!(out.code, Some(1), "{out}");
    let problem = line(&out, "problem  corp: discovery at ");
    assert!(problem.contains(&format!("127.0.0.1:{port}")), "{out}");
    assert!(
        fix_of(&out, "problem  corp: discovery").contains("issuer"),
        "{out}"
    );
}

#[test]
fn a_link_pointing_elsewhere_is_a_problem_and_a_missing_one_a_warning() {
    let env = healthy_env();
    let other = env.bin_dir().join("bazel-credential-oauth");
    std::fs::remove_file(&other).unwrap();
    std::os::unix::fs::symlink("/bin/sh", &other).unwrap();
    std::fs::remove_file(env.bin_dir().join("docker-credential-oauth")).unwrap();
    let out = env.run(&["doctor"], "");
    assert_eq!(out.code, Some(1), "{out}");
    let problem = line(&out, "problem  bazel-credential-oauth: ");
    assert!(
        problem.contains("is another program, not this binary"),
        "{out}"
    );
    assert!(
        fix_of(&out, "problem  bazel-credential-oauth").starts_with("ln -sf "),
        "{out}"
    );
    line(&out, "warning  docker-credential-oauth: not on PATH");
    line(&out, "ok       git-credential-oauth: ");
}

#[test]
fn git_without_this_helper_is_reported_with_the_command_that_fixes_it() {
    let env = healthy_env();
    env.command("git")
        .args(["config", "--global", "credential.helper", "store"])
        .status()
        .unwrap();
    let out = env.run(&["doctor"], "");
    let warning = line(
        &out,
        "warning  git: credential.helper is \"store\" but not oauth",
    );
    assert!(!warning.is_empty());
    assert_eq!(
        fix_of(&out, "warning  git: "),
        "credential-oauth configure",
        "{out}"
    );
    env.run(&["configure"], "").ok();
    line(
        &env.run(&["doctor"], ""),
        "ok       git: credential.helper includes oauth",
    );
}

#[test]
fn no_token_is_reported_with_the_login_that_gets_one() {
    let server = TestServer::start().unwrap();
    let env = healthy_env();
    env.write_config(&interactive_provider(&server, URL, "client_id = \"app\"\n"));
    server.add_client("app", None);
    let out = env.run(&["doctor"], "");
    line(&out, "warning  corp: no token cached");
    assert_eq!(
        fix_of(&out, "warning  corp: no token cached"),
        format!("credential-oauth login {URL}"),
        "{out}"
    );
}

/// A tiny authorization server whose clock is an hour behind: its
/// metadata is right, its `Date` is not.
struct SlowClock {
    http: Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
    issuer: String,
}

impl SlowClock {
    fn start(date: &'static str) -> SlowClock {
        let http = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let issuer = format!(
            "http://127.0.0.1:{}",
            http.server_addr().to_ip().unwrap().port()
        );
        let thread = {
            let (http, issuer) = (Arc::clone(&http), issuer.clone());
            std::thread::spawn(move || {
                while let Ok(rq) = http.recv() {
                    let doc = serde_json::json!({
                        "issuer": issuer,
                        "token_endpoint": format!("{issuer}/token"),
                        "grant_types_supported": ["client_credentials"],
                    });
                    let _ = rq.respond(
                        tiny_http::Response::from_string(doc.to_string())
                            .with_header(
                                tiny_http::Header::from_bytes("Content-Type", "application/json")
                                    .unwrap(),
                            )
                            .with_header(tiny_http::Header::from_bytes("Date", date).unwrap()),
                    );
                }
            })
        };
        SlowClock {
            http,
            thread: Some(thread),
            issuer,
        }
    }
}

impl Drop for SlowClock {
    fn drop(&mut self) {
        self.http.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn a_skewed_clock_is_a_problem() {
    let server = SlowClock::start("Sun, 06 Nov 1994 08:49:37 GMT");
    let env = healthy_env();
    env.write_config(&format!(
        "storage = \"file\"\n\n[[provider]]\nname = \"ci\"\nurl = \"{URL}\"\nissuer = \"{}\"\n\
         client_id = \"ci\"\nclient_secret = \"s\"\ngrant = \"client_credentials\"\n",
        server.issuer
    ));
    let out = env.run(&["doctor"], "");
    assert_eq!(out.code, Some(1), "{out}");
    let problem = line(&out, "problem  clock: this machine is ");
    assert!(
        problem.contains(&format!("ahead of {}", server.issuer)),
        "{out}"
    );
    assert!(fix_of(&out, "problem  clock").contains("clock"), "{out}");
}
