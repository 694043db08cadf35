//! Helpers shared by the CLI's integration tests: a sandboxed config and data directory, a
//! `stopline serve` child, private D-Bus session buses with real services on them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A throwaway home for one test: its own config file and data directory.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// A sandbox with the demo workspace written by `stopline init --demo`.
    pub fn demo() -> Self {
        let sandbox = Self::new();
        sandbox.ok(&["init", "--demo"]);
        sandbox
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("config/stopline.toml")
    }

    pub fn store_path(&self) -> PathBuf {
        self.dir.path().join("data/stopline.db")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_stopline"));
        command
            .args(args)
            .env("STOPLINE_CONFIG", self.config_path())
            .env("STOPLINE_DATA_DIR", self.dir.path().join("data"))
            // No desktop app to open from notifications, unless a test says otherwise.
            .env("STOPLINE_DESKTOP", "")
            .stdin(Stdio::null());
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "stopline {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let mut with_json = args.to_vec();
        with_json.push("--json");
        serde_json::from_str(&self.ok(&with_json)).unwrap()
    }

    /// Runs and expects failure with `status`; returns stderr.
    pub fn fails(&self, args: &[&str], status: i32) -> String {
        let output = self.run(args);
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(
            output.status.code(),
            Some(status),
            "stopline {args:?}: stdout {} stderr {stderr}",
            String::from_utf8_lossy(&output.stdout)
        );
        assert!(!stderr.trim().is_empty(), "a failure says why");
        stderr
    }

    pub fn write_config(&self, text: &str) {
        std::fs::create_dir_all(self.config_path().parent().unwrap()).unwrap();
        std::fs::write(self.config_path(), text).unwrap();
    }

    pub fn read_config(&self) -> String {
        std::fs::read_to_string(self.config_path()).unwrap()
    }
}

/// A cheap, seedable random source: the test needs varied kill timings, not cryptography.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The `p`th percentile of `sorted` (nearest rank): the benches share these helpers (through
/// `#[path]`), and only they use this one.
#[allow(dead_code)]
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Starts `count` copies of a write command, SIGKILLs each at a random moment, and returns the
/// stdout of those that finished (and so reported success) before their kill.
pub fn storm(
    sandbox: &Sandbox,
    rng: &mut XorShift,
    args: impl Fn(usize) -> Vec<String>,
) -> (Vec<(usize, String)>, usize) {
    let mut succeeded = Vec::new();
    let mut killed = 0;
    for wave in 0..10 {
        let mut children: Vec<(usize, std::process::Child, Duration)> = (0..6)
            .map(|i| {
                let n = wave * 6 + i;
                let argv = args(n);
                let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
                let child = sandbox
                    .command(&argv)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap();
                (n, child, Duration::from_micros(rng.below(25_000)))
            })
            .collect();
        let start = Instant::now();
        children.sort_by_key(|(_, _, at)| *at);
        for (n, mut child, at) in children {
            if let Some(wait) = at.checked_sub(start.elapsed()) {
                std::thread::sleep(wait);
            }
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap(); // SIGKILL
                killed += 1;
            }
            let output = child.wait_with_output().unwrap();
            if output.status.success() {
                succeeded.push((n, String::from_utf8(output.stdout).unwrap()));
            }
        }
    }
    (succeeded, killed)
}

pub fn integrity_ok(store: &Path) {
    let conn = rusqlite::Connection::open(store).unwrap();
    let result: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(result, "ok");
}

/// A `stopline serve` child and the address it listens on (read from its log).
pub struct Served {
    pub child: std::process::Child,
    pub address: String,
    /// The child's stderr, line by line, drained by a thread so a full pipe never blocks it.
    log: std::sync::mpsc::Receiver<String>,
    /// Lines already read from `log`, so a later wait can still find them.
    seen: std::sync::Mutex<Vec<String>>,
}

/// Stops the child whatever happens in the test: nothing outlives it.
impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    pub fn start(sandbox: &Sandbox, extra: &[&str]) -> Self {
        Self::start_with_env(sandbox, extra, &[])
    }

    /// With `env` on top of the sandbox's environment.
    pub fn start_with_env(sandbox: &Sandbox, extra: &[&str], env: &[(String, String)]) -> Self {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        let mut command = sandbox.command(&args);
        command.envs(env.iter().cloned());
        Self::spawn(command)
    }

    /// Started with a soft limit of `files` open files (the hard limit unchanged), as a login
    /// session on some systems starts it.
    pub fn start_with_file_limit(sandbox: &Sandbox, files: u32) -> Self {
        let inner = sandbox.command(&["serve", "--listen", "127.0.0.1:0"]);
        let mut command = Command::new("prlimit");
        command
            .arg(format!("--nofile={files}:"))
            .arg(inner.get_program())
            .args(inner.get_args())
            .stdin(Stdio::null());
        for (name, value) in inner.get_envs() {
            match value {
                Some(value) => command.env(name, value),
                None => command.env_remove(name),
            };
        }
        Self::spawn(command)
    }

    /// Spawns `command` (a `stopline serve`), logging at info, and waits for its address.
    pub fn spawn(mut command: Command) -> Self {
        let mut child = command
            .env("STOPLINE_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (lines, log) = std::sync::mpsc::channel();
        // Owned at once, so the child is reaped (by Drop) even if this start fails.
        let mut served = Self {
            child,
            address: String::new(),
            log,
            seen: std::sync::Mutex::new(Vec::new()),
        };
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let line = served
                .log
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("serve never said where it listens");
            served.seen.lock().unwrap().push(line.clone());
            if let Some(rest) = line.split("address=").nth(1) {
                served.address = rest.split_whitespace().next().unwrap().to_owned();
                return served;
            }
        }
    }

    /// Every line logged so far (what has arrived since is read first).
    pub fn seen_lines(&self) -> Vec<String> {
        let mut seen = self.seen.lock().unwrap();
        while let Ok(line) = self.log.try_recv() {
            seen.push(line);
        }
        seen.clone()
    }

    /// Waits for a line of the log that contains `needle`; returns it.
    pub fn wait_for_log(&self, needle: &str) -> String {
        if let Some(line) = self
            .seen
            .lock()
            .unwrap()
            .iter()
            .find(|l| l.contains(needle))
        {
            return line.clone();
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let line = self
                .log
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("serve never logged {needle:?}"));
            self.seen.lock().unwrap().push(line.clone());
            if line.contains(needle) {
                return line;
            }
        }
    }

    /// POSTs an Alertmanager webhook with one firing alert per `(alertname, labels)`.
    pub fn post_alerts(&self, token: &str, alerts: &[(&str, &[(&str, &str)])]) -> (u16, String) {
        try_post_alerts(&self.address, token, alerts).expect("serve did not answer")
    }

    /// A raw HTTP/1.0 request: status line and body.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, String) {
        try_request(&self.address, method, path, headers, body).expect("serve did not answer")
    }

    /// SIGTERM, then the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Posts firing alerts (name and labels) to `stopline serve` at `address` as Alertmanager's
/// webhook does; `None` when nothing answered (the engine was killed meanwhile).
pub fn try_post_alerts(
    address: &str,
    token: &str,
    alerts: &[(&str, &[(&str, &str)])],
) -> Option<(u16, String)> {
    let alerts: Vec<Value> = alerts
        .iter()
        .map(|(name, labels)| {
            let mut all = serde_json::Map::new();
            all.insert("alertname".into(), Value::from(*name));
            for (k, v) in labels.iter() {
                all.insert((*k).into(), Value::from(*v));
            }
            serde_json::json!({
                "status": "firing",
                "labels": all,
                "annotations": {},
                "startsAt": "2026-11-27T10:00:00Z",
            })
        })
        .collect();
    let body = serde_json::json!({
        "version": "4", "status": "firing", "receiver": "stopline", "groupKey": "{}",
        "alerts": alerts,
    });
    let auth = format!("Bearer {token}");
    try_request(
        address,
        "POST",
        "/v1/alertmanager",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        body.to_string().as_bytes(),
    )
}

/// A raw HTTP/1.0 request: status line and body; `None` when the connection failed or broke.
pub fn try_request(
    address: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).ok()?;
    let mut head = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let status = answer.split_whitespace().nth(1)?.parse().ok()?;
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    Some((status, body))
}

/// Starts a private `dbus-daemon` with `args`; returns it and the address it listens on.
fn start_bus(args: &[String]) -> (std::process::Child, String) {
    let mut bus = Command::new("dbus-daemon")
        .args(args)
        .args(["--nofork", "--print-address=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-daemon is missing: run scripts/setup");
    let mut address = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(bus.stdout.take().unwrap()),
        &mut address,
    )
    .unwrap();
    (bus, address.trim().to_owned())
}

/// A private D-Bus session bus with GNOME Keyring's Secret Service on it, unlocked; both stopped
/// when dropped. HOME points into the test's directory, so no real keyring is touched.
pub struct SecretService {
    /// The bus it started for itself; `None` when it joined another's.
    bus: Option<std::process::Child>,
    keyring: std::process::Child,
    pub env: Vec<(String, String)>,
}

impl SecretService {
    pub fn start(dir: &Path) -> Self {
        let socket = dir.join("bus");
        let (bus, address) = start_bus(&[
            "--session".to_owned(),
            format!("--address=unix:path={}", socket.display()),
        ]);
        let mut service = Self::start_on_bus(dir, &address);
        service.bus = Some(bus);
        service
    }

    /// On the session bus at `address` (one a [`NotificationServer`] started, so a desktop
    /// has its notifications and its keyring on one bus, as a real session does).
    pub fn start_on_bus(dir: &Path, address: &str) -> Self {
        let home = dir.join("home");
        let runtime = dir.join("run");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&runtime).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        let env = vec![
            ("DBUS_SESSION_BUS_ADDRESS".to_owned(), address.to_owned()),
            ("HOME".to_owned(), home.display().to_string()),
            ("XDG_RUNTIME_DIR".to_owned(), runtime.display().to_string()),
            (
                "XDG_DATA_HOME".to_owned(),
                home.join(".local/share").display().to_string(),
            ),
        ];
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .envs(env.iter().cloned())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon is missing: run scripts/setup");
        {
            use std::io::Write;
            let mut stdin = keyring.stdin.take().unwrap();
            stdin.write_all(b"test-keyring-password").unwrap();
        }
        let service = Self {
            bus: None,
            keyring,
            env,
        };
        // Ready once the Secret Service name is on the bus.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let names = Command::new("dbus-send")
                .args([
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/",
                    "org.freedesktop.DBus.ListNames",
                ])
                .envs(service.env.iter().cloned())
                .output()
                .unwrap();
            if String::from_utf8_lossy(&names.stdout).contains("org.freedesktop.secrets") {
                return service;
            }
            assert!(
                Instant::now() < deadline,
                "the Secret Service never appeared on the bus"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        for child in std::iter::once(&mut self.keyring).chain(self.bus.as_mut()) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Reads the mock notification server's log and invokes actions on it, through D-Bus itself.
const MOCK_CLIENT: &str = r#"
import dbus, json, sys
bus = dbus.SessionBus()
mock = dbus.Interface(
    bus.get_object("org.freedesktop.Notifications", "/org/freedesktop/Notifications"),
    "org.freedesktop.DBus.Mock")
if sys.argv[1] == "calls":
    calls = []
    for _, method, args in mock.GetCalls():
        if method == "Notify":
            app, replaces, icon, summary, body, actions, hints, timeout = args
            calls.append({"method": "Notify", "app": str(app), "replaces_id": int(replaces),
                "summary": str(summary), "body": str(body), "actions": [str(a) for a in actions],
                "urgency": int(hints["urgency"]) if "urgency" in hints else None,
                "timeout": int(timeout)})
        else:
            calls.append({"method": str(method), "args": [int(a) if isinstance(a, int) else str(a) for a in args]})
    print(json.dumps(calls))
else:
    mock.EmitSignal("org.freedesktop.Notifications", "ActionInvoked", "us",
                    [dbus.UInt32(int(sys.argv[2])), sys.argv[3]])
"#;

/// A private D-Bus session bus with a real notification server on it: python3-dbusmock's
/// `notification_daemon` template, which records every call. The bus has no service
/// directories, so nothing else (no dunst) is started on demand. Both stop when dropped.
pub struct NotificationServer {
    bus: std::process::Child,
    server: std::process::Child,
    pub env: Vec<(String, String)>,
}

impl NotificationServer {
    /// `capabilities` as the server announces them, such as "body actions".
    pub fn start(dir: &Path, capabilities: &str) -> Self {
        let socket = dir.join("notify-bus");
        let config = dir.join("notify-bus.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                socket.display()
            ),
        )
        .unwrap();
        let (bus, address) = start_bus(&[format!("--config-file={}", config.display())]);
        let env = vec![("DBUS_SESSION_BUS_ADDRESS".to_owned(), address)];
        let server = Command::new("/usr/bin/python3")
            .args(["-m", "dbusmock", "--template", "notification_daemon", "-p"])
            .arg(format!("{{\"capabilities\": \"{capabilities}\"}}"))
            .envs(env.iter().cloned())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3-dbusmock is missing: run scripts/setup");
        let this = Self { bus, server, env };
        let deadline = Instant::now() + Duration::from_secs(20);
        while this.try_calls().is_none() {
            assert!(
                Instant::now() < deadline,
                "the mock notification server never appeared on the bus"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        this
    }

    fn client(&self, args: &[&str]) -> Output {
        Command::new("/usr/bin/python3")
            .args(["-c", MOCK_CLIENT])
            .args(args)
            .envs(self.env.iter().cloned())
            .output()
            .unwrap()
    }

    fn try_calls(&self) -> Option<Vec<Value>> {
        let output = self.client(&["calls"]);
        if !output.status.success() {
            return None;
        }
        serde_json::from_slice(&output.stdout).ok()
    }

    /// Every call the server received, oldest first.
    pub fn calls(&self) -> Vec<Value> {
        self.try_calls().expect("cannot read the mock's calls")
    }

    /// The `Notify` calls, oldest first.
    pub fn notifications(&self) -> Vec<Value> {
        self.calls()
            .into_iter()
            .filter(|c| c["method"] == "Notify")
            .collect()
    }

    /// Waits until at least `count` notifications were shown; returns them all.
    pub fn wait_for_notifications(&self, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let shown = self.notifications();
            if shown.len() >= count {
                return shown;
            }
            assert!(
                Instant::now() < deadline,
                "{} notifications shown, expected {count}: {shown:#?}",
                shown.len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The user presses `action` on notification `id`.
    pub fn invoke(&self, id: u32, action: &str) {
        let output = self.client(&["invoke", &id.to_string(), action]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for NotificationServer {
    fn drop(&mut self) {
        for child in [&mut self.server, &mut self.bus] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Who is primary on the demo's payments rota right now, by the CLI's own account.
pub fn payments_primary(sandbox: &Sandbox) -> String {
    let oncall = sandbox.json(&["oncall", "--team", "payments"]);
    oncall["rotas"][0]["layers"][0]["now"]["person"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A token for `person`, made by `stopline hub token create`.
pub fn person_token(sandbox: &Sandbox, url: &str, person: &str) -> String {
    let made = sandbox.json(&[
        "hub",
        "token",
        "create",
        "--person",
        person,
        "--database",
        url,
    ]);
    made["token"].as_str().unwrap().to_owned()
}

/// Runs `command` with `input` on its standard input (a token, as `--token-stdin` reads it).
pub fn with_stdin(mut command: Command, input: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(format!("{input}\n").as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

/// A process's resident memory (KiB) and CPU time so far (clock ticks, 100 a second), from
/// /proc: what the benchmarks report (they include this file; the tests do not call it).
#[allow(dead_code)]
pub fn usage(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // After the command's closing parenthesis: utime and stime are fields 14 and 15.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    (rss, ticks)
}

/// `stopline incident show ID --json`.
pub fn incident(sandbox: &Sandbox, id: &str) -> Value {
    sandbox.json(&["incident", "show", id])
}

/// Waits (a minute at most) until `check` holds of the incident; returns it.
pub fn wait_for_incident(sandbox: &Sandbox, id: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let shown = incident(sandbox, id);
        if check(&shown) {
            return shown;
        }
        assert!(Instant::now() < deadline, "{id} never got there: {shown:#}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A latency table in Markdown: each measure's p50, p90, p99 and max, in milliseconds (each
/// list is sorted here). For the benches, which include this file; no test prints one.
#[allow(dead_code)]
pub fn print_latencies(rows: &mut [(&str, Vec<f64>)]) {
    println!("| measure | p50 | p90 | p99 | max |");
    println!("|---|---|---|---|---|");
    for (name, list) in rows.iter_mut() {
        list.sort_by(f64::total_cmp);
        println!(
            "| {name} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms |",
            percentile(list, 50.0),
            percentile(list, 90.0),
            percentile(list, 99.0),
            list[list.len() - 1]
        );
    }
}

/// A real SMTP server on loopback that keeps what it receives in a maildir.
pub struct SmtpServer {
    child: std::process::Child,
    maildir: PathBuf,
}

impl SmtpServer {
    pub fn start(dir: &Path, port: u16) -> Self {
        let maildir = dir.join("maildir");
        let child = Command::new("/usr/bin/python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3-aiosmtpd is missing: run scripts/setup");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the SMTP server never listened");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, maildir }
    }

    /// The emails received, oldest first, as Python's email parser reads them.
    pub fn emails(&self) -> Vec<Value> {
        read_maildir(&self.maildir)
    }

    pub fn wait_for_emails(&self, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let emails = self.emails();
            if emails.len() >= count {
                return emails;
            }
            assert!(
                Instant::now() < deadline,
                "{} emails, expected {count}",
                emails.len()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const READ_MAILDIR: &str = r#"
import email, email.policy, json, os, sys
new = os.path.join(sys.argv[1], "new")
names = sorted(os.listdir(new), key=lambda n: os.stat(os.path.join(new, n)).st_mtime_ns) if os.path.isdir(new) else []
out = []
for name in names:
    with open(os.path.join(new, name), "rb") as f:
        m = email.message_from_binary_file(f, policy=email.policy.default)
    out.append({"subject": str(m["subject"]), "to": str(m["to"]), "from": str(m["from"]),
                "message_id": str(m["message-id"]), "body": m.get_body(("plain",)).get_content()})
print(json.dumps(out))
"#;

fn read_maildir(maildir: &Path) -> Vec<Value> {
    let output = Command::new("/usr/bin/python3")
        .args(["-c", READ_MAILDIR])
        .arg(maildir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}
