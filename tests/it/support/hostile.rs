//! A hostile server on a loopback port that plays both a git server (the
//! protected resource, RFC 9728) and an authorization server, and records
//! everything it is sent: what the tests assert is what the attacker got.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// One request as the attacker received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub query: String,
    pub body: String,
    pub authorization: Option<String>,
}

impl Seen {
    /// Everything in the request a secret could travel in.
    pub fn carries(&self, needle: &str) -> bool {
        self.query.contains(needle)
            || self.body.contains(needle)
            || self
                .authorization
                .as_deref()
                .is_some_and(|a| a.contains(needle))
    }

    /// The form parameter `name` of the body.
    pub fn form(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// What the attacker does.
#[derive(Clone, Default)]
pub struct Plan {
    /// The issuer the resource metadata names; `None`: the attacker itself.
    pub resource_issuer: Option<String>,
    /// `scopes_supported` of the resource metadata.
    pub scopes_supported: Vec<String>,
    /// `/authorize` sends the browser on to this honest authorization
    /// endpoint with the helper's own request, the client id swapped for
    /// `victim_client_id` (the mix-up attack, RFC 9700 §4.4).
    pub mixup_to: Option<String>,
    pub victim_client_id: String,
    /// The device grant's `verification_uri`.
    pub verification_uri: String,
}

pub struct Hostile {
    pub port: u16,
    http: Arc<tiny_http::Server>,
    seen: Arc<Mutex<Vec<Seen>>>,
    thread: Option<JoinHandle<()>>,
}

impl Hostile {
    pub fn start(plan: Plan) -> Hostile {
        let http = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let port = http.server_addr().to_ip().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let (http, seen) = (Arc::clone(&http), Arc::clone(&seen));
            let plan = Arc::new(plan);
            std::thread::spawn(move || {
                while let Ok(rq) = http.recv() {
                    serve(rq, port, &plan, &seen);
                }
            })
        };
        Hostile {
            port,
            http,
            seen,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`: the attacker's issuer and origin.
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.origin())
    }

    /// The `WWW-Authenticate` value its git side sends with a 401.
    pub fn challenge(&self, scope: Option<&str>) -> String {
        let mut c = format!(
            "Bearer realm=\"git\", resource_metadata=\"{}/.well-known/oauth-protected-resource\"",
            self.origin()
        );
        if let Some(s) = scope {
            c.push_str(&format!(", scope=\"{s}\""));
        }
        c
    }

    /// A git `get` request for `repo` carrying the challenge.
    pub fn git_request(&self, repo: &str, scope: Option<&str>) -> String {
        format!(
            "protocol=http\nhost=127.0.0.1:{}\npath={repo}\ncapability[]=authtype\nwwwauth[]={}\n\n",
            self.port,
            self.challenge(scope)
        )
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn seen_at(&self, path: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.path == path).collect()
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.http.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn json(status: u16, doc: serde_json::Value) -> tiny_http::ResponseBox {
    tiny_http::Response::from_string(doc.to_string())
        .with_status_code(status)
        .with_header(tiny_http::Header::from_bytes("Content-Type", "application/json").unwrap())
        .boxed()
}

fn found(location: &str) -> tiny_http::ResponseBox {
    tiny_http::Response::from_string("")
        .with_status_code(302)
        .with_header(tiny_http::Header::from_bytes("Location", location.as_bytes()).unwrap())
        .boxed()
}

fn serve(mut rq: tiny_http::Request, port: u16, plan: &Plan, seen: &Mutex<Vec<Seen>>) {
    let origin = format!("http://127.0.0.1:{port}");
    let target = rq.url().to_string();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut body = String::new();
    let _ =
        std::io::Read::read_to_string(&mut std::io::Read::take(rq.as_reader(), 1 << 20), &mut body);
    let authorization = rq
        .headers()
        .iter()
        .find(|h| h.field.equiv("Authorization"))
        .map(|h| h.value.as_str().to_string());
    seen.lock().unwrap().push(Seen {
        path: path.to_string(),
        query: query.to_string(),
        body,
        authorization,
    });
    let reply = match path {
        "/.well-known/oauth-protected-resource" => json(
            200,
            serde_json::json!({
                "resource": format!("{origin}/"),
                "authorization_servers": [plan.resource_issuer.clone().unwrap_or(origin.clone())],
                "scopes_supported": plan.scopes_supported,
            }),
        ),
        "/.well-known/oauth-authorization-server" | "/.well-known/openid-configuration" => json(
            200,
            serde_json::json!({
                "issuer": origin,
                "authorization_endpoint": format!("{origin}/authorize"),
                "token_endpoint": format!("{origin}/token"),
                "registration_endpoint": format!("{origin}/register"),
                "device_authorization_endpoint": format!("{origin}/device_authorization"),
                "revocation_endpoint": format!("{origin}/revoke"),
            }),
        ),
        "/register" => json(
            201,
            serde_json::json!({"client_id": "evil-client", "token_endpoint_auth_method": "none"}),
        ),
        "/authorize" => {
            let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect();
            match &plan.mixup_to {
                Some(honest) => {
                    let mut to = url::Url::parse(honest).unwrap();
                    for (k, v) in &pairs {
                        let v = if k == "client_id" {
                            &plan.victim_client_id
                        } else {
                            v
                        };
                        to.query_pairs_mut().append_pair(k, v);
                    }
                    found(to.as_str())
                }
                None => {
                    let get = |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
                    let mut back = url::Url::parse(&get("redirect_uri").unwrap_or_default())
                        .unwrap_or_else(|_| url::Url::parse("http://127.0.0.1:1/").unwrap());
                    back.query_pairs_mut()
                        .append_pair("code", "evil-code")
                        .append_pair("state", &get("state").unwrap_or_default());
                    found(back.as_str())
                }
            }
        }
        "/token" => json(
            200,
            serde_json::json!({
                "access_token": "evil-access", "token_type": "Bearer",
                "expires_in": 3600, "refresh_token": "evil-refresh",
            }),
        ),
        "/device_authorization" => json(
            200,
            serde_json::json!({
                "device_code": "evil-device-code", "user_code": "EVIL-CODE",
                "verification_uri": plan.verification_uri, "expires_in": 600, "interval": 0,
            }),
        ),
        "/revoke" => json(200, serde_json::json!({})),
        _ => tiny_http::Response::from_string("authentication required\n")
            .with_status_code(401)
            .with_header(
                tiny_http::Header::from_bytes(
                    "WWW-Authenticate",
                    format!(
                        "Bearer resource_metadata=\"{origin}/.well-known/oauth-protected-resource\""
                    )
                    .as_bytes(),
                )
                .unwrap(),
            )
            .boxed(),
    };
    let _ = rq.respond(reply);
}
