//! The binary under another program name, as a symlink, the way an
//! install puts `docker-credential-oauth` on PATH.

use std::path::PathBuf;

use super::{BIN, Env, Output, run_command};

impl Env {
    /// `root/bin`: where [`Env::link_as`] puts the binary under other names.
    pub fn bin_dir(&self) -> PathBuf {
        self.root.join("bin")
    }

    /// The binary under the program name `name`, as a symlink in
    /// [`Env::bin_dir`], the way an install puts `docker-credential-oauth`
    /// on PATH.
    pub fn link_as(&self, name: &str) -> PathBuf {
        let dir = self.bin_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let link = dir.join(name);
        // Tests run commands from several threads; the first one links.
        match std::os::unix::fs::symlink(BIN, &link) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                panic!("cannot link {}: {e}", link.display())
            }
            _ => link,
        }
    }

    /// Run the binary through a symlink named `name`, writing `stdin` on a thread.
    pub fn run_as(&self, name: &str, args: &[&str], stdin: impl AsRef<[u8]>) -> Output {
        let mut cmd = self.command(self.link_as(name));
        cmd.args(args);
        run_command(cmd, stdin.as_ref())
    }

    /// [`Env::bin_dir`] ahead of the inherited PATH, so the programs the
    /// tests run find the helpers linked there.
    pub fn path_with_bin_dir(&self) -> std::ffi::OsString {
        let inherited = super::test_path();
        let dirs = std::iter::once(self.bin_dir()).chain(std::env::split_paths(&inherited));
        std::env::join_paths(dirs).unwrap()
    }
}
