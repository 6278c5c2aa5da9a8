//! An oracle for Go's GOAUTH command mode, written from `go help goauth`
//! and independent of the crate's own parser: the output grammar read as
//! strictly as the go command reads it, and which credential set Go would
//! attach to a request URL.

/// One credential set: URL lines and `(name, value)` header lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoCredentialSet {
    pub urls: Vec<String>,
    pub headers: Vec<(String, String)>,
}

/// `Response = { CredentialSet }`, `CredentialSet = URLLine { URLLine }
/// BlankLine { HeaderLine } BlankLine`; every line ends in `\n`, a URL
/// line is an `https://` URL, a header line is `Name: value` with a token
/// name and a value free of control characters. Empty output is valid.
pub fn parse_goauth_output(out: &str) -> Result<Vec<GoCredentialSet>, String> {
    if !out.is_empty() && !out.ends_with('\n') {
        return Err("the output does not end with a newline".into());
    }
    let mut lines = out.split_terminator('\n').peekable();
    let mut sets = Vec::new();
    while lines.peek().is_some() {
        let mut urls = Vec::new();
        loop {
            match lines.next() {
                None => return Err("missing the blank line after the URLs".into()),
                Some("") => break,
                Some(line) => {
                    let url =
                        url::Url::parse(line).map_err(|e| format!("URL line {line:?}: {e}"))?;
                    if url.scheme() != "https" || !line.starts_with("https://") {
                        return Err(format!("URL line {line:?} is not https"));
                    }
                    urls.push(line.to_string());
                }
            }
        }
        if urls.is_empty() {
            return Err("a credential set without a URL line".into());
        }
        let mut headers = Vec::new();
        loop {
            match lines.next() {
                None => return Err("missing the blank line after the headers".into()),
                Some("") => break,
                Some(line) => {
                    let (name, value) = line.split_once(": ").ok_or_else(|| {
                        format!("header line without \": \" ({} bytes)", line.len())
                    })?;
                    let token =
                        |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
                    if name.is_empty() || !name.bytes().all(token) {
                        return Err(format!("header name {name:?} is not a token"));
                    }
                    if value.is_empty() || value.chars().any(char::is_control) {
                        return Err(format!(
                            "the value of {name} is empty or has a control character"
                        ));
                    }
                    headers.push((name.to_string(), value.to_string()));
                }
            }
        }
        sets.push(GoCredentialSet { urls, headers });
    }
    Ok(sets)
}

/// The headers Go would attach to a request for `url`: it strips
/// `https://` and a trailing `/` from each URL line, and looks the request
/// up by its own prefixes, dropping one path segment at a time.
pub fn headers_go_sends<'a>(
    sets: &'a [GoCredentialSet],
    url: &str,
) -> Option<&'a [(String, String)]> {
    let key = |u: &str| {
        u.trim_start_matches("https://")
            .trim_end_matches('/')
            .to_string()
    };
    let mut current = key(url);
    loop {
        if let Some(set) = sets
            .iter()
            .rev()
            .find(|s| s.urls.iter().any(|u| key(u) == current))
        {
            return Some(&set.headers);
        }
        let cut = current.rfind('/')?;
        current.truncate(cut);
    }
}

/// What the go command writes on stdin after a 401.
pub fn go_401_stdin(challenge: &str) -> String {
    format!(
        "HTTP/1.1 401 Unauthorized\nContent-Length: 15\nContent-Type: text/plain\n\
         Www-Authenticate: {challenge}\n\n"
    )
}
