//! `terraform-credentials-oauth` as Terraform's credentials helper: the
//! exact protocol (`get`, `store`, `forget HOST`, run through a link of
//! that name), and the real `terraform init` of a module from a private
//! HTTPS module registry whose API accepts only tokens the test
//! authorization server issued (skipped where terraform is not installed).

use crate::support::module_hosts::{self, TF_MARK, TF_MODULE, TF_VERSION};
use crate::support::*;

const HELPER: &str = "terraform-credentials-oauth";

/// A client-credentials provider for `https://<host>/` on a fresh test server.
fn provider_for(env: &Env, host: &str) -> TestServer {
    let server = TestServer::start().unwrap();
    env.client_credentials_config(&server, &format!("https://{host}/"));
    server
}

/// The token in a `get` answer, after checking the answer is exactly
/// `{"token":"…"}` and a newline.
fn token_of(out: &Output) -> String {
    out.ok();
    assert!(out.stdout.ends_with("}\n"), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let map = v.as_object().unwrap();
    assert_eq!(map.len(), 1, "{out}");
    map["token"].as_str().unwrap().to_string()
}

#[test]
fn get_prints_a_live_token_for_a_provider_host_and_an_empty_object_for_others() {
    let env = Env::new();
    let server = provider_for(&env, "tf.example:8443");

    let token = token_of(&env.run_as(HELPER, &["get", "tf.example:8443"], ""));
    assert!(server.is_active(&token));
    // Hostnames compare without case; the cache serves the next call.
    assert_eq!(
        token_of(&env.run_as(HELPER, &["get", "TF.example:8443"], "")),
        token
    );
    assert_eq!(server.count("client_credentials"), 1);

    for other in ["tf.example", "other.example:8443", "registry.terraform.io"] {
        let out = env.run_as(HELPER, &["get", other], "");
        out.ok();
        assert_eq!(
            (out.stdout.as_str(), out.stderr.as_str()),
            ("{}\n", ""),
            "{out}"
        );
    }
}

/// Terraform sends a host's token to that whole host over https: a
/// provider scoped to a path, or speaking http, answers `{}` and obtains
/// nothing.
#[test]
fn a_host_is_served_only_by_an_https_provider_for_the_whole_host() {
    for url in ["https://tf.example/modules/", "http://127.0.0.1:8443/"] {
        let env = Env::new();
        let server = TestServer::start().unwrap();
        env.client_credentials_config(&server, url);
        for host in ["tf.example", "127.0.0.1:8443"] {
            let out = env.run_as(HELPER, &["get", host], "");
            assert_eq!(out.ok().stdout, "{}\n", "{url} {host}: {out}");
        }
        assert_eq!(server.count("client_credentials"), 0, "{url}");
    }
}

#[test]
fn store_is_accepted_without_effect_for_a_provider_host_and_refused_for_others() {
    let env = Env::new();
    let server = provider_for(&env, "tf.example");
    let token = token_of(&env.run_as(HELPER, &["get", "tf.example"], ""));

    let out = env.run_as(
        HELPER,
        &["store", "tf.example"],
        r#"{"token":"from-terraform-login"}"#,
    );
    out.ok();
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str()),
        ("", ""),
        "{out}"
    );
    assert_eq!(
        token_of(&env.run_as(HELPER, &["get", "tf.example"], "")),
        token
    );
    assert_eq!(server.count("client_credentials"), 1);

    // Another host: said plainly, and the token it was given is not repeated.
    let out = env.run_as(
        HELPER,
        &["store", "other.example"],
        r#"{"token":"hunter2"}"#,
    );
    out.fails();
    assert_eq!(out.stderr.lines().count(), 1, "{out}");
    assert!(
        out.stderr
            .starts_with("credential-oauth: no provider is configured for other.example"),
        "{out}"
    );
    assert!(
        !out.stderr.contains("hunter2") && out.stdout.is_empty(),
        "{out}"
    );
    assert_eq!(
        env.run_as(HELPER, &["get", "other.example"], "").stdout,
        "{}\n"
    );

    // Not a JSON object: refused without quoting it.
    let out = env.run_as(HELPER, &["store", "tf.example"], "token=hunter2");
    out.fails();
    assert!(out.stderr.starts_with("credential-oauth: store: "), "{out}");
    assert!(!out.stderr.contains("hunter2"), "{out}");
}

#[test]
fn forget_is_logout_for_that_host() {
    let env = Env::new();
    let server = provider_for(&env, "tf.example");
    let first = token_of(&env.run_as(HELPER, &["get", "tf.example"], ""));
    assert_eq!(env.token_entries().len(), 1);

    let out = env.run_as(HELPER, &["forget", "tf.example"], "");
    out.ok();
    assert!(out.stdout.is_empty(), "{out}");
    assert!(env.stored_entries().is_empty(), "{out}");
    let second = token_of(&env.run_as(HELPER, &["get", "tf.example"], ""));
    assert_ne!(first, second);
    assert_eq!(server.count("client_credentials"), 2);

    // Nothing to forget for a host no provider serves.
    let out = env.run_as(HELPER, &["forget", "other.example"], "");
    out.ok();
    assert_eq!(env.token_entries().len(), 1);
}

#[test]
fn a_wrong_command_line_is_one_line_on_stderr_and_a_failure() {
    let env = Env::new();
    for (args, says) in [
        (&["erase", "tf.example"][..], "unknown verb \"erase\""),
        (&["get"][..], "usage: terraform-credentials-oauth"),
        (&["get", "https://tf.example/"][..], "is not a hostname"),
        (&["get", "a.example", "b.example"][..], "usage: "),
    ] {
        let out = env.run_as(HELPER, args, "");
        assert_eq!(out.code, Some(2), "{out}");
        assert!(out.stdout.is_empty(), "{out}");
        assert_eq!(out.stderr.lines().count(), 1, "{out}");
        assert!(out.stderr.starts_with("credential-oauth: "), "{out}");
        assert!(out.stderr.contains(says), "{says}\n{out}");
    }
}

#[test]
fn with_nobody_to_ask_get_fails_at_once_naming_the_login_command() {
    let mut env = Env::new();
    let server = TestServer::start().unwrap();
    server.add_client("app", None);
    env.write_config(&interactive_provider(
        &server,
        "https://tf.example/",
        "client_id = \"app\"\n",
    ));
    // A browser that leaves a mark if it is ever run.
    env.browser("echo run >> \"$DIR/browser-runs\"");

    let out = env.run_as(HELPER, &["get", "tf.example"], "");
    out.fails();
    assert!(out.stdout.is_empty(), "{out}");
    assert!(
        out.stderr.contains(
            "corp: no cached token and nobody to ask here; run: credential-oauth login https://tf.example/"
        ),
        "{out}"
    );
    assert!(env.lines_of("browser-runs").is_empty(), "{out}");
    assert_eq!(server.count("authorize"), 0);
}

/// The real terraform: `terraform init` installs a module from the private
/// registry, every request of which needs a live token.
#[test]
fn terraform_init_installs_a_module_from_a_private_registry_with_the_helpers_token() {
    let Some(()) = optional_tool("terraform") else {
        return;
    };
    require_tools(&["openssl"]).unwrap();
    let mut env = Env::new();
    let server = TestServer::start().unwrap();
    let registry = module_hosts::terraform_registry(&env.root.join("pki"), server.token_checker());
    env.client_credentials_config(&server, &format!("{}/", registry.origin()));

    // Terraform finds credentials helpers in its plugin directories.
    let plugins = env.home.join(".terraform.d/plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    std::os::unix::fs::symlink(BIN, plugins.join(HELPER)).unwrap();
    let rc = env.root.join("terraformrc");
    std::fs::write(
        &rc,
        "credentials_helper \"oauth\" {}\ndisable_checkpoint = true\n",
    )
    .unwrap();
    env.var("TF_CLI_CONFIG_FILE", &rc.display().to_string());
    env.var("CHECKPOINT_DISABLE", "1");
    env.var("TF_IN_AUTOMATION", "1");
    env.var("SSL_CERT_FILE", &registry.ca_pem().display().to_string());

    let work = env.root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(
        work.join("main.tf"),
        format!(
            "module \"net\" {{\n  source  = \"{}/{TF_MODULE}\"\n  version = \"{TF_VERSION}\"\n}}\n\n\
             output \"mark\" {{\n  value = module.net.mark\n}}\n",
            registry.host()
        ),
    )
    .unwrap();
    let mut cmd = env.command("terraform");
    cmd.current_dir(&work)
        .args(["init", "-input=false", "-no-color", "-backend=false"]);
    let out = run_command(cmd, b"");
    out.ok();
    let installed = std::fs::read_to_string(work.join(".terraform/modules/net/main.tf"))
        .unwrap_or_else(|e| panic!("the module was not installed ({e})\n{out}"));
    assert!(installed.contains(TF_MARK), "{installed}");
    // Every registry request carried a live token; the package, whose
    // address only the guarded download endpoint tells, is fetched without
    // one, as Terraform fetches it.
    let granted = registry.granted();
    for path in [
        "/.well-known/terraform.json".to_string(),
        format!("/v1/modules/{TF_MODULE}/versions"),
        format!("/v1/modules/{TF_MODULE}/{TF_VERSION}/download"),
    ] {
        assert!(granted.contains(&path), "{path} not in {granted:?}\n{out}");
    }
    let unguarded = registry.refused();
    assert!(
        !unguarded.is_empty()
            && unguarded
                .iter()
                .all(|p| p.starts_with("/packages/") && p.ends_with("/network.zip")),
        "{unguarded:?}\n{out}"
    );
    assert_eq!(server.count("client_credentials"), 1);
}
