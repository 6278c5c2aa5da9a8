//! Real servers' shapes: the generic server with the paths, answers and
//! rules one real authorization server has, each written from that
//! server's own documentation (cited on each). A shape sets what its server
//! always does; what depends on the account or the app (clients, their
//! redirect URIs) is left to the test, as it is left to the person who
//! registers an app.
//!
//! Every real server sits at an https origin of its own; a shape serves its
//! paths on this loopback origin instead, so a client configured with the
//! real paths under this origin meets what it would meet there.

use crate::{MetadataMode, TestServer};

impl TestServer {
    /// Microsoft Entra ID's v2.0 endpoints for `tenant` (a tenant id, a
    /// domain, or the aliases `common`, `organizations`, `consumers`):
    ///
    /// - issuer `<origin>/<tenant>/v2.0`; OpenID Connect metadata only, at
    ///   `<issuer>/.well-known/openid-configuration`; for `common` and
    ///   `organizations` its `issuer` is the literal template
    ///   `<origin>/{tenantid}/v2.0`, as Microsoft documents for the
    ///   multi-tenant aliases;
    /// - `/<tenant>/oauth2/v2.0/authorize`, `/token`, `/devicecode`; the
    ///   person enters the code at `/devicelogin`; no revocation (RFC 7009),
    ///   introspection or registration endpoint;
    /// - a refresh token only when the scope asked for holds
    ///   `offline_access`; a refresh hands out a new refresh token;
    /// - access tokens live between 60 and 90 minutes (75 on average): 75
    ///   here, with `ext_expires_in` beside `expires_in`;
    /// - device answers carry `message` and no `verification_uri_complete`.
    ///
    /// Sources: learn.microsoft.com/entra/identity-platform
    /// (v2-protocols-oidc, v2-oauth2-auth-code-flow, v2-oauth2-device-code,
    /// access-tokens, refresh-tokens).
    pub fn start_entra(tenant: &str) -> std::io::Result<TestServer> {
        let server = TestServer::start()?;
        let base = format!("/{tenant}/oauth2/v2.0");
        server.set_issuer_path(&format!("/{tenant}/v2.0"));
        server.set_metadata_mode(MetadataMode::OidcOnly);
        if matches!(tenant, "common" | "organizations") {
            let template = format!("{}/{{tenantid}}/v2.0", server.origin());
            server.set_metadata_issuer(Some(&template));
        }
        server.set_endpoint_path("authorize", Some(&format!("{base}/authorize")));
        server.set_endpoint_path("token", Some(&format!("{base}/token")));
        server.set_endpoint_path("device_authorization", Some(&format!("{base}/devicecode")));
        server.set_endpoint_path("device_verify", Some("/devicelogin"));
        for absent in ["register", "revoke", "introspect", "userinfo"] {
            server.set_endpoint_path(absent, None);
        }
        server.set_registration(false);
        server.set_refresh_token_scope(Some("offline_access"));
        server.set_rotate_refresh_tokens(true);
        server.set_token_lifetime(Some(75 * 60));
        server.add_token_answer_field("ext_expires_in", (75 * 60).into());
        server.set_device_uri_complete(false);
        server.set_device_message(true);
        Ok(server)
    }

    /// Gitea, and Forgejo (Codeberg runs it), as an OAuth2 provider:
    ///
    /// - `/login/oauth/authorize`, `/login/oauth/access_token`,
    ///   `/login/oauth/userinfo`; OpenID Connect metadata at
    ///   `/.well-known/openid-configuration`; no device grant, registration,
    ///   revocation or introspection;
    /// - public clients must use PKCE (S256); a public client's loopback
    ///   redirect URI such as `http://127.0.0.1/` matches any port;
    /// - access tokens live an hour (`ACCESS_TOKEN_EXPIRATION_TIME` = 3600 s
    ///   by default), come with a refresh token, and a refresh hands out a
    ///   new refresh token;
    /// - `token_type` is `bearer`.
    ///
    /// Sources: docs.gitea.com/development/oauth2-provider and the config
    /// cheat sheet's `[oauth2]` section; forgejo.org/docs/latest/user/oauth2-provider.
    pub fn start_gitea() -> std::io::Result<TestServer> {
        let server = TestServer::start()?;
        server.set_metadata_mode(MetadataMode::OidcOnly);
        server.set_endpoint_path("authorize", Some("/login/oauth/authorize"));
        server.set_endpoint_path("token", Some("/login/oauth/access_token"));
        server.set_endpoint_path("userinfo", Some("/login/oauth/userinfo"));
        for absent in ["device_authorization", "register", "revoke", "introspect"] {
            server.set_endpoint_path(absent, None);
        }
        server.set_device_grant(false);
        server.set_registration(false);
        server.set_token_lifetime(Some(3600));
        server.set_rotate_refresh_tokens(true);
        server.set_token_type("bearer");
        Ok(server)
    }

    /// Bitbucket Cloud's OAuth 2.0 consumers:
    ///
    /// - `/site/oauth2/authorize`, `/site/oauth2/access_token`; no
    ///   published metadata, device grant, registration or revocation;
    /// - every consumer has a key and a secret, sent with HTTP Basic at the
    ///   token endpoint for the code and for a refresh;
    /// - PKCE is not documented: its parameters are ignored;
    /// - access tokens expire in two hours and come with a refresh token,
    ///   which a refresh does not replace;
    /// - the answer names the granted scopes `scopes` and the type `bearer`.
    ///
    /// Sources: developer.atlassian.com/cloud/bitbucket/oauth-2 and
    /// support.atlassian.com/bitbucket-cloud/docs/use-oauth-on-bitbucket-cloud.
    pub fn start_bitbucket() -> std::io::Result<TestServer> {
        let server = TestServer::start()?;
        server.set_metadata_mode(MetadataMode::None);
        server.set_endpoint_path("authorize", Some("/site/oauth2/authorize"));
        server.set_endpoint_path("token", Some("/site/oauth2/access_token"));
        for absent in [
            "device_authorization",
            "device_verify",
            "register",
            "revoke",
            "introspect",
            "userinfo",
        ] {
            server.set_endpoint_path(absent, None);
        }
        server.set_device_grant(false);
        server.set_registration(false);
        server.set_auth_methods_supported(&["client_secret_basic"]);
        server.set_pkce_required(false);
        server.set_token_lifetime(Some(2 * 3600));
        server.set_rotate_refresh_tokens(false);
        server.set_token_type("bearer");
        server.set_scope_field("scopes");
        Ok(server)
    }

    /// Google's OAuth 2.0 for installed apps:
    ///
    /// - `/o/oauth2/v2/auth`, token `/token` (on oauth2.googleapis.com in
    ///   truth, here on the one origin), device `/device/code`, revocation
    ///   `/revoke`; OpenID Connect metadata;
    /// - access tokens live an hour (`expires_in` 3599); a refresh token
    ///   comes with the code exchange, and a refresh does not replace it.
    ///
    /// Sources: developers.google.com/identity/protocols/oauth2 and its
    /// native-app and limited-input-device pages.
    pub fn start_google() -> std::io::Result<TestServer> {
        let server = TestServer::start()?;
        server.set_metadata_mode(MetadataMode::OidcOnly);
        server.set_endpoint_path("authorize", Some("/o/oauth2/v2/auth"));
        server.set_endpoint_path("device_authorization", Some("/device/code"));
        for absent in ["register", "introspect"] {
            server.set_endpoint_path(absent, None);
        }
        server.set_registration(false);
        server.set_token_lifetime(Some(3599));
        server.set_rotate_refresh_tokens(false);
        Ok(server)
    }

    /// `http://127.0.0.1:PORT`, without the issuer path: where every path
    /// of a shape is served.
    pub fn origin(&self) -> String {
        self.issuer.clone()
    }
}
