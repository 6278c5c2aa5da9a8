//! Known servers: the endpoints, scopes, username convention and grant a
//! client uses there, so a provider entry needs only `url`, `preset` and
//! its client. Explicit keys in the entry win over the preset; an `issuer`
//! written in the entry is where the preset's endpoints sit (a GitLab under
//! a path, an Entra tenant or national cloud). No client id ships here:
//! each user registers their own app (the README says where and how).

use super::provider::GrantKind;
use url::Url;

/// What a preset fills in for a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preset {
    pub issuer: String,
    pub authorization_endpoint: Url,
    pub token_endpoint: Url,
    pub device_authorization_endpoint: Option<Url>,
    pub revocation_endpoint: Option<Url>,
    pub scopes: Vec<String>,
    pub username: String,
    pub grant: GrantKind,
    /// What the entry itself must say about its client.
    pub client: ClientNeeds,
}

/// The client keys a preset cannot do without, because its server
/// registers no client on the fly (RFC 7591) or takes none without a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientNeeds {
    /// Nothing checked here: the first login says what is missing.
    Nothing,
    /// `client_id` of an app registered as `register` says.
    Id { register: &'static str },
    /// `client_id` and `client_secret`: the server has confidential
    /// clients only.
    IdAndSecret { register: &'static str },
}

/// The names accepted by `preset = "…"`.
pub const NAMES: &[&str] = &[
    "github",
    "gitlab",
    "bitbucket",
    "codeberg",
    "gitea",
    "forgejo",
    "entra",
];

/// Microsoft Entra ID's default issuer for the `entra` preset: any work or
/// school account (Azure DevOps takes no personal Microsoft account through
/// an Entra app).
pub const ENTRA_ISSUER: &str = "https://login.microsoftonline.com/organizations/v2.0";

/// Azure DevOps as an Entra resource: its application id, whose `.default`
/// scope asks for the delegated permissions the app was granted.
pub const AZURE_DEVOPS_SCOPE: &str = "499b84ac-1321-427f-aa17-267ca6975798/.default";

/// Google's issuer, whose refresh tokens have a documented short life for
/// apps in "Testing" status (see [`refresh_token_limit`]).
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";

/// The preset `name` for a provider whose url is `url` and that writes no
/// issuer; see [`for_entry`].
pub fn expand(name: &str, url: &Url) -> Result<Preset, String> {
    for_entry(name, url, None)
}

/// The preset `name` for a provider whose url is `url` and whose entry
/// writes `issuer`. The endpoints sit under that issuer when one is
/// written, else: self-hosted forges (GitLab, Gitea, Forgejo, GitHub
/// Enterprise Server) under the url's origin; bitbucket.org, codeberg.org
/// and github.com at their fixed place; Entra under [`ENTRA_ISSUER`].
pub fn for_entry(name: &str, url: &Url, issuer: Option<&str>) -> Result<Preset, String> {
    let origin = url.origin().ascii_serialization();
    let written = issuer.map(|i| i.trim_end_matches('/').to_string());
    let base_or = |default: &str| written.clone().unwrap_or_else(|| default.to_string());
    let at = |base: &str, path: &str| -> Result<Url, String> {
        Url::parse(&format!("{base}{path}")).map_err(|e| format!("preset {name:?}: {e}"))
    };
    let words = |s: &[&str]| s.iter().map(|w| w.to_string()).collect::<Vec<_>>();
    let issuer_of = |base: &str| issuer.map_or_else(|| base.to_string(), str::to_string);
    match name {
        // GitHub OAuth apps: the device flow needs only the client id (enable
        // "Device Flow" in the app's settings); the web flow also wants the
        // client secret. Any non-empty username works with a token.
        "github" => {
            let base = base_or(&origin);
            Ok(Preset {
                issuer: issuer_of(&base),
                authorization_endpoint: at(&base, "/login/oauth/authorize")?,
                token_endpoint: at(&base, "/login/oauth/access_token")?,
                device_authorization_endpoint: Some(at(&base, "/login/device/code")?),
                revocation_endpoint: None,
                scopes: words(&["repo"]),
                username: "x-access-token".into(),
                grant: GrantKind::DeviceCode,
                client: ClientNeeds::Nothing,
            })
        }
        // GitLab (gitlab.com or self-managed): authorization code with PKCE
        // for non-confidential apps; device grant from 17.2 (behind a flag; on by default from 17.3); username oauth2.
        "gitlab" => {
            let base = base_or(&origin);
            Ok(Preset {
                issuer: issuer_of(&base),
                authorization_endpoint: at(&base, "/oauth/authorize")?,
                token_endpoint: at(&base, "/oauth/token")?,
                device_authorization_endpoint: Some(at(&base, "/oauth/authorize_device")?),
                revocation_endpoint: Some(at(&base, "/oauth/revoke")?),
                scopes: words(&["read_repository", "write_repository"]),
                username: "oauth2".into(),
                grant: GrantKind::AuthorizationCode,
                client: ClientNeeds::Nothing,
            })
        }
        // Bitbucket Cloud: consumers are always confidential (key + secret,
        // HTTP Basic at the token endpoint); access tokens last two hours
        // and come with a refresh token; git takes the token with the
        // username x-token-auth. App passwords stop working in 2026.
        "bitbucket" => {
            let base = base_or("https://bitbucket.org");
            Ok(Preset {
                issuer: issuer_of(&base),
                authorization_endpoint: at(&base, "/site/oauth2/authorize")?,
                token_endpoint: at(&base, "/site/oauth2/access_token")?,
                device_authorization_endpoint: None,
                revocation_endpoint: None,
                scopes: words(&["repository", "repository:write"]),
                username: "x-token-auth".into(),
                grant: GrantKind::AuthorizationCode,
                client: ClientNeeds::IdAndSecret {
                    register: "an OAuth consumer (workspace settings → OAuth consumers): \
                               client_id is its Key, client_secret its Secret",
                },
            })
        }
        // Gitea and Forgejo (Codeberg runs Forgejo): authorization code with
        // PKCE for public ("non-confidential") apps, whose loopback
        // redirect takes any port; tokens last an hour and are refreshed.
        // The apps these servers pre-register belong to two other
        // credential helpers, so each user registers one (README).
        "gitea" | "forgejo" | "codeberg" => {
            let base = if name == "codeberg" {
                base_or("https://codeberg.org")
            } else {
                base_or(&origin)
            };
            Ok(Preset {
                issuer: issuer_of(&base),
                authorization_endpoint: at(&base, "/login/oauth/authorize")?,
                token_endpoint: at(&base, "/login/oauth/access_token")?,
                device_authorization_endpoint: None,
                revocation_endpoint: None,
                scopes: Vec::new(),
                username: "oauth2".into(),
                grant: GrantKind::AuthorizationCode,
                client: ClientNeeds::Nothing,
            })
        }
        // Microsoft Entra ID for Azure DevOps, now that Azure DevOps OAuth
        // apps and global PATs are retired: the tenant is in the issuer
        // (`https://login.microsoftonline.com/<tenant>/v2.0`), the
        // endpoints under `<authority>/oauth2/v2.0/`; the device grant (the
        // app allows public client flows); Azure DevOps's `.default` scope
        // with `offline_access`, without which Entra gives no refresh
        // token. Azure DevOps ignores the username beside a token.
        "entra" => {
            let issuer_text = written.unwrap_or_else(|| ENTRA_ISSUER.to_string());
            let authority = entra_authority(&issuer_text)?;
            Ok(Preset {
                issuer: issuer.map_or_else(|| ENTRA_ISSUER.to_string(), str::to_string),
                authorization_endpoint: at(&authority, "/oauth2/v2.0/authorize")?,
                token_endpoint: at(&authority, "/oauth2/v2.0/token")?,
                device_authorization_endpoint: Some(at(&authority, "/oauth2/v2.0/devicecode")?),
                revocation_endpoint: None,
                scopes: words(&[AZURE_DEVOPS_SCOPE, "offline_access"]),
                username: "oauth2".into(),
                grant: GrantKind::DeviceCode,
                client: ClientNeeds::Id {
                    register: "an app registration in Microsoft Entra ID (public client \
                               flows allowed, API permission Azure DevOps \
                               user_impersonation); client_id is its Application (client) ID",
                },
            })
        }
        other => Err(format!(
            "preset: {other:?} is not one of {}",
            NAMES.join(", ")
        )),
    }
}

/// `https://login.microsoftonline.com/<tenant>` from the issuer
/// `https://login.microsoftonline.com/<tenant>/v2.0`: the tenant is one
/// path segment (a tenant id, a domain, or an alias such as
/// `organizations`), and the issuer ends in `/v2.0`, the endpoints the
/// preset's paths belong to. Another host (a national cloud, a test
/// server) keeps the same shape.
fn entra_authority(issuer: &str) -> Result<String, String> {
    let shape = || {
        format!(
            "preset \"entra\": issuer {issuer:?} is not https://login.microsoftonline.com/<tenant>/v2.0 \
             (<tenant>: the directory's tenant id or domain, or organizations)"
        )
    };
    let url = Url::parse(issuer).map_err(|_| shape())?;
    let path = url.path().trim_end_matches('/');
    let tenant = path
        .strip_prefix('/')
        .and_then(|p| p.strip_suffix("/v2.0"))
        .ok_or_else(shape)?;
    let tenant_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_');
    if tenant.is_empty()
        || !tenant.chars().all(tenant_char)
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(shape());
    }
    Ok(format!("{}/{tenant}", url.origin().ascii_serialization()))
}

impl Preset {
    /// The preset `name`'s client check: the keys its server cannot do
    /// without, named with where to get them.
    pub fn check_client(
        &self,
        name: &str,
        client_id: bool,
        client_secret: bool,
    ) -> Result<(), String> {
        match self.client {
            ClientNeeds::Nothing => Ok(()),
            ClientNeeds::Id { register } if !client_id => Err(format!(
                "preset {name:?} needs client_id: register {register}"
            )),
            ClientNeeds::IdAndSecret { register } if !client_id || !client_secret => {
                let missing = match (client_id, client_secret) {
                    (false, false) => "client_id and client_secret",
                    (false, true) => "client_id",
                    _ => "client_secret",
                };
                Err(format!(
                    "preset {name:?} needs {missing}, as its server takes confidential \
                     clients only: register {register}"
                ))
            }
            ClientNeeds::Id { .. } | ClientNeeds::IdAndSecret { .. } => Ok(()),
        }
    }
}

/// A limit a known server puts on its refresh tokens that the cache cannot
/// see, for `doctor` to warn about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshTokenLimit {
    /// Seconds after it was obtained.
    pub lifetime: u64,
    /// When the limit applies, as a person reads it.
    pub applies: &'static str,
    /// What lifts it.
    pub fix: &'static str,
}

/// The refresh-token limit of the server at `issuer`, if it has one.
/// Google: a refresh token issued to an app whose OAuth consent screen is
/// for external users and in "Testing" status expires after 7 days
/// (unless it was granted only the name, email and profile scopes).
pub fn refresh_token_limit(issuer: &str) -> Option<RefreshTokenLimit> {
    (issuer.trim_end_matches('/') == GOOGLE_ISSUER).then_some(RefreshTokenLimit {
        lifetime: 7 * 24 * 3600,
        applies: "Google expires the refresh tokens of an app in \"Testing\" status after 7 days",
        fix: "publish the app in the Google Cloud console (Audience → Publish app), or log in again",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn github_uses_the_device_flow_on_github_com() {
        let p = expand("github", &url("https://github.com/org/")).unwrap();
        assert_eq!(p.issuer, "https://github.com");
        assert_eq!(
            p.device_authorization_endpoint.unwrap().as_str(),
            "https://github.com/login/device/code"
        );
        assert_eq!(
            p.token_endpoint.as_str(),
            "https://github.com/login/oauth/access_token"
        );
        assert_eq!(p.grant, GrantKind::DeviceCode);
        assert!(!p.username.is_empty());
    }

    #[test]
    fn self_hosted_forges_take_the_url_origin() {
        let p = expand("gitlab", &url("https://git.corp.example:8443/group/")).unwrap();
        assert_eq!(p.issuer, "https://git.corp.example:8443");
        assert_eq!(
            p.authorization_endpoint.as_str(),
            "https://git.corp.example:8443/oauth/authorize"
        );
        assert_eq!(
            p.device_authorization_endpoint.unwrap().as_str(),
            "https://git.corp.example:8443/oauth/authorize_device"
        );
        assert_eq!(p.username, "oauth2");
        let f = expand("forgejo", &url("https://forge.example/x")).unwrap();
        assert_eq!(
            f.token_endpoint.as_str(),
            "https://forge.example/login/oauth/access_token"
        );
        let c = expand("codeberg", &url("https://codeberg.org/")).unwrap();
        assert_eq!(c.issuer, "https://codeberg.org");
    }

    #[test]
    fn bitbucket_is_fixed_and_uses_x_token_auth() {
        let p = expand("bitbucket", &url("https://bitbucket.org/team/")).unwrap();
        assert_eq!(p.username, "x-token-auth");
        assert_eq!(
            p.token_endpoint.as_str(),
            "https://bitbucket.org/site/oauth2/access_token"
        );
        assert_eq!(p.device_authorization_endpoint, None);
    }

    #[test]
    fn bitbucket_wants_key_and_secret_and_says_where_they_are() {
        let p = expand("bitbucket", &url("https://bitbucket.org/team/")).unwrap();
        assert_eq!(p.check_client("bitbucket", true, true), Ok(()));
        let no_secret = p.check_client("bitbucket", true, false).unwrap_err();
        assert!(no_secret.contains("needs client_secret"), "{no_secret}");
        assert!(no_secret.contains("confidential"), "{no_secret}");
        assert!(no_secret.contains("OAuth consumer"), "{no_secret}");
        let nothing = p.check_client("bitbucket", false, false).unwrap_err();
        assert!(
            nothing.contains("needs client_id and client_secret"),
            "{nothing}"
        );
        assert!(
            p.check_client("bitbucket", false, true)
                .unwrap_err()
                .contains("needs client_id,")
        );
    }

    #[test]
    fn entra_defaults_to_any_work_account_the_device_grant_and_azure_devops() {
        let p = expand("entra", &url("https://dev.azure.com/contoso/")).unwrap();
        assert_eq!(
            p.issuer,
            "https://login.microsoftonline.com/organizations/v2.0"
        );
        assert_eq!(
            p.authorization_endpoint.as_str(),
            "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize"
        );
        assert_eq!(
            p.token_endpoint.as_str(),
            "https://login.microsoftonline.com/organizations/oauth2/v2.0/token"
        );
        assert_eq!(
            p.device_authorization_endpoint.as_ref().unwrap().as_str(),
            "https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode"
        );
        assert_eq!(p.revocation_endpoint, None);
        assert_eq!(
            p.scopes,
            [
                "499b84ac-1321-427f-aa17-267ca6975798/.default",
                "offline_access"
            ]
        );
        assert_eq!(p.grant, GrantKind::DeviceCode);
        assert_eq!(p.username, "oauth2");
        let e = p.check_client("entra", false, false).unwrap_err();
        assert!(e.contains("needs client_id") && e.contains("Entra"), "{e}");
        assert_eq!(
            p.check_client("entra", true, false),
            Ok(()),
            "a public client"
        );
    }

    #[test]
    fn entra_puts_its_endpoints_under_the_tenant_written_in_the_issuer() {
        let ado = url("https://dev.azure.com/contoso/");
        for (issuer, authority) in [
            (
                "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
                "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47",
            ),
            (
                "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/",
                "https://login.microsoftonline.com/contoso.onmicrosoft.com",
            ),
            (
                "https://login.microsoftonline.us/contoso/v2.0",
                "https://login.microsoftonline.us/contoso",
            ),
            ("http://127.0.0.1:8080/t1/v2.0", "http://127.0.0.1:8080/t1"),
        ] {
            let p = for_entry("entra", &ado, Some(issuer)).unwrap();
            assert_eq!(p.issuer, issuer, "as written: part of the cache key");
            assert_eq!(
                p.token_endpoint.as_str(),
                format!("{authority}/oauth2/v2.0/token")
            );
            assert_eq!(
                p.device_authorization_endpoint.unwrap().as_str(),
                format!("{authority}/oauth2/v2.0/devicecode")
            );
        }
        for bad in [
            "https://login.microsoftonline.com/contoso",
            "https://login.microsoftonline.com/v2.0",
            "https://login.microsoftonline.com/a/b/v2.0",
            "https://login.microsoftonline.com/{tenantid}/v2.0",
            "https://login.microsoftonline.com/contoso/v2.0?x=1",
            "not a url",
        ] {
            let e = for_entry("entra", &ado, Some(bad)).unwrap_err();
            assert!(e.contains("<tenant>/v2.0"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_written_issuer_is_where_every_preset_puts_its_endpoints() {
        let loopback = "http://127.0.0.1:4000";
        let p = for_entry("bitbucket", &url("https://bitbucket.org/"), Some(loopback)).unwrap();
        assert_eq!(
            p.token_endpoint.as_str(),
            "http://127.0.0.1:4000/site/oauth2/access_token"
        );
        assert_eq!(p.issuer, loopback);
        // A GitLab under a path: the url's origin alone would miss it.
        let p = for_entry(
            "gitlab",
            &url("https://example.com/gitlab/group/"),
            Some("https://example.com/gitlab/"),
        )
        .unwrap();
        assert_eq!(
            p.authorization_endpoint.as_str(),
            "https://example.com/gitlab/oauth/authorize"
        );
        assert_eq!(p.issuer, "https://example.com/gitlab/");
        let p = for_entry("codeberg", &url("https://codeberg.org/"), Some(loopback)).unwrap();
        assert_eq!(
            p.authorization_endpoint.as_str(),
            "http://127.0.0.1:4000/login/oauth/authorize"
        );
    }

    #[test]
    fn gitea_and_forgejo_take_pkce_public_clients_and_ask_for_no_scope() {
        for name in ["gitea", "forgejo", "codeberg"] {
            let p = expand(name, &url("https://codeberg.org/")).unwrap();
            assert_eq!(p.grant, GrantKind::AuthorizationCode, "{name}");
            assert!(p.scopes.is_empty(), "{name}");
            assert_eq!(p.device_authorization_endpoint, None, "{name}");
            assert_eq!(p.check_client(name, false, false), Ok(()), "{name}");
        }
    }

    #[test]
    fn only_google_has_a_known_refresh_token_limit() {
        let limit = refresh_token_limit("https://accounts.google.com/").unwrap();
        assert_eq!(limit.lifetime, 7 * 24 * 3600);
        assert!(limit.applies.contains("Testing"), "{limit:?}");
        assert_eq!(
            refresh_token_limit("https://accounts.google.com.evil.example"),
            None
        );
        assert_eq!(
            refresh_token_limit("https://login.microsoftonline.com/organizations/v2.0"),
            None
        );
    }

    /// A config file with `entry` as its one provider, read as `credential-oauth` reads it.
    fn provider(entry: &str) -> Result<std::sync::Arc<crate::config::Provider>, String> {
        let text = format!("[[provider]]\n{entry}");
        crate::config::Config::parse(&text, std::path::Path::new("/etc/co.toml"))
            .map(|mut c| c.providers.remove(0))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_config_names_the_entry_and_the_missing_client_key() {
        let bitbucket = "url = \"https://bitbucket.org/\"\npreset = \"bitbucket\"\n";
        let e = provider(&format!("{bitbucket}client_id = \"key\"\n")).unwrap_err();
        assert!(
            e.starts_with("/etc/co.toml: provider #1: preset \"bitbucket\" needs client_secret"),
            "{e}"
        );
        assert!(e.contains("needs client_secret"), "{e}");
        assert!(!e.contains("  ") && !e.contains('\n'), "{e:?}");
        let p = provider(&format!(
            "{bitbucket}client_id = \"key\"\nclient_secret = \"s\"\n"
        ))
        .unwrap();
        assert_eq!(p.username, "x-token-auth");
        assert_eq!(p.grant, GrantKind::AuthorizationCode);
        let e = provider("url = \"https://dev.azure.com/\"\npreset = \"entra\"\n").unwrap_err();
        assert!(e.contains("needs client_id"), "{e}");
        assert!(!e.contains("  "), "{e:?}");
    }

    #[test]
    fn an_entra_entry_keeps_its_issuer_and_the_presets_endpoints_under_it() {
        let p = provider(
            "url = \"https://dev.azure.com/contoso/\"\npreset = \"entra\"\nclient_id = \"app\"\n\
             issuer = \"https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0\"\n",
        )
        .unwrap();
        assert_eq!(
            p.issuer,
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0"
        );
        assert_eq!(p.grant, GrantKind::DeviceCode);
        assert_eq!(
            p.endpoints.device_authorization.as_ref().unwrap().as_str(),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/devicecode"
        );
        assert_eq!(p.scopes, [AZURE_DEVOPS_SCOPE, "offline_access"]);
        let e = provider(
            "url = \"https://dev.azure.com/\"\npreset = \"entra\"\nclient_id = \"app\"\n\
             issuer = \"https://login.microsoftonline.com/contoso\"\n",
        )
        .unwrap_err();
        assert!(e.contains("<tenant>/v2.0"), "{e}");
    }

    #[test]
    fn unknown_preset_is_named() {
        let e = expand("sourceforge", &url("https://a/")).unwrap_err();
        assert!(e.contains("sourceforge") && e.contains("gitlab"), "{e}");
        assert!(e.contains("entra"), "{e}");
    }
}
