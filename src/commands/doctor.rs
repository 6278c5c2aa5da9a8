//! `credential-oauth doctor`: checks the set-up a caller depends on and
//! says, one line per finding, what is fine (`ok`), what may surprise
//! (`warning`) and what is broken (`problem`), each with its fix. Exits 1
//! when it found a problem. Endpoints are resolved by the manager's own
//! discovery (past its cache), never by a second path; no secret is shown.

use super::write_out;
use crate::config::{CONFIG_DOCS, Config, GrantKind, Provider};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::manager::Manager;
use crate::prompt::escape;
use crate::resolver::{Accounts, Binding};
use std::io::Write;
use std::path::{Path, PathBuf};

/// More than this between our clock and a server's is worth a warning.
const SKEW_WARNING: u64 = 30;
/// More than this and tokens look expired (or not yet valid) to one side:
/// a problem. A token is renewed 60 s before its expiry.
const SKEW_PROBLEM: u64 = 120;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Ok,
    Warning,
    Problem,
}

struct Finding {
    level: Level,
    text: String,
    fix: Option<String>,
}

#[derive(Default)]
struct Report(Vec<Finding>);

impl Report {
    fn ok(&mut self, text: impl Into<String>) {
        self.add(Level::Ok, text.into(), None);
    }

    fn warning(&mut self, text: impl Into<String>, fix: impl Into<String>) {
        self.add(Level::Warning, text.into(), Some(fix.into()));
    }

    fn problem(&mut self, text: impl Into<String>, fix: impl Into<String>) {
        self.add(Level::Problem, text.into(), Some(fix.into()));
    }

    fn add(&mut self, level: Level, text: String, fix: Option<String>) {
        self.0.push(Finding { level, text, fix });
    }

    fn text(&self) -> String {
        let mut out = String::new();
        for Finding { level, text, fix } in &self.0 {
            let label = match level {
                Level::Ok => "ok     ",
                Level::Warning => "warning",
                Level::Problem => "problem",
            };
            out.push_str(&format!("{label}  {text}\n"));
            if let Some(fix) = fix {
                out.push_str(&format!("         fix: {fix}\n"));
            }
        }
        out
    }

    fn problems(&self) -> usize {
        self.0.iter().filter(|f| f.level == Level::Problem).count()
    }
}

/// Run every check, print the findings on stdout, and fail (exit 1) when
/// one is a problem.
pub fn run(ctx: &Context, stdout: &mut dyn Write) -> Result<()> {
    let mut report = Report::default();
    let config = config(&mut report, ctx);
    if let Some(manager) = storage(&mut report, config, ctx) {
        providers(&mut report, ctx, manager)?;
    }
    links(&mut report);
    git(&mut report);
    docker(&mut report);
    write_out(stdout, &report.text())?;
    match report.problems() {
        0 => Ok(()),
        1 => Err(Error::Local("doctor found 1 problem".into())),
        n => Err(Error::Local(format!("doctor found {n} problems"))),
    }
}

fn shown(path: &Path) -> String {
    escape(&path.display().to_string())
}

/// The config file: found, readable, valid.
fn config<'c>(report: &mut Report, ctx: &'c Context) -> &'c Config {
    let place = crate::config::config_path();
    let mut broken = false;
    let config = ctx.config_or_empty(|e| {
        broken = true;
        report.problem(
            format!("config: {}", escape(&e.to_string())),
            format!("correct the file (every key: {CONFIG_DOCS})"),
        );
    });
    if broken {
        return config;
    }
    match (&config.path, place) {
        (Some(path), _) if config.providers.is_empty() => report.warning(
            format!("config: {} names no provider", shown(path)),
            format!("add one: credential-oauth init URL (every key: {CONFIG_DOCS})"),
        ),
        (Some(path), _) => report.ok(format!(
            "config: {} is valid ({} provider{})",
            shown(path),
            config.providers.len(),
            if config.providers.len() == 1 { "" } else { "s" }
        )),
        (None, Some((path, _))) => report.warning(
            format!(
                "config: no file at {}; only providers in git's config are used",
                shown(&path)
            ),
            format!(
                "credential-oauth init URL writes {} (every key: {CONFIG_DOCS})",
                shown(&path)
            ),
        ),
        (None, None) => report.warning(
            "config: neither HOME nor XDG_CONFIG_HOME is set, so no config file is read",
            "set CREDENTIAL_OAUTH_CONFIG to the config file",
        ),
    }
    config
}

/// Kernel-keyring entries of token directories that no longer exist (a
/// deleted cache directory): tokens nobody reaches, held until reboot.
fn orphaned_kernel_entries(report: &mut Report) {
    #[cfg(target_os = "linux")]
    if let Ok(dirs) = crate::store::kernel::orphaned_dirs()
        && !dirs.is_empty()
    {
        let shown: Vec<String> = dirs.iter().map(|d| escape(d)).collect();
        report.warning(
            format!(
                "storage: the kernel keyring holds tokens of cache directories that no longer \
                 exist: {}",
                shown.join(", ")
            ),
            "credential-oauth logout --all removes them",
        );
    }
    #[cfg(not(target_os = "linux"))]
    let _ = report;
}

/// The keychain, or why the file is used; the manager when the store opens.
fn storage<'c>(report: &mut Report, config: &Config, ctx: &'c Context) -> Option<&'c Manager<'c>> {
    use crate::config::Storage;
    let dir = crate::store::tokens_dir()
        .map(|d| shown(&d))
        .unwrap_or_else(|| "(no cache directory: HOME is not set)".into());
    let kernel = "the kernel's persistent keyring (never on disk; gone at reboot, \
                  when the next use logs in again)";
    match config.storage {
        Storage::File => report.ok(format!("storage: the file {dir} (storage = \"file\")")),
        Storage::Kernel => match crate::store::kernel_status() {
            Ok(()) => report.ok(format!("storage: {kernel} (storage = \"kernel\")")),
            Err(e) => report.problem(
                format!(
                    "storage: storage = \"kernel\" but there is no kernel keyring ({})",
                    escape(&e.to_string())
                ),
                "set storage = \"auto\" or \"file\"",
            ),
        },
        storage => match crate::store::keychain_status() {
            Ok(()) => report.ok("storage: the keychain answers; tokens are kept there"),
            Err(e) if storage == Storage::Keyring => report.problem(
                format!(
                    "storage: storage = \"keyring\" but no keychain answers ({})",
                    escape(&e.to_string())
                ),
                "start a Secret Service (gnome-keyring, KeePassXC) or set storage = \"auto\"",
            ),
            Err(e) => match crate::store::kernel_status() {
                Ok(()) => report.ok(format!(
                    "storage: no keychain answers ({}); tokens go to {kernel}",
                    escape(&e.to_string())
                )),
                Err(_) => report.warning(
                    format!(
                        "storage: no keychain answers ({}) and the kernel offers no keyring; \
                         tokens go to the file {dir} (mode 0600)",
                        escape(&e.to_string())
                    ),
                    "nothing to do unless you want the keychain: start a Secret Service \
                     (gnome-keyring, KeePassXC), or set storage = \"file\" to say the file is meant",
                ),
            },
        },
    }
    orphaned_kernel_entries(report);
    match ctx.manager() {
        Ok(manager) => Some(manager),
        Err(e) => {
            report.problem(
                format!(
                    "storage: cannot open the token store: {}",
                    escape(&e.to_string())
                ),
                "see the line above; tokens cannot be kept until this is fixed",
            );
            None
        }
    }
}

/// Each provider: discovery and endpoints, the server's clock, the token.
fn providers(report: &mut Report, ctx: &Context, manager: &Manager) -> Result<()> {
    let mut clocks_checked = std::collections::BTreeSet::new();
    for binding in ctx.bindings(Accounts::All)? {
        let p = &binding.provider;
        if !binding.account.is_empty() {
            tokens(report, manager, &binding)?;
            continue;
        }
        let name = escape(&p.name);
        if p.issuer.is_empty() {
            report.ok(format!(
                "{name}: the issuer comes from the server's challenge (RFC 9728, discover = true)"
            ));
        } else {
            match manager.discover_now(p) {
                Ok(meta) => {
                    endpoints(report, p, &meta);
                    let origin = crate::discovery::authorization_server::rfc8414_url(&p.issuer)
                        .map(|u| crate::http::origin(&u))
                        .unwrap_or_default();
                    if clocks_checked.insert(origin.clone()) {
                        clock(report, manager, p, &origin);
                    }
                }
                Err(e) => report.problem(
                    format!(
                        "{name}: discovery at {} failed: {}",
                        escape(&p.issuer),
                        escape(&e.to_string())
                    ),
                    "check the provider's issuer (and ca_file), the network and any proxy; \
                     or write its endpoints in the config (token_endpoint, …)",
                ),
            }
        }
        tokens(report, manager, &binding)?;
    }
    Ok(())
}

fn endpoints(
    report: &mut Report,
    p: &Provider,
    meta: &crate::discovery::authorization_server::Metadata,
) {
    let name = escape(&p.name);
    let list: Vec<String> = [
        ("token", &meta.token_endpoint),
        ("authorization", &meta.authorization_endpoint),
        ("device", &meta.device_authorization_endpoint),
        ("registration", &meta.registration_endpoint),
        ("revocation", &meta.revocation_endpoint),
    ]
    .into_iter()
    .filter_map(|(what, url)| {
        url.as_ref()
            .map(|u| format!("{what} {}", escape(u.as_str())))
    })
    .collect();
    let needed = match p.grant {
        GrantKind::AuthorizationCode => meta
            .authorization_endpoint
            .is_none()
            .then_some(("authorization", "authorization_endpoint")),
        GrantKind::DeviceCode => meta
            .device_authorization_endpoint
            .is_none()
            .then_some(("device authorization", "device_authorization_endpoint")),
        GrantKind::ClientCredentials | GrantKind::TokenExchange => None,
    };
    if meta.token_endpoint.is_none() {
        report.problem(
            format!("{name}: the server names no token endpoint"),
            "write token_endpoint in the provider's entry",
        );
    } else if let Some((what, key)) = needed {
        report.problem(
            format!(
                "{name}: grant = \"{}\" but the server names no {what} endpoint",
                p.grant.as_str()
            ),
            format!("write {key} in the provider's entry, or choose another grant"),
        );
    } else if p.client_id.is_none() && meta.registration_endpoint.is_none() {
        report.problem(
            format!("{name}: no client_id, and the server offers no registration (RFC 7591)"),
            "register an OAuth app at the server and write its client_id",
        );
    } else {
        report.ok(format!(
            "{name}: {} answers; endpoints: {}",
            escape(&p.issuer),
            list.join(", ")
        ));
    }
}

/// Our clock against the server's `Date`: tokens' lifetimes are counted
/// here, and ID tokens' `exp` (kubectl) by the server's clock.
fn clock(report: &mut Report, manager: &Manager, p: &Provider, origin: &str) {
    let origin = escape(origin);
    let Ok(Some(theirs)) = manager.server_date(p) else {
        crate::debug!("{origin}: no Date to compare the clock with");
        return;
    };
    let ours = crate::token::now();
    let (skew, side) = if ours >= theirs {
        (ours - theirs, "ahead of")
    } else {
        (theirs - ours, "behind")
    };
    let text = format!(
        "clock: this machine is {} {side} {origin}",
        crate::calendar::format_span(skew)
    );
    let fix = "set the clock right (e.g. timedatectl set-ntp true)";
    if skew > SKEW_PROBLEM {
        report.problem(text, fix);
    } else if skew > SKEW_WARNING {
        report.warning(text, fix);
    } else {
        report.ok(format!("clock: within {SKEW_WARNING} s of {origin}"));
    }
}

/// Whether a token is cached for the binding (a provider's default
/// account, or another), and whether it can be renewed without a person.
fn tokens(report: &mut Report, manager: &Manager, binding: &Binding) -> Result<()> {
    let p = &binding.provider;
    let account = &binding.account;
    let name = escape(&p.name);
    let now = crate::token::now();
    let login = format!("credential-oauth login {}", escape(p.url.as_str()));
    let who = if account.is_empty() {
        name.clone()
    } else {
        format!("{name} (account {})", escape(account))
    };
    let refreshable = |t: &crate::token::Token| {
        if t.refresh_token.is_some() {
            "refreshable"
        } else {
            "not refreshable"
        }
    };
    let cached = manager.cached(&Manager::key(binding))?;
    match &cached {
        None if p.grant == GrantKind::ClientCredentials => report.ok(format!(
            "{who}: no token cached; client credentials get one on first use"
        )),
        None if p.grant == GrantKind::TokenExchange => report.ok(format!(
            "{who}: no token cached; a token exchange gets one on first use"
        )),
        None => report.warning(
            format!("{who}: no token cached; the first use will ask someone to log in"),
            login.clone(),
        ),
        Some(t) => match t.deadline() {
            Some(d) if d <= now && t.refresh_token.is_none() => report.warning(
                format!(
                    "{who}: the cached token expired {} ago and is not refreshable",
                    crate::calendar::format_span(now - d)
                ),
                login.clone(),
            ),
            Some(d) if d <= now => report.ok(format!(
                "{who}: token cached, expired, refreshable (renewed on next use)"
            )),
            Some(d) => report.ok(format!(
                "{who}: token cached, expires in {}, {}",
                crate::calendar::format_span(d - now),
                refreshable(t)
            )),
            None => report.ok(format!(
                "{who}: token cached, used until the server rejects it"
            )),
        },
    }
    if let Some(t) = &cached {
        refresh_token_age(report, p, &who, t, now, &login);
    }
    Ok(())
}

/// A refresh token older than its server is known to keep one (Google,
/// for apps in "Testing" status) is refused at the next renewal, and the
/// cache cannot tell: say so before a caller finds out.
fn refresh_token_age(
    report: &mut Report,
    p: &Provider,
    who: &str,
    t: &crate::token::Token,
    now: u64,
    login: &str,
) {
    use crate::token::Obtained;
    let Some(limit) = crate::config::preset::refresh_token_limit(&p.issuer) else {
        return;
    };
    let (at, bound) = match t.refresh_token_obtained() {
        Some(Obtained::At(at)) => (at, ""),
        Some(Obtained::NoLaterThan(at)) => (at, "at least "),
        None => return,
    };
    let age = now.saturating_sub(at);
    if age > limit.lifetime {
        report.warning(
            format!(
                "{who}: the refresh token was obtained {bound}{} ago; {}",
                crate::calendar::format_span(age),
                limit.applies
            ),
            format!("{}: {login}", limit.fix),
        );
    }
}

/// This binary, as the links should resolve to it.
fn this_binary() -> Option<PathBuf> {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok())
}

/// The first executable `name` on PATH.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|d| d.is_absolute())
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// What `path` runs: this binary itself (a link or a copy resolved to
/// it), or a shim from helpers/ that runs the `credential-oauth` next to it.
fn runs_this_binary(path: &Path, me: &Path) -> bool {
    if path.canonicalize().is_ok_and(|p| p == me) {
        return true;
    }
    let script = std::fs::read(path)
        .ok()
        .filter(|b| b.starts_with(b"#!") && b.len() < 64 * 1024)
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    match (script, path.parent()) {
        (Some(text), Some(dir)) if text.contains("CREDENTIAL_OAUTH_PROTOCOL=") => dir
            .join("credential-oauth")
            .canonicalize()
            .is_ok_and(|p| p == me),
        _ => false,
    }
}

/// The names callers run: on PATH and pointing at this binary.
fn links(report: &mut Report) {
    let Some(me) = this_binary() else {
        report.warning(
            "links: cannot tell where this binary is, so links are not checked",
            "run doctor from the installed binary",
        );
        return;
    };
    let install = "./install.sh (or ln -sf this binary under that name on PATH)";
    for (name, who, required) in [
        ("credential-oauth", "cargo, kubectl, Go and scripts", true),
        ("git-credential-oauth", "git", true),
        ("docker-credential-oauth", "docker, podman and skopeo", true),
        ("bazel-credential-oauth", "Bazel", true),
        (crate::protocol::keyring_cli::NAME, "pip and uv", false),
    ] {
        match on_path(name) {
            None if required => report.warning(
                format!("{name}: not on PATH, so {who} cannot run it"),
                install,
            ),
            None => report.ok(format!(
                "{name}: not installed (only {who} use it: ./install.sh --keyring)"
            )),
            Some(path) if runs_this_binary(&path, &me) => {
                report.ok(format!("{name}: {} runs this binary", shown(&path)));
            }
            Some(path) if !required => report.warning(
                format!(
                    "{name}: {} is another program, so {who} run that, not this helper",
                    shown(&path)
                ),
                format!(
                    "put a link to {} named {name} earlier on PATH if {who} should use OAuth",
                    shown(&me)
                ),
            ),
            Some(path) => report.problem(
                format!(
                    "{name}: {} is another program, not this binary ({})",
                    shown(&path),
                    shown(&me)
                ),
                format!("ln -sf {} {}", shown(&me), shown(&path)),
            ),
        }
    }
    let Some(home) = crate::env::home_dir() else {
        return;
    };
    let plugins = home.join(".terraform.d").join("plugins");
    let link = plugins.join(crate::protocol::terraform::NAME);
    if std::fs::symlink_metadata(&link).is_err() {
        report.ok(format!(
            "{}: not installed in {} (only Terraform and OpenTofu use it: ./install.sh)",
            crate::protocol::terraform::NAME,
            shown(&plugins)
        ));
    } else if runs_this_binary(&link, &me) {
        report.ok(format!(
            "{}: {} runs this binary",
            crate::protocol::terraform::NAME,
            shown(&link)
        ));
    } else {
        report.problem(
            format!(
                "{}: {} is another program (or a broken link), not this binary ({})",
                crate::protocol::terraform::NAME,
                shown(&link),
                shown(&me)
            ),
            format!("ln -sf {} {}", shown(&me), shown(&link)),
        );
    }
}

/// Whether a `credential.helper` value runs us: `oauth`, or a path or
/// command line naming `git-credential-oauth` / `credential-oauth`.
fn names_this_helper(value: &str) -> bool {
    let value = value.trim();
    let program = value
        .trim_start_matches('!')
        .split_whitespace()
        .next()
        .unwrap_or("");
    let program = program.rsplit(['/', '\\']).next().unwrap_or(program);
    value == super::configure::HELPER
        || matches!(program, "git-credential-oauth" | "credential-oauth")
}

/// git's `credential.helper`, as git sees it from here (every scope).
fn git(report: &mut Report) {
    let out = match std::process::Command::new("git")
        .args(["config", "--get-all", "credential.helper"])
        .stdin(std::process::Stdio::null())
        .output()
    {
        Ok(out) => out,
        Err(_) => {
            report.ok("git: not installed, nothing to check");
            return;
        }
    };
    let helpers: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    let fix = "credential-oauth configure";
    if helpers.iter().any(|h| names_this_helper(h)) {
        report.ok("git: credential.helper includes oauth");
    } else if helpers.is_empty() {
        report.warning(
            "git: no credential.helper is set, so git does not ask this helper",
            fix,
        );
    } else {
        report.warning(
            format!(
                "git: credential.helper is {} but not oauth, so git does not ask this helper",
                helpers
                    .iter()
                    .map(|h| format!("{:?}", escape(h)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            fix,
        );
    }
}

/// docker's config.json: `credsStore` or `credHelpers` naming oauth. The
/// file's `auths` hold credentials: nothing of them is read or shown.
fn docker(report: &mut Report) {
    let Ok(path) = super::configure::docker_config_path() else {
        return;
    };
    let helper = super::configure::HELPER;
    let fix = "credential-oauth configure --docker (or --docker=REGISTRY)";
    let doc: serde_json::Value = match std::fs::read(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            report.ok(format!(
                "docker: no {} (only docker and OCI clients need it: {fix})",
                shown(&path)
            ));
            return;
        }
        Err(e) => {
            report.problem(
                format!("docker: cannot read {}: {e}", shown(&path)),
                "make the file readable",
            );
            return;
        }
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(doc) => doc,
            Err(_) => {
                report.problem(
                    format!("docker: {} is not valid JSON", shown(&path)),
                    "correct the file; docker cannot read it either",
                );
                return;
            }
        },
    };
    let store = doc.get("credsStore").and_then(|v| v.as_str());
    let registries: Vec<String> = doc
        .get("credHelpers")
        .and_then(|v| v.as_object())
        .map(|m| {
            m.iter()
                .filter(|(_, v)| v.as_str() == Some(helper))
                .map(|(k, _)| escape(k))
                .collect()
        })
        .unwrap_or_default();
    if store == Some(helper) {
        report.ok(format!("docker: {} has credsStore = oauth", shown(&path)));
    } else if !registries.is_empty() {
        report.ok(format!(
            "docker: {} has credHelpers = oauth for {}",
            shown(&path),
            registries.join(", ")
        ));
    } else {
        report.warning(
            format!(
                "docker: {} names oauth in neither credsStore nor credHelpers",
                shown(&path)
            ),
            fix,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_helper_values_that_run_us() {
        assert!(names_this_helper("oauth"));
        assert!(names_this_helper("/usr/local/bin/git-credential-oauth"));
        assert!(names_this_helper("!credential-oauth -v"));
        assert!(!names_this_helper("store"));
        assert!(!names_this_helper("oauth-other"));
        assert!(!names_this_helper(
            "/usr/lib/git-core/git-credential-libsecret"
        ));
    }

    #[test]
    fn a_problem_fails_the_run_and_every_fix_is_shown() {
        let mut report = Report::default();
        report.ok("a");
        report.warning("b", "do b");
        assert_eq!(report.problems(), 0);
        report.problem("c", "do c");
        assert_eq!(report.problems(), 1);
        assert_eq!(
            report.text(),
            "ok       a\nwarning  b\n         fix: do b\nproblem  c\n         fix: do c\n"
        );
    }
}
