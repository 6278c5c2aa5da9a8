//! No secret leaks: every flow, run with `-v` and `CREDENTIAL_OAUTH_LOG=debug`,
//! leaves no token, refresh token, client secret, code or verifier on stderr,
//! on stdout beyond the answer asked for, or in any file outside the store.

use crate::support::*;

const URL: &str = "https://git.example.com/";
const CLIENT_SECRET: &str = "cs_do-not-print-me-3141592653";

const FOLLOW: &str = r#"curl -sS -L -o "$DIR/page.html" "$1""#;

fn files_outside_the_store(env: &Env) -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&env.root, &mut files);
    files.retain(|f| !f.starts_with(env.tokens_dir()) && *f != env.config_path());
    files
}

#[test]
fn no_flow_prints_or_leaves_a_secret_behind() {
    let server = TestServer::start().unwrap();
    server.add_client("app", Some(CLIENT_SECRET));
    server.set_client_credentials_refresh(true);
    let mut env = Env::new();
    env.var("CREDENTIAL_OAUTH_LOG", "debug");
    env.browser(FOLLOW);
    env.write_config(&interactive_provider(
        &server,
        URL,
        &format!("client_id = \"app\"\nclient_secret = \"{CLIENT_SECRET}\"\nscopes = [\"read\"]\n"),
    ));

    let mut outputs = Vec::new();
    let mut answers = Vec::new();
    // Browser login with PKCE, then a refresh, then a forced login, then logout.
    let login = env.run(&["-v", "get"], &git_request(URL));
    answers.push(login.ok().field("password").unwrap());
    let exchange = server.last_request("/token").unwrap();
    let code = exchange.param("code").unwrap().to_string();
    let verifier = exchange.param("code_verifier").unwrap().to_string();
    let refresh_token = env.only_token_entry()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    outputs.push(login.clone_parts());

    server.expire_access_tokens();
    let entry = env.token_entries()[0].clone();
    let mut stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&entry).unwrap()).unwrap();
    stored["expires_at"] = 1.into();
    std::fs::write(&entry, stored.to_string()).unwrap();
    let refreshed = env.run(&["-v", "token", URL], "");
    answers.push(refreshed.ok().stdout.trim_end().to_string());
    outputs.push(refreshed.clone_parts());
    let rotated = env.only_token_entry()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(server.count("refresh_token"), 1);
    assert_ne!(rotated, refresh_token);

    let status = env.run(&["-v", "status"], "");
    outputs.push(status.ok().clone_parts());
    let logout = env.run(&["-v", "logout", URL], "");
    outputs.push(logout.ok().clone_parts());
    assert_eq!(
        server.count("revoke"),
        2,
        "the access token, then the refresh token"
    );
    let erase = env.run(
        &["-v", "erase"],
        &format!(
            "protocol=https\nhost=git.example.com\nusername=oauth2\npassword={}\n\n",
            answers[1]
        ),
    );
    outputs.push(erase.ok().clone_parts());

    let mut secrets = vec![
        CLIENT_SECRET.to_string(),
        code,
        verifier,
        refresh_token,
        rotated,
    ];
    secrets.extend(answers.iter().cloned());
    for (i, (stdout, stderr)) in outputs.iter().enumerate() {
        for s in &secrets {
            assert!(
                !stderr.contains(s.as_str()),
                "run {i}: stderr holds a secret\n{stderr}"
            );
            // stdout may hold exactly the answer that was asked for.
            if !answers.iter().any(|a| a == s) {
                assert!(
                    !stdout.contains(s.as_str()),
                    "run {i}: stdout holds a secret\n{stdout}"
                );
            }
        }
    }
    let files = files_outside_the_store(&env);
    assert!(files.iter().any(|f| f.ends_with("page.html")), "{files:?}");
    for f in files {
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "{} holds a secret", f.display());
        }
    }
}

#[test]
fn client_credentials_and_device_flows_print_no_secret() {
    let server = TestServer::start().unwrap();
    server.set_device_interval(0);
    let mut env = Env::new();
    env.var("CREDENTIAL_OAUTH_LOG", "debug");
    env.client_credentials_config(&server, URL);
    let cc = env.run(&["-v", "token", URL], "");
    let token = cc.ok().stdout.trim_end().to_string();
    assert!(
        !cc.stderr.contains(&token) && !cc.stderr.contains("ci-secret"),
        "{cc}"
    );

    server.add_client("dev", None);
    env.write_config(&interactive_provider(
        &server,
        URL,
        "client_id = \"dev\"\ngrant = \"device_code\"\n",
    ));
    let mut run = env.spawn_at_terminal(&["-v", "token", URL], "");
    let line = run.wait_for_line("user_code=", 20);
    let code = line.trim_start_matches("user_code=").to_string();
    http_get(&format!("{}/device?user_code={code}", server.issuer()));
    let out = run.finish();
    let token = out.ok().stdout.trim_end().to_string();
    let poll = server.last_request("/token").unwrap();
    let device_code = poll.param("device_code").unwrap().to_string();
    let refresh: Vec<String> = env
        .token_entries()
        .iter()
        .filter_map(|p| {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()?;
            v["refresh_token"].as_str().map(str::to_string)
        })
        .collect();
    assert_eq!(refresh.len(), 1);
    for s in [&token, &device_code, &refresh[0]] {
        assert!(!out.stderr.contains(s.as_str()), "{out}");
    }
}
