//! How long from a webhook POST to the page reaching a person away from their desk: the email
//! in a real SMTP server's maildir (python3-aiosmtpd), and the JSON webhook at a local receiver.
//!
//! Runs the real `stopline serve` (release build) with the demo workspace, the payments primary
//! given an email and a JSON webhook contact and no desktop here (so their contacts are paged
//! at once, with no grace), the rate limit out of reach. It posts single-alert Alertmanager
//! webhooks one at a time, each opening an incident, and times POST-sent to the email's file
//! appearing and to the webhook's request arriving. Then a storm: 200 incidents in one
//! delivery, each paging the primary, timed until every message has arrived (with the rate
//! limit at its default, the storm is one summary; here it is raised, so each page is a
//! message).
//!
//! `make bench` runs it; nothing here asserts a time.

// The CLI tests' helpers; this bench uses a few of them, so the rest is unused here.
#[path = "../tests/cli/support.rs"]
#[allow(dead_code)]
mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use stopline_tests::free_port;
use support::{Sandbox, Served, SmtpServer, payments_primary, print_latencies};

const INCIDENTS: usize = 100;
const WARM_UP: usize = 5;
const STORM: usize = 200;

/// A receiver that notes when each request arrived.
fn receiver() -> (String, Arc<Mutex<Vec<Instant>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let arrived: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let noted = Arc::clone(&arrived);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let noted = Arc::clone(&noted);
            std::thread::spawn(move || {
                let mut data = Vec::new();
                let mut buffer = [0u8; 8192];
                loop {
                    let Ok(n) = stream.read(&mut buffer) else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    data.extend_from_slice(&buffer[..n]);
                    let text = String::from_utf8_lossy(&data);
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length: usize = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length: ")
                                    .map(|v| v.trim().parse().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if data.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                noted.lock().unwrap().push(Instant::now());
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            });
        }
    });
    (format!("http://{address}/gateway"), arrived)
}

fn emails_in(maildir: &std::path::Path) -> usize {
    std::fs::read_dir(maildir.join("new")).map_or(0, |entries| entries.count())
}

fn main() {
    let sandbox = Sandbox::demo();
    let primary = payments_primary(&sandbox);
    let smtp_port = free_port();
    let smtp = SmtpServer::start(sandbox.dir.path(), smtp_port);
    let maildir = sandbox.dir.path().join("maildir");
    let (url, arrived) = receiver();
    let config = sandbox.read_config();
    let entry = format!("id = \"{primary}\"\n");
    let at = config.find(&entry).unwrap() + entry.len();
    let name_end = at + config[at..].find('\n').unwrap() + 1;
    let config = format!(
        "{}contacts = [{{ kind = \"email\", to = \"oncall@example.org\" }}, {{ kind = \"webhook\", url = \"{url}\", format = \"json\" }}]\n{}\n[alerts]\ngroup_by = [\"instance\"]\n\n[smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\nsecurity = \"none\"\nfrom = \"stopline@example.org\"\n\n[paging]\nrate_limit = {{ messages = 100000, per = \"10m\" }}\n",
        &config[..name_end],
        &config[name_end..]
    );
    sandbox.write_config(&config);
    let served = Served::start(&sandbox, &[]);
    let token = sandbox.ok(&["token"]).trim().to_owned();

    let (mut to_email, mut to_webhook) = (Vec::new(), Vec::new());
    for i in 0..WARM_UP + INCIDENTS {
        let instance = format!("host-{i}");
        let started = Instant::now();
        let (status, _) = served.post_alerts(
            &token,
            &[(
                "HighErrorRate",
                &[("service", "payment-gateway"), ("instance", &instance)],
            )],
        );
        assert_eq!(status, 200);
        let deadline = started + Duration::from_secs(20);
        let (mut emailed, mut posted) = (None, None);
        while emailed.is_none() || posted.is_none() {
            assert!(Instant::now() < deadline, "page {i} did not arrive in 20 s");
            if emailed.is_none() && emails_in(&maildir) > i {
                emailed = Some(started.elapsed());
            }
            if posted.is_none()
                && let Some(at) = arrived.lock().unwrap().get(i)
            {
                posted = Some(at.duration_since(started));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        if i >= WARM_UP {
            to_email.push(emailed.unwrap().as_secs_f64() * 1000.0);
            to_webhook.push(posted.unwrap().as_secs_f64() * 1000.0);
        }
    }

    // The storm: every page of one delivery, to both contacts.
    let before = (emails_in(&maildir), arrived.lock().unwrap().len());
    let instances: Vec<String> = (0..STORM).map(|i| format!("storm-{i}")).collect();
    let labels: Vec<[(&str, &str); 2]> = instances
        .iter()
        .map(|i| [("service", "payment-gateway"), ("instance", i.as_str())])
        .collect();
    let alerts: Vec<(&str, &[(&str, &str)])> =
        labels.iter().map(|l| ("HighErrorRate", &l[..])).collect();
    let started = Instant::now();
    let (status, _) = served.post_alerts(&token, &alerts);
    assert_eq!(status, 200);
    let deadline = started + Duration::from_secs(300);
    while emails_in(&maildir) < before.0 + STORM || arrived.lock().unwrap().len() < before.1 + STORM
    {
        assert!(
            Instant::now() < deadline,
            "the storm's pages did not all arrive"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let storm = started.elapsed();
    drop(served);
    drop(smtp);

    println!(
        "pages beyond the desk over {INCIDENTS} single-alert incidents ({WARM_UP} warm-up posts not counted)"
    );
    print_latencies(&mut [
        (
            "webhook POST → email in the SMTP server's maildir",
            to_email,
        ),
        ("webhook POST → JSON webhook received", to_webhook),
    ]);
    println!(
        "storm: {STORM} incidents in one delivery → {STORM} emails and {STORM} webhooks delivered in {:.2} s ({:.0} messages/s)",
        storm.as_secs_f64(),
        (2 * STORM) as f64 / storm.as_secs_f64()
    );
}
