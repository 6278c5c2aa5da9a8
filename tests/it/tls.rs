//! `ca_file` against a real TLS server: a private CA generated at test time
//! (with the `openssl` tool), and a small HTTPS authorization server in the
//! test process (support::tls) whose certificate that CA signed.

use crate::support::tls::{TlsReply, TlsRequest, TlsServer, make_ca, make_server_cert};
use crate::support::*;
use std::path::Path;

/// A tiny HTTPS authorization server: RFC 8414 metadata and a token
/// endpoint for the client-credentials grant.
fn authorization_server(cert: &Path, key: &Path) -> TlsServer {
    // The issuer is the server's own origin, known once it listens.
    let origin = std::sync::Arc::new(std::sync::OnceLock::<String>::new());
    let server = {
        let origin = origin.clone();
        TlsServer::start(cert, key, move |rq: &TlsRequest| {
            let issuer = origin.get().cloned().unwrap_or_default();
            match (rq.method.as_str(), rq.path.as_str()) {
                ("GET", "/.well-known/oauth-authorization-server") => TlsReply::json(
                    "200 OK",
                    serde_json::json!({
                        "issuer": issuer,
                        "token_endpoint": format!("{issuer}/token"),
                        "grant_types_supported": ["client_credentials"],
                    }),
                ),
                ("POST", "/token") if rq.body.contains("grant_type=client_credentials") => {
                    TlsReply::json(
                        "200 OK",
                        serde_json::json!({
                            "access_token": "at_tls_ok",
                            "token_type": "Bearer",
                            "expires_in": 3600,
                        }),
                    )
                }
                ("POST", "/token") => TlsReply::json(
                    "400 Bad Request",
                    serde_json::json!({ "error": "unsupported_grant_type" }),
                ),
                _ => TlsReply::json("404 Not Found", serde_json::json!({ "error": "not_found" })),
            }
        })
    };
    origin.set(server.origin()).unwrap();
    server
}

fn provider(issuer: &str, ca_file: Option<&Path>) -> String {
    let ca = ca_file
        .map(|p| format!("ca_file = \"{}\"\n", p.display()))
        .unwrap_or_default();
    format!(
        "storage = \"file\"\n[[provider]]\nurl = \"https://git.example.com/\"\nissuer = \"{issuer}\"\n\
         client_id = \"ci\"\nclient_secret = \"ci-secret\"\ngrant = \"client_credentials\"\n{ca}"
    )
}

#[test]
fn a_private_ca_in_ca_file_is_trusted_and_nothing_else_is() {
    if require_tools(&["openssl"]).is_none() {
        return;
    }
    let env = Env::new();
    let pki = env.root.join("pki");
    std::fs::create_dir_all(&pki).unwrap();
    let ca = make_ca(&pki, "ca");
    let other_ca = make_ca(&pki, "other-ca");
    let (cert, key) = make_server_cert(&pki, "ca");
    let server = authorization_server(&cert, &key);

    // Neither the system's roots nor an unrelated private CA vouch for the
    // server: the handshake fails, with one line naming the certificate
    // problem, and no request reaches the server.
    for ca_file in [None, Some(other_ca.as_path())] {
        let before = server.connections();
        env.write_config(&provider(&server.origin(), ca_file));
        let out = env.run(&["token", "https://git.example.com/"], "");
        out.fails();
        assert!(out.stdout.is_empty(), "{out}");
        assert_eq!(out.stderr.trim_end().lines().count(), 1, "{out}");
        assert!(out.stderr.contains(&server.origin()), "{out}");
        assert!(
            out.stderr.contains("certificate") && out.stderr.contains("UnknownIssuer"),
            "{out}"
        );
        assert!(
            server.connections() > before,
            "never reached the server: {out}"
        );
        assert_eq!(server.requests(), Vec::<String>::new(), "{out}");
    }

    // The CA that signed it, in ca_file: discovery and the token request
    // both go over verified TLS.
    env.write_config(&provider(&server.origin(), Some(&ca)));
    let out = env.run(&["token", "https://git.example.com/"], "");
    out.ok();
    assert_eq!(out.stdout.trim_end(), "at_tls_ok", "{out}");
    assert_eq!(
        server.requests(),
        ["GET /.well-known/oauth-authorization-server", "POST /token"],
        "server errors: {:?}",
        server.errors()
    );
}
