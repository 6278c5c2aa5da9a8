//! Saying what is awaited and until when (DESIGN.md "People in the
//! loop"): in place on the terminal (`\r`, clear to end of line, a new
//! countdown each second), one plain line on stderr without a terminal,
//! never on stdout; the process holding the per-key lock named by its pid;
//! the device code on its own line and, where a display and a clipboard
//! tool are there, on the clipboard.

use crate::support::*;

const URL: &str = "https://git.example.com/";
const APPROVAL: &str = "credential-oauth: waiting for approval at ";

/// The user code from a `user_code=` line, approved at the server.
fn approve(server: &TestServer, line: &str) {
    let code = line.trim_start_matches("user_code=");
    let (status, _) = http_get(&format!("{}/device?user_code={code}", server.issuer()));
    assert_eq!(status, 200);
}

/// The lines drawn in place: what follows each `\r` up to the clear to end
/// of line, for those starting with `prefix`.
fn frames(tty: &str, prefix: &str) -> Vec<String> {
    tty.split('\r')
        .filter_map(|f| f.strip_suffix("\x1b[K"))
        .filter(|f| f.starts_with(prefix))
        .map(str::to_string)
        .collect()
}

/// The seconds a frame's `m:ss` countdown shows.
fn seconds_left(frame: &str) -> u64 {
    let clock = frame.rsplit(' ').next().unwrap();
    let (m, s) = clock.split_once(':').unwrap();
    m.parse::<u64>().unwrap() * 60 + s.parse::<u64>().unwrap()
}

#[test]
fn at_a_terminal_the_device_wait_counts_down_in_place_on_the_terminal() {
    let server = TestServer::start().unwrap();
    // The login would wait longer than the code lives: the code's end is
    // the deadline shown.
    let env = device_env(&server, URL, "device_code", "login_timeout = 900\n");
    let mut login = env.spawn_at_terminal(&["login", URL], "");
    let line = login.wait_for_line("user_code=", 20);
    // Two frames: the first at once, the next when a second has passed.
    let tty = login
        .terminal()
        .wait_for(10, |t| frames(t, APPROVAL).len() >= 2);
    approve(&server, &line);
    let drawn = frames(&tty, APPROVAL);
    assert!(drawn.len() >= 2, "{tty:?}");
    // The origin of the authorization server is named next to the page.
    let expected = format!(
        "{APPROVAL}{0}/device (authorization server {0}) — code expires in ",
        server.issuer()
    );
    for frame in &drawn {
        assert!(frame.starts_with(&expected), "{frame:?}");
    }
    let (first, second) = (seconds_left(&drawn[0]), seconds_left(&drawn[1]));
    assert!(first > second && first <= 600, "{drawn:?}");
    let out = login.finish();
    out.ok();
    // The line is cleared when the wait ends, and only ever on the terminal.
    let tty = login.terminal().written();
    assert!(tty.ends_with("\r\x1b[K"), "{tty:?}");
    assert!(!out.stderr.contains("waiting for approval"), "{out}");
    assert!(!out.stdout.contains("waiting"), "{out}");
}

#[test]
fn without_a_terminal_the_device_wait_is_one_plain_line_on_stderr() {
    let server = TestServer::start().unwrap();
    let env = device_env(&server, URL, "device_code", "");
    let mut login = env.spawn_detached(&["login", URL], "");
    let line = login.wait_for_line("user_code=", 20);
    let waiting = login.wait_for_line(APPROVAL, 10);
    approve(&server, &line);
    let out = login.finish();
    out.ok();
    assert_eq!(
        waiting,
        format!(
            "{APPROVAL}{0}/device (authorization server {0}) — gives up in 5:00",
            server.issuer()
        ),
        "{out}"
    );
    let lines = out.stderr.lines().filter(|l| l.starts_with(APPROVAL));
    assert_eq!(lines.count(), 1, "{out}");
    assert!(
        !out.stderr.contains('\r') && !out.stderr.contains('\x1b'),
        "{out}"
    );
    assert!(!out.stdout.contains("waiting"), "{out}");
}

#[test]
fn the_device_code_stands_on_its_own_line_with_the_prefilled_link() {
    let server = TestServer::start().unwrap();
    let env = device_env(&server, URL, "device_code", "");
    let mut login = env.spawn_detached(&["login", URL], "");
    let line = login.wait_for_line("user_code=", 20);
    approve(&server, &line);
    let out = login.finish();
    out.ok();
    let code = line.trim_start_matches("user_code=");
    let shown: Vec<&str> = out.stderr.lines().filter(|l| l.contains(code)).collect();
    assert_eq!(shown.len(), 3, "{out}");
    assert_eq!(shown[0], format!("    {code}"), "{out}");
    assert!(
        shown[1].starts_with(&format!(
            "credential-oauth: or open {}/device?",
            server.issuer()
        )) && shown[1].ends_with("(the code is filled in)"),
        "the pre-filled link: {out}"
    );
    assert_eq!(shown[2], line, "{out}");
    assert!(!out.stderr.contains("clipboard"), "no display: {out}");
}

#[test]
fn with_a_display_the_device_code_is_copied_with_the_clipboard_tool_named() {
    use std::os::unix::fs::PermissionsExt;
    let server = TestServer::start().unwrap();
    let mut env = device_env(&server, URL, "device_code", "");
    let bin = env.root.join("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let xclip = bin.join("xclip");
    std::fs::write(
        &xclip,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" > '{0}/xclip-args'\ncat > '{0}/xclip-got'\n",
            env.root.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&xclip, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = test_path().to_string_lossy().into_owned();
    env.set_var("PATH", &format!("{}:{path}", bin.display()));
    env.var("DISPLAY", ":99");
    let mut login = env.spawn_detached(&["login", URL], "");
    let line = login.wait_for_line("user_code=", 20);
    approve(&server, &line);
    let out = login.finish();
    out.ok();
    let code = line.trim_start_matches("user_code=");
    assert!(
        out.stderr.contains(&format!(
            "\n    {code}    (copied to the clipboard with xclip)\n"
        )),
        "{out}"
    );
    assert_eq!(env.lines_of("xclip-args"), ["-selection clipboard"]);
    let got = std::fs::read_to_string(env.root.join("xclip-got")).unwrap();
    assert_eq!(got, code, "only the user code, as it is");
}

#[test]
fn at_a_terminal_the_browser_wait_names_the_redirect_and_the_deadline() {
    let server = TestServer::start().unwrap();
    server.add_client("app", None);
    let mut env = Env::new();
    env.write_config(&interactive_provider(&server, URL, "client_id = \"app\"\n"));
    // A browser that leaves the page to the test.
    env.browser(r#"printf '%s\n' "$1" > "$DIR/url.tmp"; mv "$DIR/url.tmp" "$DIR/url""#);
    let mut get = env.spawn_at_terminal(&["get"], &git_request(URL));
    let prefix = "credential-oauth: waiting for the browser to return to http://127.0.0.1:";
    let tty = get
        .terminal()
        .wait_for(20, |t| !frames(t, prefix).is_empty());
    let frame = frames(&tty, prefix).remove(0);
    assert!(
        frame.ends_with("/ — gives up in 5:00") || frame.ends_with("/ — gives up in 4:59"),
        "{frame:?}"
    );
    assert!(wait_for_file(&env.root.join("url"), 10));
    let url = env.lines_of("url").remove(0);
    // The person's browser, following the authorization to the redirect.
    let followed = std::process::Command::new("curl")
        .args(["-sS", "-L", "-o", "/dev/null", "-w", "%{http_code}", &url])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&followed.stdout), "200");
    let out = get.finish();
    out.ok();
    assert!(!out.stderr.contains("waiting for the browser"), "{out}");
    // The redirect named is the one the browser was sent back to.
    let redirect = frame
        .trim_start_matches("credential-oauth: waiting for the browser to return to ")
        .split(' ')
        .next()
        .unwrap();
    assert!(url.contains(&url_encoded(redirect)), "{url}\n{frame}");
}

fn url_encoded(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[test]
fn a_process_waiting_on_the_lock_names_the_one_logging_in() {
    let server = TestServer::start().unwrap();
    let env = device_env(&server, URL, "device_code", "");
    let mut first = env.spawn_detached(&["login", URL], "");
    let line = first.wait_for_line("user_code=", 20);
    let holder = format!(
        "another credential-oauth (pid {}) is logging in to corp — waiting up to ",
        first.pid()
    );
    // One waiter at a terminal, one without.
    let mut at_terminal = env.spawn_at_terminal(&["get"], &git_request(URL));
    let mut detached = env.spawn_detached(&["get"], &git_request(URL));
    let plain = detached.wait_for_line("credential-oauth: another credential-oauth", 20);
    let tty = at_terminal
        .terminal()
        .wait_for(20, |t| !frames(t, "credential-oauth: another").is_empty());
    approve(&server, &line);
    first.finish().ok();
    assert!(
        plain.starts_with(&format!("credential-oauth: {holder}10:")),
        "{plain}"
    );
    let frame = frames(&tty, "credential-oauth: another").remove(0);
    assert!(
        frame.starts_with(&format!("credential-oauth: {holder}10:")),
        "{frame:?}"
    );
    // Both get the token the first one obtained: one login in all.
    for waiter in [&mut at_terminal, &mut detached] {
        let out = waiter.finish();
        out.ok();
        assert!(server.is_active(&out.field("password").unwrap()), "{out}");
    }
    assert_eq!(server.count("device_authorization"), 1);
}
