//! `credential-oauth kubernetes` as kubectl's exec credential plugin: the
//! real kubectl (skipped where it is not installed) against a fake HTTPS
//! API server that accepts only tokens the test authorization server
//! issued; and the helper alone, fed `KUBERNETES_EXEC_INFO` as client-go
//! writes it.

use crate::support::kube_api::{KubeApi, Presented};
use crate::support::*;
use serde_json::json;
use std::path::PathBuf;

/// A browser that follows the authorization URL to the loopback listener.
const FOLLOW: &str = r#"curl -sS -L -o /dev/null "$1""#;

/// The API server, a kubeconfig path, and the test authorization server.
struct Cluster {
    server: TestServer,
    api: KubeApi,
    kubeconfig: PathBuf,
}

impl Cluster {
    fn start(env: &Env) -> Cluster {
        let server = TestServer::start().unwrap();
        let api = KubeApi::start(&env.root.join("pki"), server.token_checker());
        Cluster {
            server,
            api,
            kubeconfig: env.root.join("kubeconfig"),
        }
    }

    /// The kubeconfig's `exec` section: our binary with `args`.
    fn exec(
        &self,
        api_version: &str,
        args: &[&str],
        extra: serde_json::Value,
    ) -> serde_json::Value {
        let mut exec = json!({
            "apiVersion": format!("client.authentication.k8s.io/{api_version}"),
            "command": BIN,
            "args": args,
        });
        for (k, v) in extra.as_object().unwrap() {
            exec[k] = v.clone();
        }
        exec
    }

    fn kubectl_get_api(&self, env: &Env) -> Output {
        let mut cmd = env.command("kubectl");
        cmd.arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(["get", "--raw", "/api"]);
        run_command(cmd, b"")
    }

    /// The provider URL for this cluster: its server with the `/` path.
    fn provider_url(&self) -> String {
        format!("{}/", self.api.server())
    }
}

/// kubectl is skipped where missing, CI included (.ci/run cannot install
/// it on Debian); openssl is required under CI as everywhere.
fn kubectl_env() -> Option<Env> {
    optional_tool("kubectl")?;
    require_tools(&["openssl"])?;
    Some(Env::new())
}

#[test]
fn kubectl_reaches_the_cluster_with_the_url_in_the_plugins_args() {
    let Some(env) = kubectl_env() else { return };
    let cluster = Cluster::start(&env);
    env.client_credentials_config(&cluster.server, &cluster.provider_url());
    let exec = cluster.exec(
        "v1",
        &["kubernetes", &cluster.api.server()],
        json!({"interactiveMode": "IfAvailable"}),
    );
    cluster.api.write_kubeconfig(&cluster.kubeconfig, exec);

    let out = cluster.kubectl_get_api(&env);
    out.ok();
    assert!(out.stdout.contains("\"APIVersions\""), "{out}");
    let presented = cluster.api.presented();
    assert!(
        matches!(presented.as_slice(), [Presented::AccessToken(_)]),
        "{presented:?} {:?}\n{out}",
        cluster.api.requests()
    );
    // A second kubectl (a new process) is served from the helper's cache.
    cluster.kubectl_get_api(&env).ok();
    assert_eq!(cluster.server.count("client_credentials"), 1);
    assert_eq!(cluster.api.presented()[0], cluster.api.presented()[1]);
}

#[test]
fn kubectl_reaches_the_cluster_by_its_server_with_provide_cluster_info() {
    let Some(env) = kubectl_env() else { return };
    let cluster = Cluster::start(&env);
    env.client_credentials_config(&cluster.server, &cluster.provider_url());
    // v1beta1: the answer must repeat it, or kubectl refuses the credential.
    let exec = cluster.exec(
        "v1beta1",
        &["kubernetes"],
        json!({"provideClusterInfo": true}),
    );
    cluster.api.write_kubeconfig(&cluster.kubeconfig, exec);

    let out = cluster.kubectl_get_api(&env);
    out.ok();
    assert!(out.stdout.contains("\"APIVersions\""), "{out}");
    assert!(
        matches!(
            cluster.api.presented().as_slice(),
            [Presented::AccessToken(_)]
        ),
        "{out}"
    );
}

/// A merged kubeconfig pairs this user (whose args name the real cluster)
/// with an attacker's cluster: kubectl would send the token there, so the
/// helper refuses with one line naming both, and the attacker's API server
/// sees no credential. The same user with its own cluster still works.
#[test]
fn a_cluster_the_urls_provider_does_not_cover_gets_no_token() {
    let Some(env) = kubectl_env() else { return };
    let cluster = Cluster::start(&env);
    let evil = KubeApi::start(&env.root.join("pki-evil"), cluster.server.token_checker());
    env.client_credentials_config(&cluster.server, &cluster.provider_url());
    let exec = cluster.exec(
        "v1",
        &["kubernetes", &cluster.api.server()],
        json!({"interactiveMode": "Never", "provideClusterInfo": true}),
    );
    evil.write_kubeconfig(&cluster.kubeconfig, exec.clone());

    let out = cluster.kubectl_get_api(&env);
    out.fails();
    assert!(
        out.stderr.contains(&format!(
            "ci serves {}, but the token would also go to {}/",
            cluster.provider_url(),
            evil.server()
        )),
        "{out}"
    );
    assert!(!evil.saw_a_credential(), "{:?}\n{out}", evil.presented());
    assert_eq!(cluster.server.count("client_credentials"), 0, "{out}");

    cluster.api.write_kubeconfig(&cluster.kubeconfig, exec);
    let out = cluster.kubectl_get_api(&env);
    out.ok();
    assert!(
        matches!(
            cluster.api.presented().as_slice(),
            [Presented::AccessToken(_)]
        ),
        "{out}"
    );
}

#[test]
fn a_cluster_no_provider_serves_fails_with_one_line_from_the_helper() {
    let Some(env) = kubectl_env() else { return };
    let cluster = Cluster::start(&env);
    env.client_credentials_config(&cluster.server, "https://other.example/");
    let exec = cluster.exec(
        "v1",
        &["kubernetes"],
        json!({"interactiveMode": "Never", "provideClusterInfo": true}),
    );
    cluster.api.write_kubeconfig(&cluster.kubeconfig, exec);

    let out = cluster.kubectl_get_api(&env);
    out.fails();
    assert!(
        out.stderr.contains(&format!(
            "credential-oauth: no provider is configured for {}/",
            cluster.api.server()
        )),
        "{out}"
    );
    assert!(!cluster.api.saw_a_credential(), "{out}");
}

#[test]
fn interactive_mode_never_fails_at_once_with_the_login_hint_and_the_login_serves_it() {
    let Some(mut env) = kubectl_env() else { return };
    let cluster = Cluster::start(&env);
    cluster.server.add_client("app", None);
    env.write_config(&interactive_provider(
        &cluster.server,
        &cluster.provider_url(),
        "client_id = \"app\"\nscopes = [\"read\"]\n",
    ));
    // A browser that would log in if it ran, and leaves a mark when it does.
    env.browser(&format!("echo run >> \"$DIR/browser-runs\"\n{FOLLOW}"));
    let exec = cluster.exec(
        "v1",
        &["kubernetes", &cluster.api.server()],
        json!({"interactiveMode": "Never"}),
    );
    cluster.api.write_kubeconfig(&cluster.kubeconfig, exec);

    let out = cluster.kubectl_get_api(&env);
    out.fails();
    let hint = format!(
        "corp: no cached token and nobody to ask here; run: credential-oauth login {}",
        cluster.provider_url()
    );
    assert!(out.stderr.contains(&hint), "{out}");
    assert!(env.lines_of("browser-runs").is_empty(), "{out}");
    assert_eq!(cluster.server.count("authorize"), 0, "{out}");
    assert!(!cluster.api.saw_a_credential(), "{out}");

    // The command the hint names, then kubectl again: the cached token.
    env.run(&["login", &cluster.provider_url()], "").ok();
    assert_eq!(env.lines_of("browser-runs"), ["run"]);
    let out = cluster.kubectl_get_api(&env);
    out.ok();
    assert!(
        matches!(
            cluster.api.presented().as_slice(),
            [Presented::AccessToken(_)]
        ),
        "{out}"
    );
}

#[test]
fn an_openid_provider_hands_the_cluster_its_id_token_renewed_by_the_id_tokens_exp() {
    let Some(mut env) = kubectl_env() else { return };
    let cluster = Cluster::start(&env);
    cluster.server.add_client("app", None);
    // The ID token ends within the helper's one-minute margin, the access
    // token an hour later: only the ID token's exp can make the helper renew.
    cluster.server.set_id_token_lifetime(30);
    env.write_config(&interactive_provider(
        &cluster.server,
        &cluster.provider_url(),
        "client_id = \"app\"\nscopes = [\"openid\", \"read\"]\n",
    ));
    env.browser(FOLLOW);
    env.run(&["login", &cluster.provider_url()], "").ok();
    let exec = cluster.exec(
        "v1",
        &["kubernetes"],
        json!({"interactiveMode": "Never", "provideClusterInfo": true}),
    );
    cluster.api.write_kubeconfig(&cluster.kubeconfig, exec);

    // Nobody to ask, yet a refresh runs: it needs nobody.
    cluster.kubectl_get_api(&env).ok();
    cluster.kubectl_get_api(&env).ok();
    let presented = cluster.api.presented();
    let [Presented::IdToken(first), Presented::IdToken(second)] = presented.as_slice() else {
        panic!("the API server got {presented:?}");
    };
    assert_ne!(first, second, "each run renewed the ID token");
    assert_eq!(cluster.server.count("refresh_token"), 2);
    assert_eq!(cluster.server.count("authorize"), 1, "one login only");
}

/// client-go's request with cluster information, as kubectl writes it.
fn exec_info(api_version: &str, server: &str, interactive: bool) -> String {
    json!({
        "kind": "ExecCredential",
        "apiVersion": format!("client.authentication.k8s.io/{api_version}"),
        "spec": {
            "cluster": {"server": server, "certificate-authority-data": "LS0t", "config": null},
            "interactive": interactive,
        },
    })
    .to_string()
}

#[test]
fn the_helper_answers_in_the_requests_version_with_the_renewal_time() {
    let server = TestServer::start().unwrap();
    let mut env = Env::new();
    env.client_credentials_config(&server, "https://k8s.example:6443/");
    for version in ["v1", "v1beta1"] {
        env.set_var(
            "KUBERNETES_EXEC_INFO",
            &exec_info(version, "https://k8s.example:6443", false),
        );
        let out = env.run(&["kubernetes"], "");
        out.ok();
        let answer: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(
            answer["apiVersion"],
            format!("client.authentication.k8s.io/{version}"),
            "{out}"
        );
        assert_eq!(answer["kind"], "ExecCredential");
        let token = answer["status"]["token"].as_str().unwrap();
        assert!(server.is_active(token), "{out}");
        // The helper's deadline less its one-minute margin, RFC 3339 UTC.
        let entry = env.only_token_entry();
        let expected = credential_oauth::calendar::format_utc(
            entry["expires_at"].as_u64().unwrap() - credential_oauth::token::REFRESH_MARGIN,
        );
        assert_eq!(answer["status"]["expirationTimestamp"], expected, "{out}");
        assert!(out.stderr.is_empty(), "{out}");
    }
    assert_eq!(server.count("client_credentials"), 1);
}

/// The helper alone, as client-go runs it: the URL argument and the
/// cluster disagree, and no token is obtained or printed; a cluster under
/// the same provider is served.
#[test]
fn the_helper_hands_out_nothing_when_the_cluster_is_not_the_urls() {
    let server = TestServer::start().unwrap();
    let mut env = Env::new();
    env.client_credentials_config(&server, "https://k8s.example:6443/");
    env.set_var(
        "KUBERNETES_EXEC_INFO",
        &exec_info("v1", "https://evil.example.net:6443", false),
    );
    let out = env.run(&["kubernetes", "https://k8s.example:6443"], "");
    out.fails();
    assert_eq!(out.stdout, "", "{out}");
    assert_eq!(out.stderr.lines().count(), 1, "{out}");
    assert!(
        out.stderr.contains("https://k8s.example:6443/")
            && out.stderr.contains("https://evil.example.net:6443/"),
        "{out}"
    );
    assert_eq!(server.count("client_credentials"), 0);

    env.set_var(
        "KUBERNETES_EXEC_INFO",
        &exec_info("v1", "https://k8s.example:6443/api-proxy", false),
    );
    let out = env.run(&["kubernetes", "https://k8s.example:6443"], "");
    out.ok();
    assert_eq!(server.count("client_credentials"), 1, "{out}");
}

// The size bound is a unit test (protocol::exec_credential): Linux refuses
// to start a process with one environment string over 128 KiB anyway.
#[test]
fn the_helper_refuses_a_malformed_request_in_one_line() {
    let mut env = Env::new();
    env.write_config("storage = \"file\"\n");
    env.set_var("KUBERNETES_EXEC_INFO", "{\"kind\":");
    let out = env.run(&["kubernetes", "https://k8s.example/"], "");
    out.fails();
    assert!(out.stdout.is_empty(), "{out}");
    assert_eq!(out.stderr.lines().count(), 1, "{out}");
    assert!(out.stderr.contains("is not an ExecCredential"), "{out}");
}
