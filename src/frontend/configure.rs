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

/// Add (or with `remove`, take away) the helper; returns the lines to print.
pub fn run(targets: &Targets, remove: bool) -> Result<Vec<String>> {
    let mut said = Vec::new();
    if targets.git {
        said.push(if remove { git_remove()? } else { git_add()? });
    }
    if let Some(registry) = &targets.docker {
        said.push(docker(registry.as_deref(), remove)?);
    }
    Ok(said)
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
        Err(e) => return Err(Error::Input(format!("{}: {e}", path.display()))),
    };
    let (changed, message) = edit_docker(&mut doc, registry, remove)
        .map_err(|m| Error::Input(format!("{}: {m}", path.display())))?;
    if changed {
        write_json(&path, &doc)?;
    }
    Ok(format!("docker: {message} in {}", path.display()))
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
    let err = |e: std::io::Error| Error::Input(format!("{}: {e}", path.display()));
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
