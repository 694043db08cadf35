//! How long from a webhook POST to the page's `Notify` call on the D-Bus session bus.
//!
//! Runs the real `stopline serve` (release build) against a private session bus with
//! python3-dbusmock's notification daemon, and `dbus-monitor --profile` watching the bus. It
//! posts single-alert Alertmanager webhooks one at a time, each opening an incident for the
//! person at this desk, and times POST-sent to `Notify`-seen on the bus (both on this machine's
//! wall clock). The flood summary is set out of reach (`flood_threshold = 1000`) so every page
//! is its own notification, and there is no grouping wait to exclude: Stopline pages as soon as
//! the incident is committed.
//!
//! `make bench` runs it; nothing here asserts a time.

// The CLI tests' helpers; this bench uses three of them (a sandbox, `serve`, the notification
// server), so the rest is unused here.
#[path = "../tests/cli/support.rs"]
#[allow(dead_code)]
mod support;

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use support::{NotificationServer, Sandbox, Served, print_latencies};

const INCIDENTS: usize = 200;
const WARM_UP: usize = 10;

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

fn main() {
    let sandbox = Sandbox::demo();
    let config = sandbox.read_config()
        + "\n[alerts]\ngroup_by = [\"instance\"]\n\n[notifications]\nflood_threshold = 1000\n";
    sandbox.write_config(&config);
    let server = NotificationServer::start(sandbox.dir.path(), "body actions");
    let oncall = sandbox.json(&["oncall", "--team", "payments"]);
    let me = oncall["rotas"][0]["layers"][0]["now"]["person"]
        .as_str()
        .unwrap()
        .to_owned();
    sandbox.ok(&["whoami", "--set", &me]);

    // Every Notify call on the bus, with the monitor's microsecond timestamp.
    let mut monitor = Command::new("dbus-monitor")
        .args([
            "--profile",
            "type='method_call',interface='org.freedesktop.Notifications',member='Notify'",
        ])
        .envs(server.env.iter().cloned())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-monitor is missing: run scripts/setup");
    let (seen, notified) = mpsc::channel::<f64>();
    let stdout = monitor.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.first() == Some(&"mc") && fields.last() == Some(&"Notify") {
                let at: f64 = fields[1].parse().unwrap();
                if seen.send(at).is_err() {
                    break;
                }
            }
        }
    });
    std::thread::sleep(Duration::from_millis(300));

    let served = Served::start_with_env(&sandbox, &[], &server.env);
    let token = sandbox.ok(&["token"]).trim().to_owned();
    let mut to_notify = Vec::new();
    let mut to_answer = Vec::new();
    for i in 0..WARM_UP + INCIDENTS {
        let instance = format!("host-{i}");
        let sent = now_secs();
        let started = Instant::now();
        let (status, _) = served.post_alerts(
            &token,
            &[(
                "HighErrorRate",
                &[("service", "payment-gateway"), ("instance", &instance)],
            )],
        );
        let answered = started.elapsed().as_secs_f64();
        assert_eq!(status, 200);
        let at = notified
            .recv_timeout(Duration::from_secs(10))
            .expect("no Notify within 10 s");
        if i >= WARM_UP {
            to_notify.push((at - sent) * 1000.0);
            to_answer.push(answered * 1000.0);
        }
    }
    let _ = monitor.kill();
    let _ = monitor.wait();
    drop(served);

    println!(
        "page latency over {INCIDENTS} single-alert incidents ({WARM_UP} warm-up posts not counted)"
    );
    print_latencies(&mut [
        ("webhook POST → Notify on the bus", to_notify),
        ("webhook POST → HTTP answer (committed)", to_answer),
    ]);
}
