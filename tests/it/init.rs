//! `init`: a provider added to the config file by flags alone (no terminal
//! needed), the person's file kept byte for byte, and the first login run.

use crate::support::*;

const URL: &str = "https://git.example.com/";

fn env_with_secret(server: &TestServer) -> Env {
    server.add_client("ci", Some("ci-secret"));
    let mut env = Env::new();
    env.var("CREDENTIAL_OAUTH_STORAGE", "file");
    std::fs::write(env.root.join("secret"), "ci-secret\n").unwrap();
    env
}

fn client_credentials_init(env: &Env, server: &TestServer, url: &str) -> Output {
    client_credentials_init_with(env, server, url, &[])
}

/// [`client_credentials_init`] with more of init's flags (`--no-login`).
fn client_credentials_init_with(
    env: &Env,
    server: &TestServer,
    url: &str,
    extra: &[&str],
) -> Output {
    let issuer = server.issuer();
    let secret = env.root.join("secret");
    let mut args = vec![
        "init",
        url,
        "--issuer",
        &issuer,
        "--client-id",
        "ci",
        "--client-secret-file",
        secret.to_str().unwrap(),
        "--grant",
        "client_credentials",
    ];
    args.extend_from_slice(extra);
    env.run_detached(&args, "")
}

#[test]
fn init_by_flags_with_client_credentials_ends_logged_in() {
    let server = TestServer::start().unwrap();
    let env = env_with_secret(&server);
    let out = client_credentials_init(&env, &server, URL);
    out.ok();
    assert!(out.stdout.starts_with("added provider"), "{out}");
    assert!(out.stderr.contains("logged in to git.example.com"), "{out}");
    assert!(!out.stdout.contains("ci-secret") && !out.stderr.contains("ci-secret"));
    assert_eq!(server.count("token"), 1);
    // The token is cached: the next call asks the server nothing.
    let token = env.run_detached(&["token", URL], "");
    assert!(server.is_active(token.ok().stdout.trim()), "{token}");
    assert_eq!(server.count("token"), 1);
}

#[test]
fn an_existing_config_keeps_its_comments_byte_for_byte() {
    let server = TestServer::start().unwrap();
    let env = env_with_secret(&server);
    let old = "# my providers, in my order\nstorage = \"file\"  # not the keychain\n\n\
               [[provider]]\n# the old one\nname = \"old\"\nurl = \"https://old.example.com/\"\n\
               issuer = \"https://auth.old.example.com\"   # aligned\nclient_id = \"x\"\n\n\
               # the end\n";
    env.write_config(old);
    let old_mode = mode(&env.config_path());
    client_credentials_init(&env, &server, URL).ok();
    let new = std::fs::read_to_string(env.config_path()).unwrap();
    assert!(new.starts_with(old), "{new}");
    let added = &new[old.len()..];
    assert!(
        added.starts_with("\n[[provider]]\nurl = \"https://git.example.com/\"\n"),
        "{added}"
    );
    assert_eq!(mode(&env.config_path()), old_mode);
    let status = env.run(&["status"], "");
    assert!(status.ok().stdout.contains("old"), "{status}");
}

#[test]
fn a_second_entry_for_the_same_url_is_refused_and_the_file_left_alone() {
    let server = TestServer::start().unwrap();
    let env = env_with_secret(&server);
    client_credentials_init(&env, &server, URL).ok();
    let before = std::fs::read(env.config_path()).unwrap();
    // The same URL, spelled without its slash.
    let again = client_credentials_init(&env, &server, "https://git.example.com");
    again.fails();
    assert!(again.stderr.contains("already serves"), "{again}");
    assert_eq!(std::fs::read(env.config_path()).unwrap(), before);
    assert_eq!(server.count("token"), 1);
}

/// An init whose login never finished (Ctrl-C, a closed browser) left its
/// entry and no token: init again finishes that login instead of refusing,
/// and leaves the file as it was.
#[test]
fn init_again_after_an_interrupted_login_logs_in_with_the_entry_written() {
    let server = TestServer::start().unwrap();
    let env = env_with_secret(&server);
    let first = client_credentials_init_with(&env, &server, URL, &["--no-login"]);
    first.ok();
    let before = std::fs::read(env.config_path()).unwrap();
    assert_eq!(server.count("token"), 0);

    let again = client_credentials_init(&env, &server, URL);
    again.ok();
    assert!(
        again.stderr.contains("holds no token yet; logging in"),
        "{again}"
    );
    assert!(again.stderr.contains("logged in to"), "{again}");
    assert_eq!(server.count("token"), 1);
    assert_eq!(std::fs::read(env.config_path()).unwrap(), before);
    // Now it holds one: a third init is refused, as before.
    let third = client_credentials_init(&env, &server, URL);
    third.fails();
    assert!(third.stderr.contains("already serves"), "{third}");
    assert_eq!(server.count("token"), 1);
}

#[test]
fn a_new_config_file_is_private_and_nothing_is_asked_without_a_terminal() {
    let server = TestServer::start().unwrap();
    let env = env_with_secret(&server);
    // No client id and a preset that offers no registration: the question
    // has nobody to answer it, so the flag is named, at once.
    let out = env.run_detached(&["init", "https://github.com/", "--no-login"], "");
    assert_eq!(out.code, Some(2), "{out}");
    assert!(out.stderr.contains("--client-id"), "{out}");
    assert!(out.stderr.contains("preset \"github\""), "{out}");
    assert!(!env.config_path().exists());
    let out = env.run_detached(
        &[
            "init",
            "https://github.com/",
            "--client-id",
            "Iv1.abc",
            "--no-login",
        ],
        "",
    );
    out.ok();
    assert_eq!(mode(&env.config_path()), 0o600);
    let text = std::fs::read_to_string(env.config_path()).unwrap();
    assert_eq!(
        text,
        "[[provider]]\nurl = \"https://github.com/\"\npreset = \"github\"\nclient_id = \"Iv1.abc\"\n"
    );
}

#[test]
fn init_against_a_server_that_registers_clients_asks_for_no_client_id() {
    let server = TestServer::start().unwrap();
    let mut env = Env::new();
    env.var("CREDENTIAL_OAUTH_STORAGE", "file");
    // A browser that follows the authorization URL to the loopback listener.
    env.browser(r#"curl -sS -L -o /dev/null "$1""#);
    let issuer = server.issuer();
    let out = env.run_detached(&["init", URL, "--issuer", &issuer], "");
    out.ok();
    assert!(out.stderr.contains("dynamic registration"), "{out}");
    assert_eq!(server.registered_clients().len(), 1, "{out}");
    let text = std::fs::read_to_string(env.config_path()).unwrap();
    assert!(!text.contains("client_id"), "{text}");
    let token = env.run_detached(&["token", URL], "");
    assert!(server.is_active(token.ok().stdout.trim()), "{token}");
}

/// The client-id question for a GitLab preset names the instance's own
/// applications page, not a placeholder.
#[test]
fn the_gitlab_question_names_the_instances_applications_page() {
    let env = Env::new();
    let out = env.run_detached(
        &["init", "https://gitlab.corp.example/", "--preset", "gitlab"],
        "",
    );
    out.fails();
    assert!(
        out.stderr
            .contains("an application at https://gitlab.corp.example/-/user_settings/applications"),
        "{out}"
    );
    assert!(!out.stderr.contains("<gitlab>"), "{out}");
}
