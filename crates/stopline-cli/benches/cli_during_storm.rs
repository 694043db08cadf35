//! How long a person's command waits for the store while an alert storm is being written.
//!
//! Runs the real `stopline serve` (release build) on the demo workspace with one incident per
//! alert instance. 16 sender threads post Alertmanager webhooks of 50 new alerts each, without
//! pause, for the whole run; meanwhile 20 threads each run `stopline ack` (a real process, a
//! write transaction) on incidents of their own, one after another, timing each from spawn to
//! exit. Prints how many commands failed (and with what), the median, p99 and slowest command,
//! and the alerts the storm stored per second, alone (its first 3 s) and while people worked. `make bench` runs it; nothing here asserts a
//! time.

// The CLI tests' helpers; this bench uses a few of them.
#[path = "../tests/cli/support.rs"]
#[allow(dead_code)]
mod support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{Sandbox, Served, percentile, try_post_alerts};

const SENDERS: usize = 16;
const ALERTS_PER_POST: usize = 500;
const WRITERS: usize = 20;
const ACKS_PER_WRITER: usize = 40;

/// Posts one firing alert named `name` per instance, for the payment gateway; the answer.
fn post_instances(
    address: &str,
    token: &str,
    name: &str,
    instances: &[String],
) -> Option<(u16, String)> {
    let labels: Vec<[(&str, &str); 2]> = instances
        .iter()
        .map(|i| [("service", "payment-gateway"), ("instance", i.as_str())])
        .collect();
    let alerts: Vec<(&str, &[(&str, &str)])> = labels.iter().map(|l| (name, &l[..])).collect();
    try_post_alerts(address, token, &alerts)
}

fn main() {
    let sandbox = Sandbox::demo();
    let config = sandbox.read_config()
        + "\n[alerts]\ngroup_by = [\"instance\"]\n\n[notifications]\nflood_threshold = 100000\n";
    sandbox.write_config(&config);
    let served = Served::start(&sandbox, &[]);
    let token = sandbox.ok(&["token"]).trim().to_owned();
    let person = support::payments_primary(&sandbox);

    // The incidents the writers will acknowledge, opened before the storm.
    let mut targets: Vec<Vec<String>> = Vec::new();
    for writer in 0..WRITERS {
        let instances: Vec<String> = (0..ACKS_PER_WRITER)
            .map(|i| format!("target-{writer}-{i}"))
            .collect();
        let (status, body) =
            post_instances(&served.address, &token, "Target", &instances).expect("serve answers");
        assert_eq!(status, 200, "{body}");
        let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
        targets.push(
            answer["opened"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect(),
        );
    }

    let stop = Arc::new(AtomicBool::new(false));
    let stored = Arc::new(AtomicU64::new(0));
    let storm_started = Instant::now();
    let senders: Vec<_> = (0..SENDERS)
        .map(|sender| {
            let (address, token, stop, stored) = (
                served.address.clone(),
                token.clone(),
                Arc::clone(&stop),
                Arc::clone(&stored),
            );
            std::thread::spawn(move || {
                let mut batch = 0;
                while !stop.load(Ordering::Relaxed) {
                    let instances: Vec<String> = (0..ALERTS_PER_POST)
                        .map(|i| format!("storm-{sender}-{batch}-{i}"))
                        .collect();
                    match post_instances(&address, &token, "Storm", &instances) {
                        Some((200, _)) => {
                            stored.fetch_add(ALERTS_PER_POST as u64, Ordering::Relaxed);
                        }
                        Some((status, body)) => panic!("the storm was answered {status}: {body}"),
                        None => panic!("the engine stopped answering"),
                    }
                    batch += 1;
                }
            })
        })
        .collect();
    // The storm alone for a while, then with the people.
    std::thread::sleep(Duration::from_secs(3));
    let alone = stored.load(Ordering::Relaxed) as f64 / storm_started.elapsed().as_secs_f64();
    let people_started = Instant::now();
    let stored_before_people = stored.load(Ordering::Relaxed);

    let latencies: Arc<Mutex<Vec<f64>>> = Arc::default();
    let failures: Arc<Mutex<Vec<String>>> = Arc::default();
    let sandbox = Arc::new(sandbox);
    let writers: Vec<_> = targets
        .into_iter()
        .map(|incidents| {
            let (sandbox, person, latencies, failures) = (
                Arc::clone(&sandbox),
                person.clone(),
                Arc::clone(&latencies),
                Arc::clone(&failures),
            );
            std::thread::spawn(move || {
                for id in incidents {
                    let started = Instant::now();
                    let output = sandbox.run(&["ack", &id, "--as", &person]);
                    let took = started.elapsed().as_secs_f64() * 1e3;
                    latencies.lock().unwrap().push(took);
                    if !output.status.success() {
                        failures
                            .lock()
                            .unwrap()
                            .push(String::from_utf8_lossy(&output.stderr).trim().to_owned());
                    }
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let with_people = (stored.load(Ordering::Relaxed) - stored_before_people) as f64
        / people_started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for sender in senders {
        sender.join().unwrap();
    }
    drop(served);

    let mut latencies = latencies.lock().unwrap().clone();
    latencies.sort_by(f64::total_cmp);
    let failures = failures.lock().unwrap().clone();
    println!(
        "`stopline ack` during a {SENDERS}-sender storm ({ALERTS_PER_POST} new alerts a post), {WRITERS} people at once:"
    );
    println!(
        "  {} commands, {} failed; median {:.0} ms, p99 {:.0} ms, slowest {:.0} ms",
        latencies.len(),
        failures.len(),
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        latencies.last().copied().unwrap_or(0.0)
    );
    for failure in failures.iter().take(5) {
        println!("  failed: {failure}");
    }
    println!(
        "  the storm stored {alone:.0} alerts/s alone, {with_people:.0} alerts/s while the people worked"
    );
}
