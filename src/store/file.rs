//! The file backend: `tokens/<key>.json`, directory 0700, files 0600 from the
//! moment they exist, replaced through a temporary file and a rename.

use super::{CacheKey, Store};
use crate::error::{Error, Result};
use crate::secret::Secret;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Largest entry read back; tokens are a few KiB at most.
const MAX_ENTRY: u64 = 1024 * 1024;

pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    pub fn new(dir: PathBuf) -> FileStore {
        FileStore { dir }
    }

    /// The store under the XDG cache directory.
    pub fn default_location() -> Result<FileStore> {
        super::tokens_dir().map(FileStore::new).ok_or_else(|| {
            Error::Local("cannot find a cache directory: set HOME or XDG_CACHE_HOME".into())
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Remove temporary files of `key` left by writers that died between
    /// creating and renaming them. A minute is far longer than any write
    /// takes, so a live writer's file is never touched.
    fn sweep_orphans(&self, key: &CacheKey) {
        let prefix = format!(".{}.", key.as_str());
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > 60);
            if old && name.starts_with(&prefix) && name.ends_with(".tmp") {
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    fn path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(format!("{}.json", key.as_str()))
    }
}

/// Create `dir` with mode 0700, and every missing parent with 0700 too:
/// each directory we create is private from the moment it exists, whatever
/// the umask (DESIGN.md "Where tokens live"; the XDG Base Directory
/// Specification asks for 0700 when creating a missing base directory such
/// as `~/.cache`). Directories that already exist are left as they are,
/// except `dir` itself, which is checked.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    let err = |e: std::io::Error| Error::io(format!("cannot create {}", dir.display()), e);
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    if let Some(parent) = dir.parent() {
        builder.recursive(true).create(parent).map_err(err)?;
        builder.recursive(false);
    }
    match builder.create(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            check_private(dir, 0o700).map(drop)
        }
        Err(e) => Err(err(e)),
    }
}

/// Open a new file that nobody else can read, failing if it exists.
fn create_private_file(path: &Path) -> std::io::Result<fs::File> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)
}

/// The effective user id of this process.
#[cfg(unix)]
#[allow(unsafe_code)]
pub fn effective_uid() -> u32 {
    // SAFETY: geteuid takes no arguments, touches no memory of ours and
    // cannot fail (POSIX.1-2008).
    unsafe { libc::geteuid() }
}

/// Refuse a path that is a symbolic link or belongs to someone else; take
/// group and world access away (with a warning) rather than fail, since a
/// permissive umask or a copied home directory is the usual cause.
/// `Ok(false)` when the path does not exist.
pub fn check_private(path: &Path, mode: u32) -> Result<bool> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => {
            return Err(Error::io(format!("cannot inspect {}", path.display()), e));
        }
    };
    if meta.file_type().is_symlink() {
        return Err(Error::Local(format!(
            "refusing to use {}: it is a symbolic link",
            path.display()
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let uid = effective_uid();
        if meta.uid() != uid {
            return Err(Error::Local(format!(
                "refusing to use {}: it belongs to uid {}, not to uid {uid}",
                path.display(),
                meta.uid()
            )));
        }
        if meta.mode() & 0o077 != 0 {
            fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(|e| {
                Error::io(format!("cannot restrict access to {}", path.display()), e)
            })?;
            crate::log::warn(&format!(
                "{} was accessible to other users; its mode is now {mode:o}",
                path.display()
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = mode;
    Ok(true)
}

impl Store for FileStore {
    fn load(&self, key: &CacheKey) -> Result<Option<Secret>> {
        let path = self.path(key);
        if !check_private(&self.dir, 0o700)? || !check_private(&path, 0o600)? {
            return Ok(None);
        }
        let file = match fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(format!("cannot read {}", path.display()), e)),
        };
        let text = crate::bounded::read_at_most(file, MAX_ENTRY)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok());
        match text {
            Some(text) => Ok(Some(Secret::new(text))),
            // An unreadable, oversized or non-UTF-8 entry is treated like a
            // corrupt one: a miss that the next save replaces.
            None => {
                crate::debug!("ignoring unreadable cache entry {}", path.display());
                Ok(Some(Secret::new("")))
            }
        }
    }

    fn save(&self, key: &CacheKey, value: &Secret) -> Result<()> {
        create_private_dir(&self.dir)?;
        check_private(&self.dir, 0o700)?;
        let path = self.path(key);
        let tmp = self.dir.join(format!(
            ".{}.{}.{:x}.tmp",
            key.as_str(),
            std::process::id(),
            crate::random::u64()
        ));
        let err = |e: std::io::Error| Error::io(format!("cannot write {}", path.display()), e);
        let written = create_private_file(&tmp).and_then(|mut f| {
            f.write_all(value.expose().as_bytes())?;
            f.sync_all()
        });
        if let Err(e) = written.and_then(|()| fs::rename(&tmp, &path)) {
            let _ = fs::remove_file(&tmp);
            return Err(err(e));
        }
        // Make the rename itself durable.
        if let Ok(d) = fs::File::open(&self.dir) {
            let _ = d.sync_all();
        }
        self.sweep_orphans(key);
        Ok(())
    }

    fn delete(&self, key: &CacheKey) -> Result<bool> {
        let path = self.path(key);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::io(format!("cannot remove {}", path.display()), e)),
        }
    }

    fn name(&self) -> &'static str {
        "file"
    }
}
