//! Client credentials grant (RFC 6749 §4.4): a confidential client gets a
//! token for itself, with no person involved.

use super::{Client, scope_param, token_request};
use crate::discovery::authorization_server::Metadata;
use crate::error::Result;
use crate::http::Http;
use crate::token::Token;

/// RFC 6749 §4.4.2.
pub fn obtain(http: &Http, meta: &Metadata, client: &Client, scopes: &[String]) -> Result<Token> {
    let scope = scope_param(scopes);
    let mut form = vec![("grant_type", "client_credentials")];
    if let Some(s) = &scope {
        form.push(("scope", s));
    }
    token_request(http, meta, client, &form)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resource_indicator_goes_with_the_token_request() {
        let (http, sent) = scripted::http(&[(200, TOKEN)]);
        let client = Client {
            resource: Some("https://mcp.example/mcp".into()),
            ..confidential(AuthMethod::ClientSecretPost)
        };
        obtain(&http, &metadata(), &client, &[]).unwrap();
        assert_eq!(
            body(&sent.only()),
            "grant_type=client_credentials&resource=https%3A%2F%2Fmcp.example%2Fmcp\
             &client_id=app&client_secret=s3cret"
        );
    }
    use crate::config::AuthMethod;
    use crate::error::Error;
    use crate::grant::examples::{BASIC, TOKEN, confidential, metadata};
    use crate::http::scripted::{self, COMMON, body, headers};

    const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

    #[test]
    fn basic_client_sends_its_secret_in_the_header_and_the_scope_in_the_form() {
        let (http, sent) = scripted::http(&[(200, TOKEN)]);
        let scopes = ["read".to_string(), "write:all".to_string()];
        let client = confidential(AuthMethod::ClientSecretBasic);
        let token = obtain(&http, &metadata(), &client, &scopes).unwrap();
        assert_eq!(token.access_token.expose(), "at");
        let req = sent.only();
        assert_eq!(req.method, crate::http::Method::Post);
        assert_eq!(req.url.as_str(), "https://as.example/token");
        let mut expected = vec![FORM, ("Authorization", BASIC)];
        expected.extend(COMMON);
        assert_eq!(headers(&req), expected);
        assert_eq!(
            body(&req),
            "grant_type=client_credentials&scope=read+write%3Aall"
        );
    }

    #[test]
    fn client_secret_post_puts_id_and_secret_in_the_form_and_no_scope_sends_none() {
        let (http, sent) = scripted::http(&[(200, TOKEN)]);
        let client = confidential(AuthMethod::ClientSecretPost);
        obtain(&http, &metadata(), &client, &[]).unwrap();
        let req = sent.only();
        let mut expected = vec![FORM];
        expected.extend(COMMON);
        assert_eq!(headers(&req), expected);
        assert_eq!(
            body(&req),
            "grant_type=client_credentials&client_id=app&client_secret=s3cret"
        );
    }

    #[test]
    fn private_key_jwt_sends_a_fresh_signed_assertion_in_the_form() {
        use crate::grant::assertion::{JWT_BEARER, SigningKey, tests::verifies};
        use crate::grant::examples::private_key_jwt;
        let (http, sent) = scripted::http(&[(200, TOKEN), (200, TOKEN)]);
        let client = private_key_jwt("rsa-pkcs8.pem", Some("key-1"));
        obtain(&http, &metadata(), &client, &["read".into()]).unwrap();
        obtain(&http, &metadata(), &client, &["read".into()]).unwrap();
        let key =
            SigningKey::from_pem(crate::grant::assertion::tests::RSA_PKCS8.as_bytes()).unwrap();
        let mut jtis = Vec::new();
        for req in sent.all() {
            let mut expected = vec![FORM];
            expected.extend(COMMON);
            assert_eq!(headers(&req), expected, "no Authorization header");
            let form: Vec<(String, String)> = url::form_urlencoded::parse(body(&req).as_bytes())
                .into_owned()
                .collect();
            let names: Vec<&str> = form.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(
                names,
                [
                    "grant_type",
                    "scope",
                    "client_id",
                    "client_assertion_type",
                    "client_assertion"
                ]
            );
            assert_eq!(form[2].1, "app");
            assert_eq!(form[3].1, JWT_BEARER);
            let jwt = &form[4].1;
            assert!(verifies(&key, jwt));
            let claims: serde_json::Value = serde_json::from_slice(
                &base64::Engine::decode(
                    &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                    jwt.split('.').nth(1).unwrap(),
                )
                .unwrap(),
            )
            .unwrap();
            assert_eq!(claims["aud"], "https://as.example/token");
            assert_eq!(claims["iss"], "app");
            assert_eq!(claims["sub"], "app");
            let (iat, exp) = (
                claims["iat"].as_u64().unwrap(),
                claims["exp"].as_u64().unwrap(),
            );
            assert!(exp > iat && exp - iat <= 300);
            jtis.push(claims["jti"].clone());
        }
        assert_ne!(jtis[0], jtis[1], "a new assertion per request");
    }

    #[test]
    fn an_unreadable_private_key_fails_before_anything_is_sent() {
        use crate::grant::examples::private_key_jwt;
        let (http, sent) = scripted::http(&[(200, TOKEN)]);
        let client = private_key_jwt("no-such-key.pem", None);
        let e = obtain(&http, &metadata(), &client, &[]).unwrap_err();
        assert!(e.to_string().contains("no-such-key.pem"), "{e}");
        assert!(sent.all().is_empty());
    }

    #[test]
    fn a_redirect_from_the_token_endpoint_fails_the_grant() {
        let (http, sent) = scripted::http(&[(302, b"")]);
        let client = confidential(AuthMethod::ClientSecretBasic);
        let e = obtain(&http, &metadata(), &client, &[]).unwrap_err();
        assert!(matches!(e, Error::Status { status: 302, .. }), "{e:?}");
        assert!(e.to_string().contains("redirects are not followed"), "{e}");
        assert!(!e.to_string().contains("s3cret"), "{e}");
        assert_eq!(sent.all().len(), 1);
    }

    #[test]
    fn an_oversize_token_answer_is_refused() {
        let mut big = br#"{"access_token":""#.to_vec();
        big.resize(2 * crate::http::MAX_BODY as usize, b'a');
        big.extend_from_slice(br#""}"#);
        let (http, _) = scripted::http(&[(200, &big)]);
        let client = confidential(AuthMethod::ClientSecretBasic);
        let e = obtain(&http, &metadata(), &client, &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "https://as.example/token: answer is larger than 1024 KiB"
        );
    }
}
