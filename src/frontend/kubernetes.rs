//! kubectl's (client-go's) exec credential plugin: `credential-oauth
//! kubernetes [URL]`, run by a kubeconfig's `exec` section. The request is
//! in `KUBERNETES_EXEC_INFO`, the answer an ExecCredential on stdout;
//! stdout is kubectl's, so a person is talked to only through the
//! [`Prompt`](crate::prompt::Prompt) (stderr and `/dev/tty`).

use crate::context::{Answer, Context};
use crate::error::{Error, Result};
use crate::prompt::escape;
use crate::protocol::exec_credential::{self, ApiVersion, Request, Response};
use crate::token::{self, Credential};
use std::io::Write;

/// Answer kubectl: the token for `url` (the argument), else for the
/// cluster's server (`provideClusterInfo: true`).
pub fn run(url: Option<&str>, ctx: &Context, stdout: &mut dyn Write) -> Result<()> {
    let info = std::env::var_os(exec_credential::EXEC_INFO).filter(|v| !v.is_empty());
    // Checked before it is copied anywhere; the parser checks again.
    if info
        .as_ref()
        .is_some_and(|v| v.len() > exec_credential::MAX_EXEC_INFO)
    {
        return Err(Error::Input(format!(
            "{} is larger than {} KiB",
            exec_credential::EXEC_INFO,
            exec_credential::MAX_EXEC_INFO / 1024
        )));
    }
    let info = info.map(std::ffi::OsString::into_encoded_bytes);
    answer(url, info.as_deref(), ctx, stdout)
}

/// [`run`] with the request given: `KUBERNETES_EXEC_INFO`'s bytes, `None`
/// when it is unset (run by hand: the v1 answer, and the terminal decides
/// whether someone can be asked).
pub fn answer(
    url: Option<&str>,
    exec_info: Option<&[u8]>,
    ctx: &Context,
    stdout: &mut dyn Write,
) -> Result<()> {
    let request = match exec_info {
        Some(bytes) => Request::parse(bytes)?,
        None => Request {
            api_version: ApiVersion::V1,
            interactive: None,
            server: None,
        },
    };
    let url_arg = url;
    let url = url.or(request.server.as_deref()).ok_or_else(|| {
        Error::Usage(
            "kubernetes: no cluster URL; give it as the argument (args: [\"kubernetes\", URL]) \
             or set provideClusterInfo: true in the kubeconfig's exec section"
                .into(),
        )
    })?;
    // kubectl's `interactive: false` (interactiveMode Never, or no terminal
    // on its stdin): nobody to ask, so no login starts, but a refresh runs
    // (DESIGN.md "People in the loop").
    if request.interactive == Some(false) {
        ctx.forbid_prompts();
    }
    // With both the argument and the cluster, kubectl sends the token to
    // the cluster: a merged kubeconfig can pair this user with anyone's
    // server, so the provider for the URL must be the one for the cluster
    // too (DESIGN.md "Trust").
    let cluster = match (url_arg, request.server.as_deref()) {
        (Some(_), Some(server)) => vec![cluster_url(server)?],
        _ => Vec::new(),
    };
    let wanted = crate::resolver::Request {
        destinations: cluster,
        ..crate::resolver::Request::command(url)?
    };
    let answer = ctx.answer_with(&wanted, |manager, binding| {
        let which = binding.provider.kubernetes_token();
        crate::debug!(
            "kubectl gets the {}",
            match which {
                Credential::AccessToken => "access token",
                Credential::IdToken => "ID token",
            }
        );
        manager.token_for(binding, which)
    })?;
    let (binding, fetched) = match answer {
        Answer::Token(binding, fetched) => (binding, fetched),
        Answer::NotMine => return Err(Error::NoProvider(wanted.url.to_string())),
        Answer::NotFound(line) => return Err(Error::NotFound(line)),
    };
    let which = binding.provider.kubernetes_token();
    let (token, deadline) = match which {
        Credential::AccessToken => (fetched.token.access_token.clone(), fetched.token.deadline()),
        Credential::IdToken => match (&fetched.token.id_token, fetched.token.deadline_of(which)) {
            (Some(id_token), Some(deadline)) => (id_token.clone(), Some(deadline)),
            _ => {
                return Err(Error::BadAnswer(format!(
                    "{}: the authorization server sent no usable ID token; ask for the openid \
                     scope, or set kubernetes_token = \"access_token\" for this provider",
                    escape(&binding.provider.name)
                )));
            }
        },
    };
    Response {
        api_version: request.api_version,
        token,
        // Without a deadline client-go keeps the token until a 401.
        expiration: deadline.map(|d| ask_again_at(d, token::now())),
    }
    .write_to(stdout)
}

/// `cluster.server` as a place the token goes: an http(s) URL with a host.
fn cluster_url(server: &str) -> Result<url::Url> {
    url::Url::parse(server)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
        .ok_or_else(|| {
            Error::Input(format!(
                "kubernetes: the cluster server {:?} is not an http(s) URL; no token",
                crate::http::printable(server, 200)
            ))
        })
}

/// When client-go should run the plugin again: when this helper would stop
/// handing the token out (its deadline less [`token::REFRESH_MARGIN`], as
/// cargo is told), so a long-running client never sends a token in its
/// last minute. A token already inside that minute (another process's, or
/// kept because a refresh failed) is good until its deadline.
pub(super) fn ask_again_at(deadline: u64, now: u64) -> u64 {
    let renew = deadline.saturating_sub(token::REFRESH_MARGIN);
    if renew > now { renew } else { deadline }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prompt::{Terminal, Unattended};

    #[test]
    fn client_go_asks_again_a_minute_before_the_deadline() {
        assert_eq!(ask_again_at(10_000, 1_000), 10_000 - token::REFRESH_MARGIN);
        assert_eq!(ask_again_at(1_030, 1_000), 1_030);
    }

    #[test]
    fn without_an_argument_or_cluster_info_there_is_no_url() {
        let info = br#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}"#;
        let mut out = Vec::new();
        let ctx = Context::new(&Terminal, &Unattended(&Terminal));
        let e = answer(None, Some(info), &ctx, &mut out).unwrap_err();
        assert!(matches!(e, Error::Usage(_)), "{e}");
        assert!(e.to_string().contains("provideClusterInfo"), "{e}");
        assert!(out.is_empty());
    }

    #[test]
    fn a_malformed_request_is_refused_before_anything_else() {
        let mut out = Vec::new();
        let ctx = Context::new(&Terminal, &Unattended(&Terminal));
        let e = answer(Some("https://k8s.example/"), Some(b"{"), &ctx, &mut out).unwrap_err();
        assert!(matches!(e, Error::Input(_)), "{e}");
        assert!(out.is_empty());
    }
}
