//! The way a person logs in (RFC 8252): the browser and a loopback
//! redirect; the device grant (RFC 8628) when no browser can open and the
//! server offers it; otherwise the URL is shown and the address the browser
//! ends on may be pasted back. Everything said goes through [`Prompt`].

use super::authorization_code::Session;
use super::device_code::{self, Login};
use super::{Client, LoginExtras};
use crate::config::Provider;
use crate::discovery::authorization_server::Metadata;
use crate::error::{Error, Result};
use crate::http::Http;
use crate::prompt::{Prompt, escape, waiting};
use crate::token::Token;
use std::time::Instant;

/// How the login goes on once the browser was tried.
#[derive(Debug, PartialEq, Eq)]
pub enum WayIn {
    /// The browser opened; wait for its redirect.
    Browser,
    /// The device grant, and why.
    Device(String),
    /// No browser: show the URL, accept a pasted address.
    Paste(String),
}

/// Whether to use the device grant before anything is opened.
pub fn device_first(prompt: &dyn Prompt, has_device: bool) -> Option<String> {
    (!prompt.can_open_browser() && has_device)
        .then(|| "no browser can open here (no $BROWSER, DISPLAY or WAYLAND_DISPLAY)".to_string())
}

/// What the result of opening the browser means.
pub fn after_opening(opened: Result<()>, has_device: bool) -> WayIn {
    match opened {
        Ok(()) => WayIn::Browser,
        Err(e) if has_device => WayIn::Device(e.to_string()),
        Err(e) => WayIn::Paste(e.to_string()),
    }
}

/// A person's login at `provider` as `client`, asking for `extras` (a
/// step-up's authentication, the DPoP key) besides `account`.
pub fn login(
    http: &Http,
    meta: &Metadata,
    client: &Client,
    provider: &Provider,
    account: &str,
    extras: &LoginExtras,
    prompt: &dyn Prompt,
) -> Result<Token> {
    let device = |why: &str| {
        prompt.say(&format!(
            "credential-oauth: {why}; using the device login instead"
        ));
        device_code::obtain(
            http,
            meta,
            client,
            &provider.scopes,
            &device_login(provider, extras),
            prompt,
        )
    };
    let has_device = meta.device_authorization_endpoint.is_some();
    if let Some(why) = device_first(prompt, has_device) {
        return device(&why);
    }
    let extras = LoginExtras {
        login_hint: (!account.is_empty()).then(|| account.to_string()),
        ..extras.clone()
    };
    let mut session = Session::start(
        meta,
        client,
        &provider.scopes,
        &provider.redirect_uri()?,
        &extras,
        provider.transport.allow_insecure_http,
        Some(http),
    )?;
    session.set_about(super::loopback::About {
        provider: provider.name.clone(),
        account: account.to_string(),
        url: provider.url.to_string(),
    });
    let authority = crate::http::authority(&meta.issuer);
    let name = escape(&provider.name);
    let timeout = provider.login_timeout();
    let opened = if prompt.can_open_browser() {
        prompt.say(&format!(
            "credential-oauth: opening the browser to log in to {name} at the authorization server \
             {authority}; if it does not open, visit:\n  {}",
            session.url()
        ));
        prompt.open_browser(session.url())
    } else {
        Err(Error::Login("no browser can open here".into()))
    };
    let (pasted, _waiting) = match after_opening(opened, has_device) {
        WayIn::Browser => {
            let waiting = prompt.waiting(
                &format!(
                    "waiting for the browser to return to {}",
                    session.redirect_uri()
                ),
                "gives up in",
                Instant::now() + timeout,
            );
            (None, Some(waiting))
        }
        WayIn::Device(why) => {
            drop(session);
            return device(&why);
        }
        WayIn::Paste(why) => {
            crate::debug!("{why}");
            prompt.say(&format!(
                "credential-oauth: no browser could be opened. To log in to {name} at the \
                 authorization server {authority}, visit:\n  {}",
                session.url()
            ));
            let pasted = prompt.typed_lines();
            // Said once, not drawn in place: the person may be pasting on
            // that line.
            prompt.say(&format!(
                "{}{}",
                waiting::line(
                    &format!("waiting for the redirect to {}", session.redirect_uri()),
                    "gives up in",
                    timeout
                ),
                if pasted.is_some() {
                    "; or paste here the address the browser ends on"
                } else {
                    ""
                }
            ));
            (pasted, None)
        }
    };
    session.finish(http, meta, client, timeout, pasted.as_ref(), prompt)
}

/// What a device login shows, asks for and how long it waits.
pub fn device_login<'a>(provider: &'a Provider, extras: &LoginExtras) -> Login<'a> {
    Login {
        provider: &provider.name,
        timeout: provider.login_timeout(),
        allow_insecure_http: provider.transport.allow_insecure_http,
        extra: extras.device_params(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::sync::mpsc::Receiver;
    use url::Url;

    /// A person scripted for a test: whether a browser can open, whether
    /// it does, and what was said.
    struct Scripted {
        browser: bool,
        opens: bool,
        said: RefCell<Vec<String>>,
    }

    impl Prompt for Scripted {
        fn can_open_browser(&self) -> bool {
            self.browser
        }
        fn open_browser(&self, _: &Url) -> Result<()> {
            if self.opens {
                Ok(())
            } else {
                Err(Error::Login("cannot open a browser: it crashed".into()))
            }
        }
        fn say(&self, text: &str) {
            self.said.borrow_mut().push(text.to_string());
        }
        fn typed_lines(&self) -> Option<Receiver<String>> {
            None
        }
    }

    fn person(browser: bool, opens: bool) -> Scripted {
        Scripted {
            browser,
            opens,
            said: RefCell::new(Vec::new()),
        }
    }

    #[test]
    fn without_a_browser_the_device_grant_comes_first_where_offered() {
        assert!(device_first(&person(false, false), true).is_some());
        assert_eq!(device_first(&person(false, false), false), None);
        assert_eq!(device_first(&person(true, true), true), None);
    }

    #[test]
    fn a_browser_that_fails_leads_to_the_device_grant_else_to_the_printed_url() {
        let p = person(true, false);
        let url = Url::parse("https://as.example/authorize").unwrap();
        assert_eq!(
            after_opening(p.open_browser(&url), true),
            WayIn::Device("cannot open a browser: it crashed".into())
        );
        assert!(matches!(
            after_opening(p.open_browser(&url), false),
            WayIn::Paste(_)
        ));
        let ok = person(true, true);
        assert_eq!(after_opening(ok.open_browser(&url), true), WayIn::Browser);
        assert!(ok.said.borrow().is_empty());
    }
}
