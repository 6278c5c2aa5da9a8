//! What the tests write to the helper's stdin.

/// A git credential request for `url`.
pub fn git_request(url: &str) -> String {
    let u = url::Url::parse(url).unwrap();
    let host = match u.port() {
        Some(p) => format!("{}:{p}", u.host_str().unwrap()),
        None => u.host_str().unwrap().to_string(),
    };
    let mut req = format!("protocol={}\nhost={host}\n", u.scheme());
    let path = u.path().trim_start_matches('/');
    if !path.is_empty() {
        req.push_str(&format!("path={path}\n"));
    }
    req.push('\n');
    req
}
