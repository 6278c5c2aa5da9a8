//! Matching a request to a provider (DESIGN.md "Config", Matching): scheme,
//! host and port equal, the provider's path a prefix of the request's on
//! whole segments, the longest match wins; a caller that speaks to a
//! whole host (docker, Terraform) only through a provider for that host.

use super::{Config, Provider};
use std::sync::Arc;
use url::Url;

impl Config {
    /// The provider for `url`: scheme, host and port equal, the provider's
    /// path a prefix of the request's (whole segments), longest match wins.
    pub fn provider_for(&self, url: &Url) -> Option<&Arc<Provider>> {
        self.providers
            .iter()
            .filter(|p| url_matches(&p.url, url))
            .max_by_key(|p| p.url.path().trim_end_matches('/').len())
    }
}

/// `host[:port]` as callers write a server: git's `host=`, a docker
/// registry, an entry of `discover_hosts`. The port is written only when
/// given (`url::Url::port` leaves out the scheme's default).
pub fn host_and_port(host: &str, port: Option<u16>) -> String {
    match port {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// Where a caller that speaks to a whole host sends its token (docker
/// and the OCI clients, Terraform): `https://host[:port]/` for a bare
/// `host[:port]`, and for a URL its scheme, host and port with the path
/// dropped, as docker's `ConvertToHostname` drops it (DESIGN.md
/// "Config", Matching). `None` when the address names no host, or holds
/// a user name or password (which is never echoed anywhere).
pub fn host_url(server: &str) -> Option<Url> {
    let server = server.trim();
    if !server.contains("://") {
        return server_host(server);
    }
    let url = Url::parse(server).ok()?;
    if !url.username().is_empty() || url.password().is_some() || !url.has_host() {
        return None;
    }
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    Url::parse(&format!("{}/", url.origin().ascii_serialization())).ok()
}

/// The `https://host[:port]/` a docker server address names: its scheme and
/// path dropped, as docker's `ConvertToHostname` does; `None` when what is
/// left is not a host (empty, or holding a user name or stray characters).
pub fn server_host(server: &str) -> Option<Url> {
    let server = server.trim();
    let rest = server.split_once("://").map_or(server, |(_, rest)| rest);
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || host.contains(['@', '?', '#', '\\']) || host.contains(char::is_whitespace)
    {
        return None;
    }
    let url = Url::parse(&format!("https://{host}/")).ok()?;
    url.host().is_some().then_some(url)
}

/// Whether `place` lies inside the provider `url`: scheme, host and port
/// equal, and the provider's path a prefix of the place's on whole
/// segments (DESIGN.md "Trust", the audience rule).
pub fn covers(provider: &Url, place: &Url) -> bool {
    url_matches(provider, place)
}

fn url_matches(provider: &Url, request: &Url) -> bool {
    if provider.scheme() != request.scheme()
        || provider.host() != request.host()
        || provider.port_or_known_default() != request.port_or_known_default()
    {
        return false;
    }
    path_covers(provider.path(), request.path())
}

/// Whether the URL path `prefix` is `path` or a prefix of it on whole
/// segments: `/org` covers `/org` and `/org/repo`, not `/organisation`. A
/// trailing `/` on `prefix` changes nothing (DESIGN.md "Matching"; RFC 9728
/// §3.3 for a resource's path).
pub fn path_covers(prefix: &str, path: &str) -> bool {
    path.strip_prefix(prefix.trim_end_matches('/'))
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port_writes_the_port_only_when_given() {
        assert_eq!(host_and_port("git.example", None), "git.example");
        assert_eq!(host_and_port("git.example", Some(8443)), "git.example:8443");
        let url = url::Url::parse("https://[::1]:443/").unwrap();
        assert_eq!(host_and_port(url.host_str().unwrap(), url.port()), "[::1]");
    }
    use std::path::Path;

    fn parse(text: &str) -> crate::error::Result<Config> {
        Config::parse(text, Path::new("/etc/co.toml"))
    }

    use crate::config::tests::TWO;

    #[test]
    fn path_covers_whole_segments_only() {
        assert!(path_covers("/org", "/org"));
        assert!(path_covers("/org/", "/org/repo.git"));
        assert!(path_covers("/", "/anything"));
        assert!(path_covers("", "/"));
        assert!(!path_covers("/org", "/organisation"));
        assert!(!path_covers("/org/repo", "/org"));
    }

    #[test]
    fn longest_path_prefix_wins_and_whole_segments_only() {
        let c = parse(TWO).unwrap();
        let name = |u: &str| {
            c.provider_for(&Url::parse(u).unwrap())
                .map(|p| p.name.as_str())
        };
        assert_eq!(name("https://git.example.com/team/repo.git"), Some("team"));
        assert_eq!(name("https://git.example.com/team"), Some("team"));
        assert_eq!(name("https://git.example.com/teammate/x"), Some("root"));
        assert_eq!(name("https://git.example.com/"), Some("root"));
        assert_eq!(name("https://git.example.com:443/x"), Some("root"));
        assert_eq!(name("https://GIT.example.com/x"), Some("root"));
        assert_eq!(name("http://git.example.com/x"), None);
        assert_eq!(name("https://git.example.com:8443/x"), None);
        assert_eq!(name("https://other.example.com/"), None);
    }

    #[test]
    fn a_server_url_with_an_empty_path_matches_a_provider_url_ending_in_slash() {
        // kubectl's cluster server is `https://host:port`, no path (DESIGN.md
        // "Wire formats", kubernetes); a URL parser gives it the path `/`.
        let c = parse(
            "[[provider]]\nname = \"k8s\"\nurl = \"https://127.0.0.1:6443/\"\nissuer = \"https://a\"\n\n\
             [[provider]]\nname = \"bare\"\nurl = \"https://10.0.0.1:6443\"\nissuer = \"https://a\"\n",
        )
        .unwrap();
        let name = |u: &str| {
            c.provider_for(&Url::parse(u).unwrap())
                .map(|p| p.name.as_str())
        };
        assert_eq!(name("https://127.0.0.1:6443"), Some("k8s"));
        assert_eq!(name("https://127.0.0.1:6443/"), Some("k8s"));
        assert_eq!(name("https://127.0.0.1:6443/api"), Some("k8s"));
        assert_eq!(name("https://127.0.0.1:6444"), None);
        assert_eq!(name("https://10.0.0.1:6443"), Some("bare"));
    }

    #[test]
    fn a_whole_host_is_served_only_by_a_provider_for_that_whole_host() {
        let c = parse(
            r#"
            [[provider]]
            name = "registry"
            url = "https://registry.example.com/"
            issuer = "https://auth.example.com"
            client_id = "abc"

            [[provider]]
            name = "registry-team"
            url = "https://registry.example.com/team"
            issuer = "https://auth.example.com"
            client_id = "abc"

            [[provider]]
            name = "local"
            url = "http://127.0.0.1:5000/"
            issuer = "https://auth.example.com"
            client_id = "abc"

            [[provider]]
            name = "team-only"
            url = "https://team.example.com/team/"
            issuer = "https://auth.example.com"
            client_id = "abc"

            [[provider]]
            name = "hub"
            url = "https://index.docker.io/"
            issuer = "https://auth.example.com"
            client_id = "abc"
        "#,
        )
        .unwrap();
        let name = |s: &str| {
            host_url(s)
                .and_then(|u| c.provider_for(&u))
                .map(|p| p.name.as_str())
        };
        // Bare hosts are https, port 443 when none is given.
        assert_eq!(name("registry.example.com"), Some("registry"));
        assert_eq!(name(" Registry.Example.COM\n"), Some("registry"));
        assert_eq!(name("registry.example.com:443"), Some("registry"));
        assert_eq!(name("registry.example.com:5000"), None);
        // A bare host never reaches an http provider, nor one with a path:
        // the caller sends the token to the whole host over https.
        assert_eq!(name("127.0.0.1:5000"), None);
        assert_eq!(name("team.example.com"), None);
        assert_eq!(name("127.0.0.1"), None);
        // URLs keep their scheme and lose their path, as docker's do.
        assert_eq!(name("https://index.docker.io/v1/"), Some("hub"));
        assert_eq!(name("https://registry.example.com"), Some("registry"));
        assert_eq!(
            name("https://registry.example.com/team/x"),
            Some("registry")
        );
        assert_eq!(name("https://team.example.com/team/x"), None);
        assert_eq!(name("http://registry.example.com"), None);
        assert_eq!(name("http://127.0.0.1:5000"), Some("local"));
        assert_eq!(name("https://127.0.0.1:5000"), None);
        // Not a host at all.
        for bad in [
            "",
            "   ",
            "user@registry.example.com",
            "https://user:pw@registry.example.com/",
            "a b",
            "https://",
            "/v2/",
            "ftp://registry.example.com/",
        ] {
            assert_eq!(name(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn server_host_drops_scheme_and_path() {
        let host = |s: &str| server_host(s).map(|u| u.as_str().to_string());
        assert_eq!(
            host("https://index.docker.io/v1/").as_deref(),
            Some("https://index.docker.io/")
        );
        assert_eq!(
            host("127.0.0.1:5000").as_deref(),
            Some("https://127.0.0.1:5000/")
        );
        assert_eq!(
            host("http://REG.example.com:443/x").as_deref(),
            Some("https://reg.example.com/")
        );
        assert_eq!(host("[::1]:5000").as_deref(), Some("https://[::1]:5000/"));
        assert_eq!(host("a@b"), None);
        assert_eq!(host(""), None);
    }
}
