//! Endpoint discovery: RFC 8414 authorization server metadata (at its
//! well-known location, then where some servers put it instead), then
//! OpenID Connect discovery, then the conventional paths as a last guess.

use crate::config::{AuthMethod, ExplicitEndpoints, GrantKind, Provider};
use crate::error::{Error, Result};
use crate::http::Http;
use serde::{Deserialize, Serialize};
use url::Url;

/// The endpoints a grant talks to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: Option<Url>,
    pub token_endpoint: Option<Url>,
    pub device_authorization_endpoint: Option<Url>,
    pub registration_endpoint: Option<Url>,
    pub revocation_endpoint: Option<Url>,
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// RFC 8414 §2: a device grant listed here with no endpoint above
    /// means the config must name the endpoint.
    #[serde(default)]
    pub grant_types_supported: Vec<String>,
    /// RFC 9207 §3: the server names itself (`iss`) in every authorization
    /// response, so a response without it is refused.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// RFC 9449 §5.1: the algorithms the server takes DPoP proofs in;
    /// empty when it does not support DPoP.
    #[serde(default)]
    pub dpop_signing_alg_values_supported: Vec<String>,
    /// RFC 8414 §2 / OpenID Connect Discovery §3: with `openid`, or with
    /// ID token algorithms, the server is an OpenID provider.
    #[serde(default)]
    pub scopes_supported: Vec<String>,
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// RFC 9126 §5: where authorization requests are pushed.
    #[serde(default)]
    pub pushed_authorization_request_endpoint: Option<Url>,
    /// RFC 9126 §5: the server takes pushed authorization requests only.
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// OAuth Client ID Metadata Document: a client may name itself by the
    /// URL of its metadata document (MCP authorization).
    #[serde(default)]
    pub client_id_metadata_document_supported: bool,
}

impl Metadata {
    /// Whether the server is an OpenID provider: it issues ID tokens
    /// (OpenID Connect Discovery §3 makes the algorithms required) or
    /// offers the `openid` scope.
    pub fn is_openid_provider(&self) -> bool {
        !self.id_token_signing_alg_values_supported.is_empty()
            || self.scopes_supported.iter().any(|s| s == "openid")
    }
}

/// RFC 8414 §3.1: the well-known segment goes between host and path.
pub fn rfc8414_url(issuer: &str) -> Result<Url> {
    let url = parse_issuer(issuer)?;
    let path = url.path().trim_end_matches('/');
    let mut u = url.clone();
    u.set_path(&format!("/.well-known/oauth-authorization-server{path}"));
    Ok(u)
}

/// Where some servers publish their RFC 8414 metadata instead of at
/// [`rfc8414_url`]: appended to the issuer's path, as OpenID Connect does.
/// `None` when the issuer has no path, for then both are the same URL.
pub fn rfc8414_appended_url(issuer: &str) -> Result<Option<Url>> {
    let url = parse_issuer(issuer)?;
    let path = url.path().trim_end_matches('/');
    if path.is_empty() {
        return Ok(None);
    }
    let mut u = url.clone();
    u.set_path(&format!("{path}/.well-known/oauth-authorization-server"));
    Ok(Some(u))
}

/// OpenID Connect Discovery 1.0 §4: the well-known path is appended.
pub fn openid_url(issuer: &str) -> Result<Url> {
    let url = parse_issuer(issuer)?;
    let path = url.path().trim_end_matches('/');
    let mut u = url.clone();
    u.set_path(&format!("{path}/.well-known/openid-configuration"));
    Ok(u)
}

/// The endpoints assumed when the server publishes no metadata.
pub fn guessed(issuer: &str) -> Result<Metadata> {
    let url = parse_issuer(issuer)?;
    let base = url.path().trim_end_matches('/').to_string();
    let at = |p: &str| {
        let mut u = url.clone();
        u.set_path(&format!("{base}/{p}"));
        u
    };
    Ok(Metadata {
        issuer: issuer.to_string(),
        authorization_endpoint: Some(at("authorize")),
        token_endpoint: Some(at("token")),
        registration_endpoint: Some(at("register")),
        ..Metadata::default()
    })
}

fn parse_issuer(issuer: &str) -> Result<Url> {
    let url = Url::parse(issuer)
        .map_err(|e| Error::BadAnswer(format!("issuer {issuer:?} is not a URL: {e}")))?;
    if url.query().is_some() || url.fragment().is_some() {
        // RFC 8414 §2: the issuer has no query or fragment.
        return Err(Error::BadAnswer(format!(
            "issuer {issuer:?} must not have a query or fragment"
        )));
    }
    Ok(url)
}

/// Issuers compare equal up to one trailing slash: the mix-up defence of
/// RFC 8414 §3.3 is about which server, not about how its URL ends.
fn same_issuer(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// Fetch the metadata for `issuer`: RFC 8414 at its well-known location,
/// then RFC 8414 appended to the issuer's path (an issuer with a path only),
/// then OpenID, then the guess. The OAuth document is preferred wherever
/// it is, so both RFC 8414 forms come before OpenID's; a server that only
/// speaks OpenID pays one 404 more, once a day (the metadata is cached).
/// A document that exists but names another issuer is an error, as is a
/// server failure (guessing past an outage would only hide it).
pub fn discover(http: &Http, issuer: &str) -> Result<Metadata> {
    let urls = std::iter::once(rfc8414_url(issuer)?)
        .chain(rfc8414_appended_url(issuer)?)
        .chain([openid_url(issuer)?]);
    for url in urls {
        crate::debug!("discovery: GET {url}");
        match http.get_json(&url) {
            Ok(doc) => return from_document(issuer, &url, doc),
            Err(Error::Status { status, .. } | Error::OAuth { status, .. })
                if (400..500).contains(&status) => {}
            Err(e) => return Err(e),
        }
    }
    crate::debug!("discovery: no metadata published, guessing /authorize /token /register");
    guessed(issuer)
}

fn from_document(issuer: &str, url: &Url, doc: serde_json::Value) -> Result<Metadata> {
    let server = crate::http::origin(url);
    let mut meta: Metadata = serde_json::from_value(doc)
        .map_err(|e| Error::BadAnswer(format!("{server}: metadata is malformed: {e}")))?;
    if is_tenant_template_for(&meta.issuer, issuer) {
        // The template names no issuer; the alias asked for is what these
        // endpoints serve, and what an `iss` would have to name.
        meta.issuer = issuer.to_string();
    } else if !same_issuer(&meta.issuer, issuer) {
        return Err(Error::BadAnswer(format!(
            "{server}: metadata names issuer {:?}, not the configured {issuer:?}",
            crate::http::printable(&meta.issuer, 200)
        )));
    }
    Ok(meta)
}

/// The multi-tenant aliases of Microsoft Entra ID, whose metadata names
/// the issuer template rather than an issuer.
const TENANT_ALIASES: &[&str] = &["common", "organizations"];

/// Whether `named` is the literal `{tenantid}` template that Microsoft
/// Entra ID publishes as the `issuer` of a multi-tenant alias's metadata
/// (`https://login.microsoftonline.com/organizations/v2.0` names
/// `https://login.microsoftonline.com/{tenantid}/v2.0`: tokens come from
/// the signer's own tenant, never from the alias), for the `configured`
/// issuer. Only for an alias, and only its own template: the configured
/// issuer's first path segment is `common` or `organizations`, and
/// `named` is the configured issuer with that segment replaced by
/// `{tenantid}`, same origin, same rest of the path (up to a trailing
/// slash). A concrete tenant's metadata must still name it exactly. The
/// template is no issuer any server can be, so accepting it lets no other
/// server's metadata stand in for the one configured (RFC 8414 §3.3).
fn is_tenant_template_for(named: &str, configured: &str) -> bool {
    let Ok(url) = Url::parse(configured) else {
        return false;
    };
    let path = url.path().trim_end_matches('/');
    let mut segments = path.trim_start_matches('/').splitn(2, '/');
    let alias = segments.next().unwrap_or_default();
    if !TENANT_ALIASES.contains(&alias) || url.query().is_some() {
        return false;
    }
    let rest = segments.next().map(|r| format!("/{r}")).unwrap_or_default();
    let template = format!("{}/{{tenantid}}{rest}", url.origin().ascii_serialization());
    named.trim_end_matches('/') == template
}

/// Whether the explicit endpoints already cover what `provider`'s grant needs,
/// so that discovery can be skipped.
pub fn explicit_is_enough(provider: &Provider) -> bool {
    let e: &ExplicitEndpoints = &provider.endpoints;
    let needs_registration = provider.client_id.is_none();
    e.token.is_some()
        && match provider.grant {
            GrantKind::ClientCredentials | GrantKind::TokenExchange => true,
            GrantKind::DeviceCode => {
                e.device_authorization.is_some()
                    && (!needs_registration || e.registration.is_some())
            }
            GrantKind::AuthorizationCode => {
                e.authorization.is_some() && (!needs_registration || e.registration.is_some())
            }
        }
}

impl Metadata {
    /// Explicit endpoints from the config win over discovered ones.
    pub fn with_explicit(mut self, e: &ExplicitEndpoints) -> Metadata {
        let pick = |explicit: &Option<Url>, found: &mut Option<Url>| {
            if explicit.is_some() {
                found.clone_from(explicit);
            }
        };
        pick(&e.authorization, &mut self.authorization_endpoint);
        pick(&e.token, &mut self.token_endpoint);
        pick(
            &e.device_authorization,
            &mut self.device_authorization_endpoint,
        );
        pick(&e.registration, &mut self.registration_endpoint);
        pick(&e.revocation, &mut self.revocation_endpoint);
        self
    }

    pub fn token_endpoint(&self) -> Result<&Url> {
        self.token_endpoint.as_ref().ok_or_else(|| {
            Error::BadAnswer(format!("issuer {:?} has no token_endpoint", self.issuer))
        })
    }

    /// The client authentication method: the config's, else basic, unless
    /// the server lists methods and basic is not among them but post is.
    pub fn auth_method(&self, configured: Option<AuthMethod>) -> AuthMethod {
        if let Some(m) = configured {
            return m;
        }
        let offered = &self.token_endpoint_auth_methods_supported;
        let has = |m: &str| offered.iter().any(|o| o == m);
        if !offered.is_empty() && !has("client_secret_basic") && has("client_secret_post") {
            AuthMethod::ClientSecretPost
        } else {
            AuthMethod::ClientSecretBasic
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8414_inserts_well_known_before_the_path() {
        assert_eq!(
            rfc8414_url("https://a.example").unwrap().as_str(),
            "https://a.example/.well-known/oauth-authorization-server"
        );
        assert_eq!(
            rfc8414_url("https://a.example/").unwrap().as_str(),
            "https://a.example/.well-known/oauth-authorization-server"
        );
        assert_eq!(
            rfc8414_url("https://a.example/tenant/1").unwrap().as_str(),
            "https://a.example/.well-known/oauth-authorization-server/tenant/1"
        );
    }

    #[test]
    fn the_appended_rfc8414_form_exists_only_for_an_issuer_with_a_path() {
        assert_eq!(rfc8414_appended_url("https://a.example").unwrap(), None);
        assert_eq!(rfc8414_appended_url("https://a.example/").unwrap(), None);
        assert_eq!(
            rfc8414_appended_url("https://a.example/tenant/1/")
                .unwrap()
                .unwrap()
                .as_str(),
            "https://a.example/tenant/1/.well-known/oauth-authorization-server"
        );
    }

    #[test]
    fn discovery_tries_rfc8414_inserted_then_appended_then_openid() {
        use crate::http::scripted;
        let issuer = "https://a.example/tenant";
        let doc =
            br#"{"issuer":"https://a.example/tenant","token_endpoint":"https://a.example/t"}"#;
        let (http, sent) = scripted::http(&[(404, b""), (200, doc)]);
        let meta = discover(&http, issuer).unwrap();
        assert_eq!(meta.token_endpoint.unwrap().as_str(), "https://a.example/t");
        let urls: Vec<String> = sent.all().iter().map(|r| r.url.to_string()).collect();
        assert_eq!(
            urls,
            [
                "https://a.example/.well-known/oauth-authorization-server/tenant",
                "https://a.example/tenant/.well-known/oauth-authorization-server",
            ]
        );
        let (http, sent) = scripted::http(&[(404, b""), (404, b""), (200, doc)]);
        discover(&http, issuer).unwrap();
        assert_eq!(
            sent.all()[2].url.as_str(),
            "https://a.example/tenant/.well-known/openid-configuration"
        );
        // The issuer check holds at the appended location too.
        let other =
            br#"{"issuer":"https://a.example/other","token_endpoint":"https://a.example/t"}"#;
        let (http, _) = scripted::http(&[(404, b""), (200, other)]);
        let e = discover(&http, issuer).unwrap_err();
        assert!(e.to_string().contains("not the configured"), "{e}");
        // Without a path there is one RFC 8414 URL, asked once.
        let (http, sent) = scripted::http(&[(404, b""), (404, b"")]);
        discover(&http, "https://a.example").unwrap();
        let urls: Vec<String> = sent.all().iter().map(|r| r.url.to_string()).collect();
        assert_eq!(
            urls,
            [
                "https://a.example/.well-known/oauth-authorization-server",
                "https://a.example/.well-known/openid-configuration",
            ]
        );
    }

    #[test]
    fn openid_appends_well_known() {
        assert_eq!(
            openid_url("https://a.example/tenant/").unwrap().as_str(),
            "https://a.example/tenant/.well-known/openid-configuration"
        );
        assert_eq!(
            openid_url("http://127.0.0.1:8080").unwrap().as_str(),
            "http://127.0.0.1:8080/.well-known/openid-configuration"
        );
    }

    #[test]
    fn guesses_sit_under_the_issuer() {
        let m = guessed("https://a.example/realm/").unwrap();
        assert_eq!(
            m.authorization_endpoint.unwrap().as_str(),
            "https://a.example/realm/authorize"
        );
        assert_eq!(
            m.token_endpoint.unwrap().as_str(),
            "https://a.example/realm/token"
        );
        assert_eq!(
            m.registration_endpoint.unwrap().as_str(),
            "https://a.example/realm/register"
        );
    }

    #[test]
    fn issuer_with_query_is_refused() {
        assert!(rfc8414_url("https://a.example/?x=1").is_err());
    }

    #[test]
    fn mismatched_issuer_is_refused() {
        let url = Url::parse("https://a.example/.well-known/oauth-authorization-server").unwrap();
        let doc = serde_json::json!({"issuer": "https://evil.example", "token_endpoint": "https://a.example/t"});
        assert!(from_document("https://a.example", &url, doc.clone()).is_err());
        let ok = serde_json::json!({"issuer": "https://a.example/", "token_endpoint": "https://a.example/t"});
        assert!(from_document("https://a.example", &url, ok).is_ok());
    }

    #[test]
    fn a_multi_tenant_alias_takes_its_own_tenantid_template_and_nothing_else() {
        let url = Url::parse("https://login.example/x/.well-known/openid-configuration").unwrap();
        let doc = |issuer: &str| serde_json::json!({"issuer": issuer, "token_endpoint": "https://login.example/t"});
        let template = "https://login.microsoftonline.com/{tenantid}/v2.0";
        for alias in ["organizations", "common"] {
            let configured = format!("https://login.microsoftonline.com/{alias}/v2.0");
            let meta = from_document(&configured, &url, doc(template)).unwrap();
            assert_eq!(meta.issuer, configured, "named by the alias asked for");
            assert!(from_document(&format!("{configured}/"), &url, doc(template)).is_ok());
            // Another tenant, another place, another template: refused.
            for other in [
                "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
                "https://evil.example/{tenantid}/v2.0",
                "https://login.microsoftonline.com/{tenantid}",
                "https://login.microsoftonline.com/{tenantid}/v2.0/x",
                "http://login.microsoftonline.com/{tenantid}/v2.0",
            ] {
                assert!(
                    from_document(&configured, &url, doc(other)).is_err(),
                    "{alias}: {other}"
                );
            }
        }
        // A concrete tenant (and the consumers alias, whose metadata names
        // the Microsoft-account tenant) must match exactly.
        for configured in [
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0",
            "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
            "https://login.microsoftonline.com/consumers/v2.0",
            "https://login.microsoftonline.com/v2.0/organizations",
        ] {
            let e = from_document(configured, &url, doc(template)).unwrap_err();
            assert!(
                e.to_string().contains("not the configured"),
                "{configured}: {e}"
            );
            assert!(from_document(configured, &url, doc(configured)).is_ok());
        }
    }

    #[test]
    fn auth_method_prefers_config_then_basic_then_post() {
        let mut m = Metadata::default();
        assert_eq!(m.auth_method(None), AuthMethod::ClientSecretBasic);
        m.token_endpoint_auth_methods_supported = vec!["client_secret_post".into()];
        assert_eq!(m.auth_method(None), AuthMethod::ClientSecretPost);
        m.token_endpoint_auth_methods_supported
            .push("client_secret_basic".into());
        assert_eq!(m.auth_method(None), AuthMethod::ClientSecretBasic);
        assert_eq!(
            m.auth_method(Some(AuthMethod::ClientSecretPost)),
            AuthMethod::ClientSecretPost
        );
    }
}
