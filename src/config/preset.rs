//! Known forges: the endpoints, scopes, username convention and grant a
//! public client uses there, so a provider entry needs only `url`, `preset`
//! and `client_id`. Explicit keys in the entry win over the preset. No client
//! id ships here: each user registers their own OAuth app.

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
}

/// The names accepted by `preset = "…"`.
pub const NAMES: &[&str] = &[
    "github",
    "gitlab",
    "bitbucket",
    "codeberg",
    "gitea",
    "forgejo",
];

/// The preset `name` for a provider whose url is `url`. Self-hosted forges
/// (GitLab, Gitea, Forgejo, GitHub Enterprise Server) take their endpoints
/// from the url's origin; bitbucket.org and codeberg.org are fixed.
pub fn expand(name: &str, url: &Url) -> Result<Preset, String> {
    let origin = url.origin().ascii_serialization();
    let at = |base: &str, path: &str| -> Result<Url, String> {
        Url::parse(&format!("{base}{path}")).map_err(|e| format!("preset {name:?}: {e}"))
    };
    let words = |s: &[&str]| s.iter().map(|w| w.to_string()).collect::<Vec<_>>();
    match name {
        // GitHub OAuth apps: the device flow needs only the client id (enable
        // "Device Flow" in the app's settings); the web flow also wants the
        // client secret. Any non-empty username works with a token.
        "github" => Ok(Preset {
            issuer: origin.clone(),
            authorization_endpoint: at(&origin, "/login/oauth/authorize")?,
            token_endpoint: at(&origin, "/login/oauth/access_token")?,
            device_authorization_endpoint: Some(at(&origin, "/login/device/code")?),
            revocation_endpoint: None,
            scopes: words(&["repo"]),
            username: "x-access-token".into(),
            grant: GrantKind::DeviceCode,
        }),
        // GitLab (gitlab.com or self-managed): authorization code with PKCE
        // for non-confidential apps; device grant from 17.2 (behind a flag; on by default from 17.3); username oauth2.
        "gitlab" => Ok(Preset {
            issuer: origin.clone(),
            authorization_endpoint: at(&origin, "/oauth/authorize")?,
            token_endpoint: at(&origin, "/oauth/token")?,
            device_authorization_endpoint: Some(at(&origin, "/oauth/authorize_device")?),
            revocation_endpoint: Some(at(&origin, "/oauth/revoke")?),
            scopes: words(&["read_repository", "write_repository"]),
            username: "oauth2".into(),
            grant: GrantKind::AuthorizationCode,
        }),
        // Bitbucket Cloud: consumers are always confidential (key + secret);
        // git takes the token with the username x-token-auth.
        "bitbucket" => Ok(Preset {
            issuer: "https://bitbucket.org".into(),
            authorization_endpoint: at("https://bitbucket.org", "/site/oauth2/authorize")?,
            token_endpoint: at("https://bitbucket.org", "/site/oauth2/access_token")?,
            device_authorization_endpoint: None,
            revocation_endpoint: None,
            scopes: words(&["repository", "repository:write"]),
            username: "x-token-auth".into(),
            grant: GrantKind::AuthorizationCode,
        }),
        // Gitea and Forgejo (Codeberg runs Forgejo): authorization code with
        // PKCE for public ("non-confidential") apps; scopes are not needed.
        "gitea" | "forgejo" | "codeberg" => {
            let base = if name == "codeberg" {
                "https://codeberg.org".to_string()
            } else {
                origin
            };
            Ok(Preset {
                issuer: base.clone(),
                authorization_endpoint: at(&base, "/login/oauth/authorize")?,
                token_endpoint: at(&base, "/login/oauth/access_token")?,
                device_authorization_endpoint: None,
                revocation_endpoint: None,
                scopes: Vec::new(),
                username: "oauth2".into(),
                grant: GrantKind::AuthorizationCode,
            })
        }
        other => Err(format!(
            "preset: {other:?} is not one of {}",
            NAMES.join(", ")
        )),
    }
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
    fn unknown_preset_is_named() {
        let e = expand("sourceforge", &url("https://a/")).unwrap_err();
        assert!(e.contains("sourceforge") && e.contains("gitlab"), "{e}");
    }
}
