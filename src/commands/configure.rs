//! `credential-oauth configure` / `unconfigure`: add or remove this helper in
//! the user's global git config and, with `--docker`, in docker's
//! config.json. Both are idempotent and say what changed.

use crate::error::{Error, Result};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The helper's name as git (`credential.helper`) and docker
/// (`credsStore`, `credHelpers`) spell it.
pub const HELPER: &str = "oauth";

/// What to change.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Targets {
    pub git: bool,
    /// `--docker`: `Some(None)` for credsStore, `Some(Some(registry))` for a
    /// credHelpers entry.
    pub docker: Option<Option<String>>,
}

impl Targets {
    /// Parse the flags after the verb: `--git`, `--docker`,
    /// `--docker=REGISTRY`. Without any flag, git is meant.
    pub fn parse(flags: &[&str]) -> Result<Targets> {
        let mut t = Targets::default();
        for f in flags {
            match *f {
                "--git" => t.git = true,
                "--docker" => t.docker = Some(None),
                f if f.starts_with("--docker=") => {
                    let reg = &f["--docker=".len()..];
                    if reg.is_empty() || reg.contains(char::is_whitespace) {
                        return Err(Error::Usage(format!("{f:?}: name a registry host")));
                    }
                    t.docker = Some(Some(reg.to_string()));
                }
                other => {
                    return Err(Error::Usage(format!(
                        "unknown flag {other:?} (configure [--git] [--docker[=REGISTRY]])"
                    )));
                }
            }
        }
        if t.docker.is_none() {
            t.git = true;
        }
        Ok(t)
    }
}

/// `configure` / `unconfigure`: add (or with `remove`, take away) the
/// helper, and say what was done on stdout.
pub fn run(
    targets: &Targets,
    remove: bool,
    ctx: &crate::context::Context,
    stdout: &mut dyn std::io::Write,
) -> Result<()> {
    let mut said = Vec::new();
    // Only the config file's providers get entries of their own in git's
    // config; an unreadable config file is a warning here, not a failure.
    let providers: Vec<String> = match ctx.config() {
        Ok(config) => config.providers.iter().map(|p| p.url.to_string()).collect(),
        Err(e) => {
            said.push(format!("warning: {e}"));
            Vec::new()
        }
    };
    if targets.git {
        if remove {
            said.push(git_remove()?);
            said.extend(git_scoped_remove(&providers)?);
        } else {
            said.push(git_add()?);
            said.extend(git_other_helpers(&providers)?);
            said.extend(link_warning("git-credential-oauth", &git_exec_path()));
        }
    }
    if let Some(registry) = &targets.docker {
        said.push(docker(registry.as_deref(), remove)?);
        if !remove {
            said.extend(link_warning("docker-credential-oauth", &[]));
        }
    }
    super::write_out(stdout, &(said.join("\n") + "\n"))
}

/// git version 2.46 brought `ephemeral` and the Bearer form (`authtype`).
const GIT_EPHEMERAL: (u32, u32) = (2, 46);

/// The helper list as a value of `credential.<url>.helper`: the empty value
/// resets what came before (git-config(1)), so for that URL git asks
/// oauth alone — first, and no storage helper is handed the token.
const SCOPED: [&str; 2] = ["", HELPER];

fn scoped_key(url: &str) -> String {
    format!("credential.{url}.helper")
}

fn git_get_all(scope: Option<&str>, key: &str) -> Result<Vec<String>> {
    let mut args = vec!["config"];
    args.extend(scope);
    args.extend(["--get-all", key]);
    let out = git(&args)?;
    // Exit 1: the key is not set, which is not an error here.
    if !out.status.success() && out.status.code() != Some(1) {
        return Err(Error::Input(format!(
            "git config --get-all {key} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect())
}

fn git_checked(args: &[&str]) -> Result<()> {
    let out = git(args)?;
    if out.status.success() {
        return Ok(());
    }
    Err(Error::Input(format!(
        "git {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    )))
}

/// Other helpers git runs for every host (any scope: system, global,
/// this repository): name them, and make oauth win for the providers' URLs.
/// git calls `store` on every helper after a successful `get`, so a storage
/// helper would also copy our token: `store` in clear into
/// ~/.git-credentials.
fn git_other_helpers(providers: &[String]) -> Result<Vec<String>> {
    let others: Vec<String> = git_get_all(None, "credential.helper")?
        .into_iter()
        .filter(|h| !h.is_empty() && h != HELPER)
        .collect();
    if others.is_empty() {
        return Ok(Vec::new());
    }
    let mut said = vec![format!(
        "git: other credential helpers are configured too: {}",
        others.join(", ")
    )];
    for url in providers {
        let key = scoped_key(url);
        let current = git_get_all(Some("--global"), &key)?;
        if current == SCOPED {
            said.push(format!("git: already only oauth for {url} ({key})"));
        } else if current.is_empty() {
            for value in SCOPED {
                git_checked(&["config", "--global", "--add", &key, value])?;
            }
            said.push(format!(
                "git: added {key} = \"\" and {HELPER}: for {url} oauth is asked alone, \
                 so it wins and no other helper is handed its token"
            ));
        } else {
            said.push(format!(
                "warning: {key} is already set ({}); left alone: oauth may not win for {url}",
                current.join(", ")
            ));
        }
    }
    let kept = match git_version() {
        Some(v) if v >= GIT_EPHEMERAL => format!(
            "git {}.{} drops a token oauth answers in the Bearer form (ephemeral=1: when the \
             server's challenge offers Bearer, or with authtype = \"bearer\"), but one \
             answered as a password is kept",
            v.0, v.1
        ),
        _ => "this git (older than 2.46: no ephemeral credentials) lets them keep it".into(),
    };
    said.push(format!(
        "warning: for other hosts (providers from git config or found by discovery) git \
         hands our token to {} after each use: {kept} (`store` writes it in clear to \
         ~/.git-credentials)",
        others.join(", ")
    ));
    Ok(said)
}

/// `git --version` as (major, minor).
fn git_version() -> Option<(u32, u32)> {
    let out = git(&["--version"]).ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut numbers = text
        .split_whitespace()
        .nth(2)?
        .split('.')
        .map(|n| n.parse::<u32>().ok());
    Some((numbers.next()??, numbers.next()??))
}

fn git_exec_path() -> Vec<PathBuf> {
    git(&["--exec-path"])
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|p| !p.is_empty())
        .map(|p| vec![PathBuf::from(p)])
        .unwrap_or_default()
}

/// Remove the URL-scoped lists `configure` added, and only those.
fn git_scoped_remove(providers: &[String]) -> Result<Vec<String>> {
    let mut said = Vec::new();
    for url in providers {
        let key = scoped_key(url);
        if git_get_all(Some("--global"), &key)? == SCOPED {
            git_checked(&["config", "--global", "--unset-all", &key])?;
            said.push(format!("git: removed {key}"));
        }
    }
    Ok(said)
}

/// The caller runs `name` from PATH (git looks in its exec path first):
/// a warning when it is missing or runs another binary than this one.
pub fn link_warning(name: &str, first: &[PathBuf]) -> Option<String> {
    let this = std::env::current_exe().ok()?;
    let this = this.canonicalize().unwrap_or(this);
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = first
        .iter()
        .cloned()
        .chain(std::env::split_paths(&path))
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p));
    match found {
        None => Some(format!(
            "warning: {name} is not on PATH, so nothing will run this helper; \
             link it: ln -s {} ~/.local/bin/{name} (or run install.sh)",
            this.display()
        )),
        Some(link) => {
            let target = link.canonicalize().unwrap_or_else(|_| link.clone());
            (target != this).then(|| {
                format!(
                    "warning: {} runs {}, not this binary ({})",
                    link.display(),
                    target.display(),
                    this.display()
                )
            })
        }
    }
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file() || path.with_extension("exe").is_file()
}

fn git(args: &[&str]) -> Result<std::process::Output> {
    Command::new("git")
        .args(args)
        .output()
        .map_err(|e| Error::Input(format!("cannot run git: {e}")))
}

fn git_helpers() -> Result<Vec<String>> {
    let out = git(&["config", "--global", "--get-all", "credential.helper"])?;
    // Exit 1: the key is not set, which is not an error here.
    if !out.status.success() && out.status.code() != Some(1) {
        return Err(Error::Input(format!(
            "git config --global --get-all credential.helper failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect())
}

fn git_add() -> Result<String> {
    if git_helpers()?.iter().any(|h| h == HELPER) {
        return Ok(format!(
            "git: already configured (credential.helper = {HELPER})"
        ));
    }
    let out = git(&["config", "--global", "--add", "credential.helper", HELPER])?;
    if !out.status.success() {
        return Err(Error::Input(format!(
            "git config --global --add credential.helper {HELPER} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(format!(
        "git: added credential.helper = {HELPER} to the global config"
    ))
}

fn git_remove() -> Result<String> {
    if !git_helpers()?.iter().any(|h| h == HELPER) {
        return Ok(format!(
            "git: already not configured (no credential.helper = {HELPER})"
        ));
    }
    // The value pattern is a regex; anchor it so `oauth-foo` stays.
    let pattern = format!("^{HELPER}$");
    let out = git(&[
        "config",
        "--global",
        "--unset-all",
        "credential.helper",
        &pattern,
    ])?;
    if !out.status.success() {
        return Err(Error::Input(format!(
            "git config --global --unset-all credential.helper failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(format!(
        "git: removed credential.helper = {HELPER} from the global config"
    ))
}

/// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn docker_config_path() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("config.json"));
    }
    crate::env::home_dir()
        .map(|h| h.join(".docker").join("config.json"))
        .ok_or_else(|| Error::Input("HOME is not set; cannot find docker's config".into()))
}

fn docker(registry: Option<&str>, remove: bool) -> Result<String> {
    let path = docker_config_path()?;
    let mut doc = match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| Error::Input(format!("{}: not valid JSON ({e})", path.display())))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Value::Object(Map::new()),
        Err(e) => return Err(Error::io(path.display().to_string(), e)),
    };
    // The credsStore we replace keeps serving every registry no provider
    // serves (the docker frontend delegates to it), and comes back on
    // unconfigure.
    let replaced = match (registry, remove) {
        (None, false) => doc
            .get("credsStore")
            .and_then(Value::as_str)
            .filter(|s| *s != HELPER && !s.is_empty())
            .map(str::to_string),
        _ => None,
    };
    if let Some(old) = &replaced
        && !is_store_name(old)
    {
        return Err(Error::Input(format!(
            "{}: credsStore {:?} is not a helper name; not replacing it",
            path.display(),
            crate::prompt::escape(old)
        )));
    }
    let (store_changed, mut message) = edit_docker(&mut doc, registry, remove)
        .map_err(|m| Error::Input(format!("{}: {m}", path.display())))?;
    // `unconfigure --docker` takes the helper out of docker's config
    // altogether: the credHelpers entries `configure --docker=REGISTRY`
    // added go too.
    let registries = match (registry, remove) {
        (None, true) => remove_registry_entries(&mut doc),
        _ => Vec::new(),
    };
    if !registries.is_empty() {
        message.push_str(&format!(
            "; removed credHelpers[{}] = {HELPER:?}",
            registries
                .iter()
                .map(|r| format!("{:?}", crate::prompt::escape(r)))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let changed = store_changed || !registries.is_empty();
    let restore = match (registry, remove, store_changed) {
        (None, true, true) => previous_store_for(&path),
        _ => None,
    };
    if let Some(old) = &restore
        && let Some(root) = doc.as_object_mut()
    {
        root.insert("credsStore".into(), Value::String(old.clone()));
        message = format!("restored credsStore = {old:?} (was {HELPER:?})");
    }
    if changed {
        if replaced.is_some() {
            record_previous_store(&path, replaced.as_deref())?;
        }
        write_json(&path, &doc)?;
        if restore.is_some() {
            record_previous_store(&path, None)?;
        }
    }
    if let Some(old) = &replaced {
        message.push_str(&format!(
            "; registries no provider serves still use docker-credential-{old}"
        ));
    }
    Ok(format!("docker: {message} in {}", path.display()))
}

/// A docker credential helper's name, as `docker-credential-<name>` runs:
/// no path, no option.
fn is_store_name(s: &str) -> bool {
    !s.starts_with(['-', '.'])
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Where `configure --docker` records the credsStore it replaced, one per
/// docker config file: `$XDG_STATE_HOME/credential-oauth/docker-previous-stores.json`,
/// else under `~/.local/state`. Not docker's config.json: docker rewrites
/// that file and drops keys it does not know.
fn previous_stores_path() -> Option<PathBuf> {
    crate::env::non_empty_path("XDG_STATE_HOME")
        .filter(|p| p.is_absolute())
        .or_else(|| crate::env::home_dir().map(|h| h.join(".local").join("state")))
        .map(|base| {
            base.join("credential-oauth")
                .join("docker-previous-stores.json")
        })
}

/// Missing or unreadable: nothing recorded.
fn previous_stores() -> Map<String, Value> {
    let Some(path) = previous_stores_path() else {
        return Map::new();
    };
    let Ok(file) = std::fs::File::open(path) else {
        return Map::new();
    };
    use std::io::Read;
    let mut bytes = Vec::new();
    if file.take(64 * 1024).read_to_end(&mut bytes).is_err() {
        return Map::new();
    }
    serde_json::from_slice(&bytes).unwrap_or_default()
}

fn previous_store_for(docker_config: &Path) -> Option<String> {
    previous_stores()
        .get(&docker_config.display().to_string())
        .and_then(Value::as_str)
        .filter(|s| is_store_name(s))
        .map(str::to_string)
}

/// The credsStore `configure --docker` replaced in the docker config the
/// environment names (`$DOCKER_CONFIG`, else `~/.docker`): the helper the
/// docker frontend hands every registry no provider serves.
pub fn previous_docker_store() -> Option<String> {
    previous_store_for(&docker_config_path().ok()?)
}

fn record_previous_store(docker_config: &Path, store: Option<&str>) -> Result<()> {
    let path = previous_stores_path()
        .ok_or_else(|| Error::Input("HOME is not set; cannot record docker's store".into()))?;
    let mut all = previous_stores();
    let key = docker_config.display().to_string();
    match store {
        Some(s) => all.insert(key, Value::String(s.to_string())),
        None => all.remove(&key),
    };
    let mut text = serde_json::to_string_pretty(&Value::Object(all))
        .map_err(|e| Error::Input(format!("cannot encode {}: {e}", path.display())))?;
    text.push('\n');
    write_atomically(&path, text.as_bytes())
}

/// Take every `credHelpers` entry naming this helper out of docker's config
/// document; returns the registries whose entry went.
pub fn remove_registry_entries(doc: &mut Value) -> Vec<String> {
    let Some(helpers) = doc.get_mut("credHelpers").and_then(Value::as_object_mut) else {
        return Vec::new();
    };
    let ours: Vec<String> = helpers
        .iter()
        .filter(|(_, v)| v.as_str() == Some(HELPER))
        .map(|(k, _)| k.clone())
        .collect();
    for registry in &ours {
        helpers.remove(registry);
    }
    ours
}

/// Set or clear the helper in docker's config document, keeping every other
/// key. Returns whether anything changed and what to say.
pub fn edit_docker(
    doc: &mut Value,
    registry: Option<&str>,
    remove: bool,
) -> std::result::Result<(bool, String), String> {
    let root = doc
        .as_object_mut()
        .ok_or("the top level is not a JSON object")?;
    let (holder, key, label) = match registry {
        None => (root, "credsStore".to_string(), "credsStore".to_string()),
        Some(reg) => {
            let helpers = root
                .entry("credHelpers")
                .or_insert_with(|| Value::Object(Map::new()));
            let helpers = helpers
                .as_object_mut()
                .ok_or("credHelpers is not a JSON object")?;
            (helpers, reg.to_string(), format!("credHelpers[{reg:?}]"))
        }
    };
    let current = holder.get(&key).and_then(Value::as_str);
    let ours = current == Some(HELPER);
    if remove {
        if !ours {
            return Ok((false, format!("already no {label} = {HELPER:?}")));
        }
        holder.remove(&key);
        Ok((true, format!("removed {label} = {HELPER:?}")))
    } else {
        if ours {
            return Ok((false, format!("already {label} = {HELPER:?}")));
        }
        let before = current.map(|c| format!(" (was {c:?})")).unwrap_or_default();
        holder.insert(key, Value::String(HELPER.into()));
        Ok((true, format!("added {label} = {HELPER:?}{before}")))
    }
}

#[cfg(unix)]
fn file_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o777)
}

#[cfg(not(unix))]
fn file_mode(_path: &Path) -> Option<u32> {
    None
}

fn write_json(path: &Path, doc: &Value) -> Result<()> {
    let mut text = serde_json::to_string_pretty(doc)
        .map_err(|e| Error::Input(format!("cannot encode docker config: {e}")))?;
    text.push('\n');
    write_atomically(path, text.as_bytes())
}

/// Write through a temporary file in the same directory and rename it into
/// place, so no reader sees half a file; the old mode is kept (0600 for
/// a new file, since docker's config and ours may hold credentials).
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let mode = file_mode(path);
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let err = |e: std::io::Error| Error::io(path.display().to_string(), e);
    std::fs::create_dir_all(dir).map_err(err)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(
        ".{name}.{}.{:x}",
        std::process::id(),
        crate::random::u64()
    ));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode.unwrap_or(0o600));
    }
    let result = (|| {
        use std::io::Write;
        let mut f = opts.open(&tmp)?;
        #[cfg(unix)]
        if let Some(m) = mode {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(std::fs::Permissions::from_mode(m))?;
        }
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flags_parse_with_git_as_the_default() {
        assert_eq!(
            Targets::parse(&[]).unwrap(),
            Targets {
                git: true,
                docker: None
            }
        );
        assert_eq!(
            Targets::parse(&["--docker=registry.example.com"]).unwrap(),
            Targets {
                git: false,
                docker: Some(Some("registry.example.com".into()))
            }
        );
        assert!(Targets::parse(&["--docker", "--git"]).unwrap().git);
        assert!(Targets::parse(&["--frob"]).is_err());
        assert!(Targets::parse(&["--docker="]).is_err());
    }

    #[test]
    fn docker_edit_keeps_other_keys_and_is_idempotent() {
        let mut doc = json!({"auths": {"a": {}}, "credsStore": "desktop", "x": 1});
        let (changed, said) = edit_docker(&mut doc, None, false).unwrap();
        assert!(changed && said.contains("was \"desktop\""), "{said}");
        assert_eq!(doc["credsStore"], "oauth");
        assert_eq!(doc["auths"], json!({"a": {}}));
        assert!(!edit_docker(&mut doc, None, false).unwrap().0);
        assert!(edit_docker(&mut doc, Some("r.example"), false).unwrap().0);
        assert_eq!(doc["credHelpers"]["r.example"], "oauth");
        assert!(edit_docker(&mut doc, None, true).unwrap().0);
        assert!(doc.get("credsStore").is_none());
        assert!(!edit_docker(&mut doc, None, true).unwrap().0);
        assert_eq!(doc["x"], 1);
    }

    #[test]
    fn docker_edit_leaves_another_helper_alone_on_remove() {
        let mut doc = json!({"credHelpers": {"r": "ecr-login"}});
        assert!(!edit_docker(&mut doc, Some("r"), true).unwrap().0);
        assert_eq!(doc["credHelpers"]["r"], "ecr-login");
        assert!(edit_docker(&mut json!([1]), None, false).is_err());
    }
}
