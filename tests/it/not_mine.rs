//! "Not mine" costs nothing: a `get` for a host no provider serves runs no
//! git when no config git would read can hold a `credential.<url>.oauth*`
//! key, and git's config is still asked (and still finds the provider)
//! whenever one can: a global section, an included file, `git -c`, the
//! repository's own config.

use crate::support::*;
use std::path::{Path, PathBuf};

/// A private HOME whose `git` is a script that appends its arguments to
/// [`Recorded::log`] and then runs the real git; global config `global`,
/// no system config, and repository discovery stopped at the test's root
/// (which sits inside this project's own checkout).
struct Recorded {
    env: Env,
    log: PathBuf,
}

impl Recorded {
    fn new(global: &str) -> Option<Recorded> {
        require_tools(&["git"])?;
        let real = find_on_path("git").expect("git on PATH");
        let mut env = Env::new();
        let bin = env.root.join("fakebin");
        std::fs::create_dir_all(&bin).unwrap();
        let log = env.root.join("git-invocations");
        let script = bin.join("git");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
                log.display(),
                real.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = format!("{}:{}", bin.display(), test_path().to_string_lossy());
        env.set_var("PATH", &path);
        let global_path = env.root.join("gitconfig");
        std::fs::write(&global_path, global).unwrap();
        env.var("GIT_CONFIG_GLOBAL", &global_path.display().to_string());
        env.var("GIT_CONFIG_NOSYSTEM", "1");
        env.var("GIT_TERMINAL_PROMPT", "0");
        let ceiling = env.root.parent().unwrap().display().to_string();
        env.var("GIT_CEILING_DIRECTORIES", &ceiling);
        env.write_config("storage = \"file\"\n");
        Some(Recorded { env, log })
    }

    /// Each git run so far, one line of arguments each.
    fn runs(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// `get` for `url`, run in `dir` (the test's root when `None`).
    fn get(&self, url: &str, dir: Option<&Path>) -> Output {
        let mut cmd = self.env.command(BIN);
        cmd.arg("get");
        if let Some(dir) = dir {
            cmd.current_dir(dir);
        }
        run_command(cmd, git_request(url).as_bytes())
    }
}

/// The scoped client-credentials section for the test server's origin.
fn scoped_section(server: &TestServer) -> String {
    server.add_client("ci", Some("ci-secret"));
    format!(
        "[credential \"{0}\"]\n\toauthIssuer = {0}\n\toauthClientId = ci\n\
         \toauthClientSecret = ci-secret\n\toauthGrant = client_credentials\n",
        server.issuer()
    )
}

/// What every person who uses the helper from git has: it is the helper
/// for every host (its path mentions `oauth`, which is no key), and a
/// section for some other host.
fn helper_section() -> String {
    format!(
        "[credential]\n\thelper = \"{BIN}\"\n\
         [credential \"https://other.example\"]\n\tusername = someone\n"
    )
}

fn assert_token(server: &TestServer, out: &Output, runs: &[String]) {
    let password = out.ok().field("password").unwrap_or_default();
    assert!(server.is_active(&password), "{out}\ngit runs: {runs:#?}");
    assert!(
        runs.iter().any(|r| r.starts_with("config ")),
        "git config was not asked: {runs:#?}"
    );
}

#[test]
fn a_get_for_a_host_nobody_serves_runs_no_git_when_no_config_names_an_oauth_key() {
    let Some(rec) = Recorded::new(&helper_section()) else {
        return;
    };
    let out = rec.get("https://git.unknown.example/org/repo.git", None);
    out.ok();
    assert!(!out.stdout.contains("password="), "{out}");
    assert_eq!(rec.runs(), Vec::<String>::new(), "{out}");
}

#[test]
fn a_scoped_section_in_the_global_config_runs_git_and_makes_the_provider() {
    let server = TestServer::start().unwrap();
    let global = format!("{}{}", helper_section(), scoped_section(&server));
    let Some(rec) = Recorded::new(&global) else {
        return;
    };
    let out = rec.get(&format!("{}/group/repo.git", server.issuer()), None);
    assert_token(&server, &out, &rec.runs());
}

#[test]
fn a_scoped_section_only_in_an_included_file_is_still_found() {
    let server = TestServer::start().unwrap();
    let Some(rec) = Recorded::new("") else {
        return;
    };
    let included = rec.env.root.join("included-config");
    std::fs::write(&included, scoped_section(&server)).unwrap();
    let global = format!(
        "{}[include]\n\tpath = {}\n",
        helper_section(),
        included.display()
    );
    std::fs::write(rec.env.root.join("gitconfig"), global).unwrap();
    let out = rec.get(&format!("{}/group/repo.git", server.issuer()), None);
    assert_token(&server, &out, &rec.runs());
}

#[test]
fn scoped_keys_given_with_dash_c_are_still_found() {
    // As `git -c KEY=VALUE …` passes them to the helper git runs (git
    // 2.31+), and as GIT_CONFIG_COUNT / GIT_CONFIG_KEY_n / GIT_CONFIG_VALUE_n.
    for counted in [false, true] {
        let server = TestServer::start().unwrap();
        server.add_client("ci", Some("ci-secret"));
        let Some(mut rec) = Recorded::new(&helper_section()) else {
            return;
        };
        let section = format!("credential.{}", server.issuer());
        let keys = [
            ("oauthIssuer", server.issuer()),
            ("oauthClientId", "ci".to_string()),
            ("oauthClientSecret", "ci-secret".to_string()),
            ("oauthGrant", "client_credentials".to_string()),
        ];
        if counted {
            rec.env.var("GIT_CONFIG_COUNT", &keys.len().to_string());
            for (n, (k, v)) in keys.iter().enumerate() {
                rec.env
                    .var(&format!("GIT_CONFIG_KEY_{n}"), &format!("{section}.{k}"));
                rec.env.var(&format!("GIT_CONFIG_VALUE_{n}"), v);
            }
        } else {
            let parameters: Vec<String> = keys
                .iter()
                .map(|(k, v)| format!("'{section}.{k}'='{v}'"))
                .collect();
            rec.env.var("GIT_CONFIG_PARAMETERS", &parameters.join(" "));
        }
        let out = rec.get(&format!("{}/group/repo.git", server.issuer()), None);
        assert_token(&server, &out, &rec.runs());
    }
}

#[test]
fn scoped_keys_in_the_repository_config_are_found_from_inside_it() {
    let server = TestServer::start().unwrap();
    let Some(rec) = Recorded::new(&helper_section()) else {
        return;
    };
    let repo = rec.env.root.join("repo");
    let mut init = rec.env.command("git");
    init.args(["init", "-q"]).arg(&repo);
    run_command(init, b"").ok();
    let config = repo.join(".git/config");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&scoped_section(&server));
    std::fs::write(&config, text).unwrap();
    let inside = repo.join("sub/dir");
    std::fs::create_dir_all(&inside).unwrap();
    let out = rec.get(
        &format!("{}/group/repo.git", server.issuer()),
        Some(&inside),
    );
    assert_token(&server, &out, &rec.runs());
}
