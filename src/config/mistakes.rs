//! Config mistakes said the way a person fixes them: a misspelt key gets
//! the key it was probably meant to be (the full list only with `-v`), and
//! `[provider]` written for `[[provider]]` gets the line to write.

/// `message`, a one-line error toml gave for `text`, made helpful.
pub fn explain(message: &str, text: &str) -> String {
    if message.contains("invalid type: map, expected a sequence") && single_provider_table(text) {
        return "[provider] must be written [[provider]]: each provider is one table of an \
                array, even when there is only one"
            .to_string();
    }
    unknown_key(message).unwrap_or_else(|| message.to_string())
}

/// Whether `text` has a `[provider]` header (one pair of brackets).
fn single_provider_table(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.split('#').next().unwrap_or_default().trim();
        line.strip_prefix('[')
            .and_then(|l| l.strip_suffix(']'))
            .is_some_and(|inner| inner.trim() == "provider")
    })
}

/// serde's "unknown field `x`, expected one of `a`, `b`, …" as "unknown
/// key `x`; did you mean `a`?".
fn unknown_key(message: &str) -> Option<String> {
    let start = message.find("unknown field `")?;
    let rest = &message[start + "unknown field `".len()..];
    let (key, rest) = rest.split_once('`')?;
    let expected: Vec<&str> = rest
        .split_once("expected one of ")
        .map(|(_, list)| list.split(", ").map(|k| k.trim_matches('`')).collect())
        .or_else(|| {
            let (_, one) = rest.split_once("expected `")?;
            Some(vec![one.trim_end_matches('`')])
        })
        .unwrap_or_default();
    let before = &message[..start];
    let suggestion = closest(key, &expected)
        .map(|k| format!("; did you mean `{k}`?"))
        .unwrap_or_default();
    let list = if crate::log::verbose() {
        format!(" (keys: {})", expected.join(", "))
    } else if suggestion.is_empty() {
        format!(" (-v lists the keys; {} has each one)", super::CONFIG_DOCS)
    } else {
        String::new()
    };
    Some(format!("{before}unknown key `{key}`{suggestion}{list}"))
}

/// The expected key nearest to `key`, when it is near enough to be a slip:
/// at most a third of its letters changed, added or dropped.
fn closest<'a>(key: &str, expected: &[&'a str]) -> Option<&'a str> {
    let limit = (key.chars().count() / 3).max(1);
    expected
        .iter()
        .map(|k| (edit_distance(&key.to_ascii_lowercase(), k), *k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance, on chars; keys are short.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: &str = "unknown field `isuer`, expected one of `name`, `url`, `issuer`, `preset`";

    #[test]
    fn a_slip_gets_the_key_it_was_meant_to_be_and_no_list() {
        assert_eq!(
            explain(&format!("provider #1: {KEYS}"), ""),
            "provider #1: unknown key `isuer`; did you mean `issuer`?"
        );
        assert_eq!(
            explain(
                "unknown field `Client_ID`, expected one of `client_id`, `url`",
                ""
            ),
            "unknown key `Client_ID`; did you mean `client_id`?"
        );
        assert_eq!(
            explain("unknown field `storge`, expected `storage`", ""),
            "unknown key `storge`; did you mean `storage`?"
        );
    }

    #[test]
    fn a_key_like_none_is_named_with_where_to_look() {
        let m = explain("unknown field `colour`, expected one of `name`, `url`", "");
        assert_eq!(
            m,
            "unknown key `colour` (-v lists the keys; README.md#configuration-reference has each one)"
        );
    }

    #[test]
    fn a_single_provider_table_says_what_to_write() {
        let m = explain(
            "TOML parse error at line 1, column 1: invalid type: map, expected a sequence",
            "# corp\n [provider] # the one\nurl = \"https://a/\"\n",
        );
        assert!(
            m.starts_with("[provider] must be written [[provider]]"),
            "{m}"
        );
        // Another map where a list belongs is left as toml said it.
        let other = "invalid type: map, expected a sequence";
        assert_eq!(explain(other, "[[provider]]\nscopes = {a = 1}\n"), other);
    }

    #[test]
    fn edit_distance_counts_changes() {
        assert_eq!(edit_distance("isuer", "issuer"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("grant", "grant"), 0);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
