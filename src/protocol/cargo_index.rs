//! A cargo registry index's `config.json` (the Cargo Book, "Registry
//! Index", Index configuration): where cargo sends the registry's token
//! besides the index. `dl` is where crates are downloaded, with the
//! markers `{crate}`, `{version}`, `{prefix}`, `{lowerprefix}` and
//! `{sha256-checksum}`; `api` is the web API (publish, yank, owners). With
//! `"auth-required": true` cargo sends the token to both.
//!
//! Only the parse is here; whether those places may receive a token is the
//! resolver's audience rule (DESIGN.md "Trust").

use crate::error::{Error, Result};
use serde::Deserialize;
use url::Url;

/// The fields that say where a token goes; unknown fields are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct IndexConfig {
    pub dl: String,
    #[serde(default)]
    pub api: Option<String>,
}

/// Longest `dl` or `api` value taken.
const MAX_URL: usize = 2048;

impl IndexConfig {
    /// The document as the index serves it (the HTTP layer bounds its size).
    pub fn parse(doc: &serde_json::Value) -> Result<IndexConfig> {
        // serde would take a list for the struct too; the format is an object.
        let object = doc.is_object().then_some(doc);
        let parsed = object.map(|d| serde_json::from_value::<IndexConfig>(d.clone()));
        let config = parsed.and_then(|r| r.ok()).ok_or_else(|| {
            Error::BadAnswer(
                "the registry's config.json has no \"dl\" string (or an \"api\" that is not one)"
                    .into(),
            )
        })?;
        if config.dl.len() > MAX_URL || config.api.as_ref().is_some_and(|a| a.len() > MAX_URL) {
            return Err(Error::BadAnswer(
                "the registry's config.json has a \"dl\" or \"api\" longer than 2 KiB".into(),
            ));
        }
        Ok(config)
    }

    /// The places cargo sends the token: the part of `dl` before its first
    /// marker (what every download URL starts with), and `api`. A value
    /// whose fixed part is no http(s) URL with a host is an error: nobody
    /// can say where it sends the token.
    pub fn places(&self) -> Result<Vec<Url>> {
        let fixed = self.dl.split('{').next().unwrap_or_default();
        let mut places = vec![place("dl", fixed, &self.dl)?];
        if let Some(api) = &self.api {
            places.push(place("api", api, api)?);
        }
        Ok(places)
    }
}

fn place(field: &str, value: &str, written: &str) -> Result<Url> {
    Url::parse(value)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
        .ok_or_else(|| {
            Error::BadAnswer(format!(
                "the registry's config.json names {field} {:?}, which is not an http(s) URL with \
                 a host; no token",
                crate::http::printable(written, 200)
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn places(doc: serde_json::Value) -> Result<Vec<String>> {
        IndexConfig::parse(&doc)?
            .places()
            .map(|v| v.into_iter().map(String::from).collect())
    }

    #[test]
    fn dl_is_cut_at_its_first_marker_and_api_taken_whole() {
        assert_eq!(
            places(json!({"dl": "https://forge/dl/{crate}/{version}/download",
                          "api": "https://forge/api", "auth-required": true}))
            .unwrap(),
            ["https://forge/dl/", "https://forge/api"]
        );
        assert_eq!(
            places(json!({"dl": "https://forge/dl"})).unwrap(),
            ["https://forge/dl"]
        );
    }

    #[test]
    fn a_marker_in_the_host_or_a_relative_dl_names_no_place() {
        for dl in [
            "https://{crate}.evil.example/x",
            "/dl/{crate}",
            "file:///srv/crates",
            "{prefix}",
            "",
        ] {
            let e = places(json!({ "dl": dl })).unwrap_err();
            assert!(e.to_string().contains("no token"), "{dl}: {e}");
        }
        assert!(places(json!({"dl": "https://f/", "api": "ftp://f/"})).is_err());
    }

    #[test]
    fn a_document_without_dl_or_with_other_types_is_refused() {
        for doc in [
            json!({}),
            json!({"dl": 7}),
            json!({"dl": "https://f/", "api": ["x"]}),
            json!(["dl"]),
            json!({"dl": format!("https://f/{}", "a".repeat(4096))}),
        ] {
            assert!(IndexConfig::parse(&doc).is_err(), "{doc}");
        }
        assert!(IndexConfig::parse(&json!({"dl": "https://f/", "api": null})).is_ok());
    }
}
