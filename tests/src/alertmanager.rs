//! A real Prometheus Alertmanager (Debian's `prometheus-alertmanager`) on a loopback port, with a
//! temporary config and storage path, for the engine's and the CLI's tests; or on a host of the
//! team tests' LAN (`crate::netns`), where the test reaches it from inside that host's network
//! namespace.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const BINARY: &str = "/usr/bin/prometheus-alertmanager";

/// Where Alertmanager's own notifications go: Stopline's webhook, with its bearer token.
#[derive(Debug, Clone, Copy)]
pub struct Webhook<'a> {
    pub url: &'a str,
    pub token: &'a str,
}

/// A running Alertmanager; stopped (and reaped) when dropped.
#[derive(Debug)]
pub struct Alertmanager {
    child: Option<Child>,
    port: u16,
    /// The host it runs on, `(namespace, address)`; `None`: this machine's loopback.
    host: Option<(String, String)>,
    dir: PathBuf,
}

impl Alertmanager {
    /// Starts one that notifies `webhook` (if any) with a short group wait, and waits until it
    /// is ready.
    pub fn start(dir: &Path, port: u16, webhook: Option<Webhook<'_>>) -> Self {
        Self::start_on(dir, port, webhook, None)
    }

    /// As [`Alertmanager::start`], on a host of the LAN: inside network namespace `namespace`,
    /// listening on `address` (and that namespace's loopback).
    pub fn start_in(dir: &Path, namespace: &str, address: &str, port: u16) -> Self {
        Self::start_on(
            dir,
            port,
            None,
            Some((namespace.to_owned(), address.to_owned())),
        )
    }

    fn start_on(
        dir: &Path,
        port: u16,
        webhook: Option<Webhook<'_>>,
        host: Option<(String, String)>,
    ) -> Self {
        assert!(
            Path::new(BINARY).exists(),
            "{BINARY} is missing: run scripts/setup"
        );
        let receiver = match webhook {
            Some(Webhook { url, token }) => format!(
                "  - name: stopline\n    webhook_configs:\n      - url: {url}\n        send_resolved: true\n        http_config:\n          authorization:\n            credentials: {token}\n"
            ),
            None => "  - name: stopline\n".to_owned(),
        };
        let config = format!(
            "route:\n  receiver: stopline\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n{receiver}"
        );
        std::fs::create_dir_all(dir).unwrap();
        let config_path = dir.join("alertmanager.yml");
        std::fs::write(&config_path, config).unwrap();
        let (mut command, listen) = match &host {
            // `ip netns exec` runs the program in place of itself: the child is Alertmanager.
            Some((namespace, _)) => {
                let mut command = Command::new("ip");
                command.args(["netns", "exec", namespace, BINARY]);
                (command, format!("0.0.0.0:{port}"))
            }
            None => (Command::new(BINARY), format!("127.0.0.1:{port}")),
        };
        let child = command
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!("--storage.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address={listen}"))
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let alertmanager = Self {
            child: Some(child),
            port,
            host,
            dir: dir.to_owned(),
        };
        alertmanager.wait_ready();
        alertmanager
    }

    /// Where Stopline reaches it: loopback, or its host's address on the LAN.
    pub fn url(&self) -> String {
        match &self.host {
            Some((_, address)) => format!("http://{address}:{}", self.port),
            None => format!("http://127.0.0.1:{}", self.port),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some((200, _)) = self.request("GET", "/-/ready", None) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("Alertmanager on port {} did not become ready", self.port);
    }

    /// A request to its HTTP API: status and body; `None` when it does not answer.
    pub fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Option<(u16, String)> {
        match &self.host {
            // The connection is made from a thread moved into the host's namespace (only that
            // thread moves), reaching it on that namespace's loopback.
            Some((namespace, _)) => std::thread::scope(|scope| {
                scope
                    .spawn(|| {
                        crate::netns::enter(namespace);
                        self.request_here(method, path, body)
                    })
                    .join()
                    .unwrap()
            }),
            None => self.request_here(method, path, body),
        }
    }

    fn request_here(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Option<(u16, String)> {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        let body = body.map(Value::to_string).unwrap_or_default();
        write!(
            stream,
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .ok()?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).ok()?;
        let status = answer.split_whitespace().nth(1)?.parse().ok()?;
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
        Some((status, body))
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Restarts on the same port, host and storage.
    pub fn restart(&mut self, webhook: Option<Webhook<'_>>) {
        self.stop();
        let again = Self::start_on(&self.dir, self.port, webhook, self.host.clone());
        *self = again;
    }

    /// Posts a firing alert (service payments-api, severity critical); an `ends_at` in the past
    /// (RFC 3339) resolves it.
    pub fn post_alert(&self, name: &str, ends_at: Option<&str>) {
        self.post_alert_with(name, &[("service", "payments-api")], ends_at);
    }

    /// Posts an alert named `name` with these labels besides `severity: critical`.
    pub fn post_alert_with(&self, name: &str, labels: &[(&str, &str)], ends_at: Option<&str>) {
        let mut all = serde_json::Map::new();
        all.insert("alertname".into(), json!(name));
        all.insert("severity".into(), json!("critical"));
        for (k, v) in labels {
            all.insert((*k).into(), json!(v));
        }
        let mut alert = json!({
            "labels": all,
            "annotations": {"summary": "5xx above 5%"},
            "startsAt": "2026-01-01T00:00:00Z",
        });
        if let Some(ends) = ends_at {
            alert["endsAt"] = json!(ends);
        }
        let (status, body) = self
            .request("POST", "/api/v2/alerts", Some(&json!([alert])))
            .expect("Alertmanager answers");
        assert!((200..300).contains(&status), "{status}: {body}");
    }

    /// The silences it holds, as its API shows them.
    pub fn silences(&self) -> Vec<Value> {
        let (status, body) = self
            .request("GET", "/api/v2/silences", None)
            .expect("Alertmanager answers");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        self.stop();
    }
}
