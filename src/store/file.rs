//! The file backend: `tokens/<key>.json`, directory 0700, files 0600 from the
//! moment they exist, replaced through a temporary file and a rename.

use super::{CacheKey, Store};
use crate::error::{Error, Result};
use std::fs;
use std::io::{Read, Write};
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
            Error::Store("cannot find a cache directory: set HOME or XDG_CACHE_HOME".into())
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(format!("{}.json", key.as_str()))
    }
}

/// Create `dir` (and parents) with mode 0700 for the last component.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    let err = |e: std::io::Error| Error::Store(format!("cannot create {}: {e}", dir.display()));
    if let Some(parent) = dir.parent() {
        fs::create_dir_all(parent).map_err(err)?;
    }
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    match builder.create(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
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

impl Store for FileStore {
    fn load(&self, key: &CacheKey) -> Result<Option<String>> {
        let path = self.path(key);
        let file = match fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::Store(format!("cannot read {}: {e}", path.display()))),
        };
        let mut text = String::new();
        match file.take(MAX_ENTRY + 1).read_to_string(&mut text) {
            // An unreadable or oversized entry is treated like a corrupt one:
            // a miss that the next save replaces.
            Ok(n) if n as u64 <= MAX_ENTRY => Ok(Some(text)),
            _ => {
                crate::debug!("ignoring unreadable cache entry {}", path.display());
                Ok(Some(String::new()))
            }
        }
    }

    fn save(&self, key: &CacheKey, value: &str) -> Result<()> {
        create_private_dir(&self.dir)?;
        let path = self.path(key);
        let tmp = self.dir.join(format!(
            ".{}.{}.{:x}.tmp",
            key.as_str(),
            std::process::id(),
            crate::random::u64()
        ));
        let err = |e: std::io::Error| Error::Store(format!("cannot write {}: {e}", path.display()));
        let written = create_private_file(&tmp).and_then(|mut f| {
            f.write_all(value.as_bytes())?;
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
        Ok(())
    }

    fn delete(&self, key: &CacheKey) -> Result<bool> {
        let path = self.path(key);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::Store(format!(
                "cannot remove {}: {e}",
                path.display()
            ))),
        }
    }

    fn name(&self) -> &'static str {
        "file"
    }
}
