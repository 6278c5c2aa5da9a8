//! The page the browser ends on after a login (src/grant/loopback.rs),
//! seen in a real browser: headless Chromium follows a real login to the
//! loopback listener, dumps the page and takes a screenshot, left in
//! `target/tmp/login-page-*.png` for a person to look at. Without
//! Chromium the test is skipped (a failure under CI, which installs it);
//! the page's text is also checked with curl as the browser.

use crate::support::*;

const URL: &str = "https://git.example.com/";

/// Headless Chromium as `$BROWSER`: the DOM it ends on, then the screenshot.
const CHROMIUM: &str = r#"chromium --headless --no-sandbox --disable-gpu \
  --disable-background-networking --disable-component-update --disable-sync \
  --no-first-run --user-data-dir="$DIR/chromium-profile" \
  --screenshot="$DIR/page.png" --window-size=800,600 --dump-dom "$1" \
  > "$DIR/dom.tmp" 2> "$DIR/chromium.log"
mv "$DIR/dom.tmp" "$DIR/dom.html""#;

/// curl as `$BROWSER`, keeping the page it ends on.
const CURL: &str = r#"curl -sS -L -o "$DIR/dom.tmp" "$1"; mv "$DIR/dom.tmp" "$DIR/dom.html""#;

fn env_with_browser(server: &TestServer, browser: &str) -> Env {
    server.add_client("app", None);
    let mut env = Env::new();
    env.write_config(&interactive_provider(server, URL, "client_id = \"app\"\n"));
    env.browser(browser);
    env
}

/// Log in as alice; the page the browser ended on, as text between tags.
fn login_page(env: &Env) -> (Output, String) {
    let out = env.run(&["get"], &format!("url={URL}\nusername=alice\n\n"));
    assert!(wait_for_file(&env.root.join("dom.html"), 60), "{out}");
    let dom = std::fs::read_to_string(env.root.join("dom.html")).unwrap();
    (out, dom)
}

/// The screenshot is a PNG of some substance; kept where a person can look.
fn keep_screenshot(env: &Env, name: &str) {
    let png = std::fs::read(env.root.join("page.png")).unwrap_or_default();
    let log = std::fs::read_to_string(env.root.join("chromium.log")).unwrap_or_default();
    assert!(
        png.len() > 1000 && png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "no screenshot ({} bytes)\n{log}",
        png.len()
    );
    let kept = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&kept, png).unwrap();
    eprintln!("screenshot: {}", kept.display());
}

fn assert_success_page(dom: &str) {
    assert!(dom.contains("<h1>Logged in to corp</h1>"), "{dom}");
    assert!(dom.contains("<p>Account: alice</p>"), "{dom}");
    assert!(dom.contains("return to the terminal"), "{dom}");
    assert!(!dom.contains("<script") && !dom.contains("src="), "{dom}");
    assert!(!dom.contains("code=") && !dom.contains("state"), "{dom}");
}

fn assert_failure_page(dom: &str) {
    assert!(dom.contains("<h1>The login to corp failed</h1>"), "{dom}");
    assert!(
        dom.contains("<p>The login was denied in the browser (access_denied"),
        "the reason: {dom}"
    );
    assert!(
        dom.contains("<code>credential-oauth login https://git.example.com/</code>"),
        "the command to retry: {dom}"
    );
}

#[test]
fn chromium_shows_the_success_page_naming_provider_and_account() {
    let Some(()) = require_tools(&["chromium"]) else {
        return;
    };
    let server = TestServer::start().unwrap();
    let env = env_with_browser(&server, CHROMIUM);
    let (out, dom) = login_page(&env);
    out.ok();
    assert_success_page(&dom);
    keep_screenshot(&env, "login-page-success.png");
}

#[test]
fn chromium_shows_the_failure_page_with_the_reason_and_the_retry_command() {
    let Some(()) = require_tools(&["chromium"]) else {
        return;
    };
    let server = TestServer::start().unwrap();
    server.set_authorize_deny(true);
    let env = env_with_browser(&server, CHROMIUM);
    let (out, dom) = login_page(&env);
    out.fails();
    assert_failure_page(&dom);
    keep_screenshot(&env, "login-page-failure.png");
}

#[test]
fn the_pages_say_what_to_do_next_as_served() {
    let server = TestServer::start().unwrap();
    let env = env_with_browser(&server, CURL);
    let (out, page) = login_page(&env);
    out.ok();
    assert_success_page(&page);

    let server = TestServer::start().unwrap();
    server.set_authorize_deny(true);
    let env = env_with_browser(&server, CURL);
    let (out, page) = login_page(&env);
    out.fails();
    assert_failure_page(&page);
}
