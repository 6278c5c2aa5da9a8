//! A scripted `$BROWSER` for the interactive grants, and waiting for what
//! it leaves behind.

use std::path::Path;

use super::Env;

impl Env {
    /// Install `body` as the `$BROWSER` program (a shell script that gets
    /// the URL as `$1`; `$DIR` is this Env's root directory).
    pub fn browser(&mut self, body: &str) {
        use std::os::unix::fs::PermissionsExt;
        let path = self.root.join("browser.sh");
        let script = format!("#!/bin/sh\nDIR='{}'\n{body}\n", self.root.display());
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let shown = path.display().to_string();
        self.var("BROWSER", &shown);
    }

    /// Lines of `$DIR/<name>`, or none when it does not exist.
    pub fn lines_of(&self, name: &str) -> Vec<String> {
        std::fs::read_to_string(self.root.join(name))
            .map(|s| s.lines().map(str::to_string).collect())
            .unwrap_or_default()
    }
}

/// Wait until `path` exists (something another process writes when done).
pub fn wait_for_file(path: &Path, secs: u64) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if path.exists() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    path.exists()
}
