//! How a workload proves itself without a stored secret: a client
//! assertion (RFC 7523, signed here, read from a file, or a CI platform's
//! OIDC token) and a token exchange's subject (RFC 8693), read from their
//! entry's keys.

use super::schema::RawProvider;
use super::{AuthMethod, CiPlatform, ClientAssertion, GrantKind, SubjectToken, TokenExchange};
use std::path::PathBuf;

/// The client assertion the entry configures, checked against
/// `token_endpoint_auth_method`, `client_id` and `client_secret`; sets the
/// method to `private_key_jwt` when the entry leaves it out.
pub(super) fn client_assertion(
    raw: &mut RawProvider,
) -> std::result::Result<Option<ClientAssertion>, String> {
    let absolute = |field: &str, path: &PathBuf| {
        if path.is_absolute() {
            Ok(())
        } else {
            Err(format!(
                "{field}: {:?} must be an absolute path",
                path.display()
            ))
        }
    };
    let platform = ci_platform(raw)?;
    let given = [
        raw.private_key_file.is_some(),
        raw.client_assertion_file.is_some(),
        platform.is_some(),
    ];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(
            "private_key_file, client_assertion_file and client_assertion are ways to make the \
             client's assertion; set one"
                .into(),
        );
    }
    let assertion = if let Some(file) = raw.private_key_file.take() {
        absolute("private_key_file", &file)?;
        Some(ClientAssertion::PrivateKey {
            file,
            key_id: raw.key_id.take(),
        })
    } else if let Some(file) = raw.client_assertion_file.take() {
        absolute("client_assertion_file", &file)?;
        Some(ClientAssertion::File(file))
    } else {
        platform.map(ClientAssertion::Platform)
    };
    if raw.key_id.is_some() {
        return Err("key_id: names the key of private_key_file, which is not set".into());
    }
    match (&assertion, raw.token_endpoint_auth_method) {
        (None, Some(AuthMethod::PrivateKeyJwt)) => {
            return Err(
                "token_endpoint_auth_method = \"private_key_jwt\" needs private_key_file, \
                 client_assertion_file or client_assertion"
                    .into(),
            );
        }
        (Some(_), None | Some(AuthMethod::PrivateKeyJwt)) => {
            raw.token_endpoint_auth_method = Some(AuthMethod::PrivateKeyJwt);
        }
        (Some(_), Some(_)) => {
            return Err(
                "a client assertion (private_key_file, client_assertion_file, client_assertion) \
                 needs token_endpoint_auth_method = \"private_key_jwt\" (or none written)"
                    .into(),
            );
        }
        (None, _) => {}
    }
    if assertion.is_some() {
        if raw.client_id.is_none() {
            return Err("a client assertion needs client_id (its iss and sub)".into());
        }
        if raw.client_secret.is_some() {
            return Err(
                "client_secret and a client assertion are two ways to authenticate; set one".into(),
            );
        }
    }
    Ok(assertion)
}

/// `client_assertion` with its `client_assertion_audience` and
/// `client_assertion_variable`.
fn ci_platform(raw: &mut RawProvider) -> std::result::Result<Option<CiPlatform>, String> {
    ci_platform_of(
        "client_assertion",
        raw.client_assertion.take(),
        raw.client_assertion_audience.take(),
        raw.client_assertion_variable.take(),
    )
}

/// `<field>` naming a CI platform, with `<field>_audience` and
/// `<field>_variable`.
fn ci_platform_of(
    field: &str,
    platform: Option<String>,
    audience: Option<String>,
    variable: Option<String>,
) -> std::result::Result<Option<CiPlatform>, String> {
    let platform = match platform.as_deref() {
        None if audience.is_some() || variable.is_some() => {
            return Err(format!(
                "{field}_audience and {field}_variable need {field}"
            ));
        }
        None => return Ok(None),
        Some("github-actions") => {
            if variable.is_some() {
                return Err(format!(
                    "{field}_variable: GitHub Actions has no such variable; set {field}_audience"
                ));
            }
            CiPlatform::GitHubActions { audience }
        }
        Some("gitlab-ci") => {
            if audience.is_some() {
                return Err(format!(
                    "{field}_audience: GitLab CI sets the audience in the job \
                     (id_tokens: NAME: aud:), not here"
                ));
            }
            let variable = variable.ok_or_else(|| {
                format!(
                    "{field} = \"gitlab-ci\" needs {field}_variable, the name the job gives \
                     the token under id_tokens:"
                )
            })?;
            if variable.is_empty()
                || !variable
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                return Err(format!("{field}_variable: must be a variable name"));
            }
            CiPlatform::GitLabCi { variable }
        }
        Some(other) => {
            return Err(format!(
                "{field}: {other:?} is not one of github-actions, gitlab-ci"
            ));
        }
    };
    Ok(Some(platform))
}

/// RFC 8693 §2.1 parameters, for `grant = "token_exchange"` only.
pub(super) fn token_exchange(
    raw: &mut RawProvider,
    grant: GrantKind,
) -> std::result::Result<Option<TokenExchange>, String> {
    let platform = ci_platform_of(
        "subject_token",
        raw.subject_token.take(),
        raw.subject_token_audience.take(),
        raw.subject_token_variable.take(),
    )?;
    let file = raw.subject_token_file.take();
    let subject = match (file, platform) {
        (Some(_), Some(_)) => {
            return Err("subject_token_file and subject_token: set one".into());
        }
        (Some(file), None) => {
            if !file.is_absolute() {
                return Err(format!(
                    "subject_token_file: {:?} must be an absolute path",
                    file.display()
                ));
            }
            Some(SubjectToken::File(file))
        }
        (None, Some(platform)) => Some(SubjectToken::Platform(platform)),
        (None, None) => None,
    };
    let others = [
        ("subject_token_type", raw.subject_token_type.take()),
        ("audience", raw.audience.take()),
        ("resource", raw.resource.take()),
        ("requested_token_type", raw.requested_token_type.take()),
    ];
    if grant != GrantKind::TokenExchange {
        if let Some(name) = others
            .iter()
            .find(|(_, v)| v.is_some())
            .map(|(n, _)| *n)
            .or(subject.as_ref().map(|_| "subject_token"))
        {
            return Err(format!("{name}: only for grant = \"token_exchange\""));
        }
        return Ok(None);
    }
    let subject = subject.ok_or(
        "grant = \"token_exchange\" needs subject_token_file or subject_token \
         (github-actions, gitlab-ci)",
    )?;
    let [subject_token_type, audience, resource, requested_token_type] = others.map(|(_, v)| v);
    Ok(Some(TokenExchange {
        subject,
        subject_token_type: subject_token_type
            .unwrap_or_else(|| "urn:ietf:params:oauth:token-type:jwt".into()),
        audience,
        resource,
        requested_token_type,
    }))
}
