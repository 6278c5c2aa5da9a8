//! A private D-Bus session bus, with gnome-keyring's Secret Service on it
//! when asked, so keychain tests never touch the developer's own.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use super::tools::{find_on_path, require_tools};
use super::{Env, run_command};

/// A private D-Bus session bus, optionally with gnome-keyring's Secret
/// Service on it (its login collection unlocked), for one test. Its
/// address is put into the `Env`; the daemons are killed on drop.
pub struct SessionBus {
    children: Vec<std::process::Child>,
}

impl SessionBus {
    /// Start the bus, and gnome-keyring-daemon when `secret_service`.
    /// `None` when the tools are missing outside CI (see [`require_tools`]).
    pub fn start(env: &mut Env, secret_service: bool) -> Option<SessionBus> {
        let tools: &[&str] = if secret_service {
            &[
                "dbus-daemon",
                "dbus-send",
                "gnome-keyring-daemon",
                "secret-tool",
            ]
        } else {
            &["dbus-daemon"]
        };
        require_tools(tools)?;
        // No service directories: nothing is activated behind the test's back,
        // so "no Secret Service" really means none.
        let mut bus = SessionBus::start_bus(env, "");
        if secret_service {
            let run = env.root.join("run");
            bus.start_keyring(env, &run);
        }
        Some(bus)
    }

    /// A bus on which asking for the Secret Service hangs: its activation
    /// starts a program that never takes the name, as a broken desktop
    /// session does. dbus-daemon holds the call until its own timeout.
    pub fn start_hanging(env: &mut Env) -> Option<SessionBus> {
        require_tools(&["dbus-daemon", "sleep"])?;
        let services = env.root.join("services");
        std::fs::create_dir_all(&services).unwrap();
        std::fs::write(
            services.join("org.freedesktop.secrets.service"),
            format!(
                "[D-BUS Service]\nName=org.freedesktop.secrets\nExec={} 10\n",
                find_on_path("sleep").unwrap().display()
            ),
        )
        .unwrap();
        let extra = format!(
            "<servicedir>{}</servicedir><limit name=\"service_start_timeout\">20000</limit>",
            services.display()
        );
        Some(SessionBus::start_bus(env, &extra))
    }

    fn start_bus(env: &mut Env, extra_config: &str) -> SessionBus {
        let run = env.root.join("run");
        std::fs::create_dir_all(&run).unwrap();
        std::fs::set_permissions(&run, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .unwrap();
        let config = env.root.join("bus.conf");
        std::fs::write(
            &config,
            format!(
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n \
                 \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n\
                 <busconfig><type>session</type><listen>unix:dir={}</listen><auth>EXTERNAL</auth>\
                 {extra_config}<policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/>\
                 <allow eavesdrop=\"true\"/><allow own=\"*\"/></policy></busconfig>\n",
                run.display()
            ),
        )
        .unwrap();
        let mut dbus = env
            .command("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--nopidfile", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start dbus-daemon");
        // dbus-daemon prints the address once it listens, or exits.
        let mut address = String::new();
        let stdout = dbus.stdout.take().unwrap();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut address).unwrap();
        let address = address.trim().to_string();
        let bus = SessionBus {
            children: vec![dbus],
        };
        assert!(!address.is_empty(), "dbus-daemon printed no address");
        env.set_var("DBUS_SESSION_BUS_ADDRESS", &address);
        bus
    }

    fn start_keyring(&mut self, env: &Env, run: &Path) {
        let log = env.root.join("gnome-keyring.log");
        let mut daemon = env
            .command("gnome-keyring-daemon")
            .env("XDG_RUNTIME_DIR", run)
            .args(["--foreground", "--unlock", "--components=secrets"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("cannot start gnome-keyring-daemon");
        // The password of the login keyring it creates, then EOF.
        let mut stdin = daemon.stdin.take().unwrap();
        stdin.write_all(b"test-keyring-password").unwrap();
        drop(stdin);
        self.children.push(daemon);
        // Ready once an item can be stored in the default collection.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let mut probe = env.command("secret-tool");
            probe.args([
                "store",
                "--label=readiness",
                "service",
                "credential-oauth-test",
                "account",
                "readiness",
            ]);
            let out = run_command(probe, b"ready");
            if out.code == Some(0) {
                return;
            }
            if let Some(status) = self.children[1].try_wait().unwrap() {
                panic!(
                    "gnome-keyring-daemon exited ({status}):\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the Secret Service did not come up within 30 s\n{out}\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// `secret-tool lookup service credential-oauth account <key>`: the
    /// secret, or `None` when there is no such item.
    pub fn lookup(&self, env: &Env, key: &str) -> Option<String> {
        let mut cmd = env.command("secret-tool");
        cmd.args(["lookup", "service", "credential-oauth", "account", key]);
        let out = run_command(cmd, b"");
        match out.code {
            Some(0) => Some(out.stdout),
            Some(1) if out.stdout.is_empty() => None,
            _ => panic!("secret-tool lookup failed\n{out}"),
        }
    }

    /// Lock the login collection, as a screen lock or a fresh login does.
    /// Unlocking it again would need a prompt, and this bus offers none.
    pub fn lock(&self, env: &Env) {
        let mut cmd = env.command("dbus-send");
        cmd.args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            "array:objpath:/org/freedesktop/secrets/collection/login",
        ]);
        let out = run_command(cmd, b"");
        assert!(
            out.code == Some(0) && out.stdout.contains("collection/login"),
            "cannot lock the login collection\n{out}"
        );
    }

    /// `secret-tool search --all service credential-oauth`: the attributes
    /// of every item the program made (secrets are not shown without --unlock).
    pub fn search(&self, env: &Env) -> String {
        let mut cmd = env.command("secret-tool");
        cmd.args(["search", "--all", "service", "credential-oauth"]);
        let out = run_command(cmd, b"");
        format!("{}{}", out.stdout, out.stderr)
    }
}

impl Drop for SessionBus {
    fn drop(&mut self) {
        // The keyring first, so it does not see its bus vanish.
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
