//! `oauth-test-server`: the in-memory authorization server of the tests, on
//! its own, for demos and for trying credential-oauth by hand.

#![forbid(unsafe_code)]

use std::io::Write;
use std::process::ExitCode;

use oauth_test_server::TestServer;

const USAGE: &str = "\
usage: oauth-test-server [--port N] [--client ID[:SECRET]]... [--lifetime SECS] [--device-interval SECS] [--refresh]

Runs an in-memory OAuth 2.0 authorization server on 127.0.0.1 until killed.
The first line of output is `issuer: http://127.0.0.1:PORT`.

  --port N                 port to listen on (default 0: any free port)
  --client ID[:SECRET]     a client; without SECRET a public one (repeatable;
                           default: demo:demo-secret and public demo-public)
  --lifetime SECS          access token lifetime (default 3600)
  --device-interval SECS   device grant polling interval (default 5)
  --refresh                give client_credentials tokens a refresh token too
  -h, --help               this text";

struct Options {
    port: u16,
    clients: Vec<(String, Option<String>)>,
    lifetime: Option<i64>,
    device_interval: Option<u64>,
    refresh: bool,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let options = match parse(&args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("oauth-test-server: {message} (see --help)");
            return ExitCode::from(2);
        }
    };
    let server = match TestServer::start_on(&format!("127.0.0.1:{}", options.port)) {
        Ok(server) => server,
        Err(e) => {
            eprintln!(
                "oauth-test-server: cannot listen on 127.0.0.1:{}: {e}",
                options.port
            );
            return ExitCode::FAILURE;
        }
    };
    if let Some(secs) = options.lifetime {
        server.set_token_lifetime(Some(secs));
    }
    if let Some(secs) = options.device_interval {
        server.set_device_interval(secs);
    }
    server.set_client_credentials_refresh(options.refresh);
    for (id, secret) in &options.clients {
        server.add_client(id, secret.as_deref());
    }
    if announce(&server, &options).is_err() {
        // Whoever started us has stopped reading; nobody can use the server.
        return ExitCode::FAILURE;
    }
    // Serving happens on the server's threads; this one only keeps it alive
    // until a signal ends the process.
    loop {
        std::thread::park();
    }
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        port: 0,
        clients: Vec::new(),
        lifetime: None,
        device_interval: None,
        refresh: false,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value)),
            _ => (arg.as_str(), None),
        };
        let mut value = || {
            inline
                .or_else(|| args.next().map(String::as_str))
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag {
            "--port" => options.port = number(flag, value()?)?,
            "--lifetime" => options.lifetime = Some(number(flag, value()?)?),
            "--device-interval" => options.device_interval = Some(number(flag, value()?)?),
            "--client" => options.clients.push(client(value()?)?),
            "--refresh" if inline.is_none() => options.refresh = true,
            _ => return Err(format!("unknown argument {arg}")),
        }
    }
    if options.clients.is_empty() {
        options.clients = vec![
            ("demo".to_owned(), Some("demo-secret".to_owned())),
            ("demo-public".to_owned(), None),
        ];
    }
    Ok(options)
}

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{flag} wants a whole number, not {value:?}"))
}

/// `ID` or `ID:SECRET`; the id is everything before the first colon.
fn client(value: &str) -> Result<(String, Option<String>), String> {
    let (id, secret) = match value.split_once(':') {
        Some((id, secret)) => (id, Some(secret)),
        None => (value, None),
    };
    if id.is_empty() || secret.is_some_and(str::is_empty) {
        return Err(format!("--client wants ID or ID:SECRET, not {value:?}"));
    }
    Ok((id.to_owned(), secret.map(str::to_owned)))
}

/// The issuer line first, alone and flushed, so a script can read it and go.
fn announce(server: &TestServer, options: &Options) -> std::io::Result<()> {
    let issuer = server.issuer();
    let mut out = std::io::stdout().lock();
    writeln!(out, "issuer: {issuer}")?;
    out.flush()?;
    writeln!(out, "serving:")?;
    let endpoints = [
        (
            "/.well-known/oauth-authorization-server",
            "metadata (RFC 8414)",
        ),
        (
            "/.well-known/openid-configuration",
            "metadata (OpenID Connect)",
        ),
        (
            "/authorize",
            "authorization code + PKCE; approves at once as test-user",
        ),
        (
            "/token",
            "client_credentials, authorization_code, refresh_token, device_code",
        ),
        ("/device_authorization", "device grant (RFC 8628)"),
        (
            "/device",
            "opening a verification_uri_complete approves the device",
        ),
        ("/register", "dynamic client registration (RFC 7591)"),
        ("/revoke", "revocation (RFC 7009)"),
        ("/introspect", "introspection (RFC 7662)"),
        (
            "/userinfo",
            "a resource: needs Authorization: Bearer <access token>",
        ),
    ];
    for (path, what) in endpoints {
        writeln!(out, "  {issuer}{path:<41} {what}")?;
    }
    writeln!(out, "clients:")?;
    server.set_client_credentials_refresh(options.refresh);
    for (id, secret) in &options.clients {
        match secret {
            Some(secret) => writeln!(out, "  {id} (secret {secret})")?,
            None => writeln!(out, "  {id} (public)")?,
        }
    }
    out.flush()
}
