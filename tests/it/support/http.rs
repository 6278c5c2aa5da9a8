//! A plain HTTP GET for what a person's browser would do during a test:
//! approve a device code, or call the helper's redirect listener.

use std::io::Write;

/// A plain HTTP/1.0 GET to a loopback URL: status and body.
pub fn http_get(url: &str) -> (u16, String) {
    use std::io::Read;
    let u = url::Url::parse(url).unwrap();
    let mut target = u.path().to_string();
    if let Some(q) = u.query() {
        target = format!("{target}?{q}");
    }
    let addr = format!("{}:{}", u.host_str().unwrap(), u.port().unwrap());
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        s,
        "GET {target} HTTP/1.0\r\nHost: {}\r\n\r\n",
        u.host_str().unwrap()
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, body.to_string())
}
