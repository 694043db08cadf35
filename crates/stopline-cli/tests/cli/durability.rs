//! Durability as an operator meets it: `kill -9` of the engine at random moments during a storm
//! of webhook deliveries and acknowledgements loses nothing that was answered or reported saved;
//! backups taken while it runs, restored; a damaged store moved aside at start, never overwritten.
//!
//! `make soak` runs the kill test for longer: `STOPLINE_SOAK_ROUNDS=200`.

use std::collections::BTreeSet;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::{
    Sandbox, Served, XorShift, integrity_ok, payments_primary, storm, try_post_alerts,
};
use serde_json::Value;

fn rounds() -> u64 {
    std::env::var("STOPLINE_SOAK_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20)
}

#[test]
fn sigkill_during_a_storm_loses_nothing_answered_and_never_pages_an_acknowledged_incident() {
    let sandbox = Sandbox::demo();
    // One incident per instance, so there are many to acknowledge; escalation every second.
    let config = sandbox
        .read_config()
        .replace("ack_timeout = \"5m\"", "ack_timeout = \"1s\"")
        + "\n[alerts]\ngroup_by = [\"instance\"]\n";
    sandbox.write_config(&config);
    let me = payments_primary(&sandbox);
    sandbox.ok(&["whoami", "--set", &me]);
    let token = sandbox.ok(&["token"]).trim().to_owned();
    let mut rng = XorShift(0xdead_beef_5eed);
    // Instances of alerts the engine answered 2xx for, and acknowledgements reported saved.
    let answered: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let mut acknowledged: Vec<String> = Vec::new();
    let mut batches = 0u64;
    for round in 0..rounds() {
        let served = Served::start(&sandbox, &[]);
        let stop = Arc::new(AtomicBool::new(false));
        let storm = {
            let (address, token, answered, stop) = (
                served.address.clone(),
                token.clone(),
                Arc::clone(&answered),
                Arc::clone(&stop),
            );
            std::thread::spawn(move || {
                let mut batch = 0;
                while !stop.load(Ordering::Relaxed) {
                    let instances: Vec<String> =
                        (0..10).map(|i| format!("r{round}-b{batch}-{i}")).collect();
                    let labels: Vec<[(&str, &str); 2]> = instances
                        .iter()
                        .map(|i| [("service", "payment-gateway"), ("instance", i.as_str())])
                        .collect();
                    let alerts: Vec<(&str, &[(&str, &str)])> =
                        labels.iter().map(|l| ("Down", &l[..])).collect();
                    match try_post_alerts(&address, &token, &alerts) {
                        Some((200, _)) => answered.lock().unwrap().extend(instances),
                        Some((status, body)) => panic!("answered {status}: {body}"),
                        None => break, // killed
                    }
                    batch += 1;
                }
                batch
            })
        };
        // People acknowledge what is open while the storm goes on, until the kill.
        let kill_after = Duration::from_millis(150 + rng.below(700));
        let started = std::time::Instant::now();
        while started.elapsed() < kill_after {
            let open = sandbox.run(&["incidents", "--json"]);
            let open: Value = serde_json::from_slice(&open.stdout).unwrap_or(Value::Null);
            let waiting = open
                .as_array()
                .into_iter()
                .flatten()
                .filter(|i| i["state"] == "triggered")
                .filter_map(|i| i["id"].as_str())
                .nth(usize::try_from(rng.below(3)).unwrap())
                .map(str::to_owned);
            if let Some(id) = waiting {
                let ack = sandbox
                    .command(&["ack", &id, "--as", &me])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .unwrap();
                if ack.success() {
                    acknowledged.push(id);
                }
            }
        }
        let mut served = served;
        served.child.kill().unwrap(); // SIGKILL, mid-storm
        served.child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        batches += storm.join().unwrap();
        integrity_ok(&sandbox.store_path());
    }
    let answered = answered.lock().unwrap().clone();
    assert!(batches >= rounds(), "the storm ran: {batches} batches");
    assert!(
        acknowledged.len() as u64 >= rounds() / 2,
        "people acknowledged: {acknowledged:?}"
    );

    // One more start: the engine runs the escalations that came due while it was down.
    let served = Served::start(&sandbox, &[]);
    std::thread::sleep(Duration::from_secs(3));
    drop(served);
    integrity_ok(&sandbox.store_path());

    let stored: BTreeSet<String> = sandbox
        .json(&["alerts"])
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["labels"]["instance"].as_str().map(str::to_owned))
        .collect();
    let lost: Vec<&String> = answered.difference(&stored).collect();
    assert!(lost.is_empty(), "answered 2xx but lost: {lost:?}");
    for id in &acknowledged {
        let shown = sandbox.json(&["incident", "show", id]);
        assert_eq!(shown["acknowledged_by"], me.as_str(), "{id}: {shown:#}");
        let acked_at: jiff::Timestamp = shown["acknowledged_at"].as_str().unwrap().parse().unwrap();
        for page in shown["pages"].as_array().unwrap() {
            let paged_at: jiff::Timestamp = page["paged_at"].as_str().unwrap().parse().unwrap();
            assert!(
                paged_at <= acked_at,
                "{id} paged after its acknowledgement: {shown:#}"
            );
        }
        assert_ne!(shown["escalation"]["status"], "due", "{id}");
    }
}

#[test]
fn a_backup_taken_while_serving_restores_and_the_replaced_store_is_kept() {
    let sandbox = Sandbox::demo();
    sandbox.ok(&[
        "open",
        "--journey",
        "checkout",
        "--title",
        "Before the backup",
        "--as",
        "aisha",
    ]);
    let served = Served::start(&sandbox, &[]);
    let file = sandbox.dir.path().join("nightly.db");
    let made = sandbox.json(&["backup", file.to_str().unwrap()]);
    assert_eq!(
        made["backup"],
        file.canonicalize().unwrap().to_str().unwrap()
    );
    // Never over a file that exists.
    let stderr = sandbox.fails(&["backup", file.to_str().unwrap()], 2);
    assert!(stderr.contains("exists already"), "{stderr}");
    // Without a name: into the data directory's backups/.
    let default = sandbox.json(&["backup"]);
    assert!(
        default["backup"]
            .as_str()
            .unwrap()
            .contains("/backups/stopline-"),
        "{default}"
    );
    sandbox.ok(&[
        "open",
        "--journey",
        "checkout",
        "--title",
        "After the backup",
        "--as",
        "aisha",
    ]);

    // Not while an engine runs: nothing changes.
    let stderr = sandbox.fails(&["restore", file.to_str().unwrap()], 2);
    assert!(
        stderr.contains("stop it (and the desktop app) first"),
        "{stderr}"
    );
    assert_eq!(sandbox.json(&["incidents"]).as_array().unwrap().len(), 2);
    drop(served);

    // Not from a file that is not a store.
    let junk = sandbox.dir.path().join("junk.db");
    std::fs::write(&junk, b"this is not a database, just some text").unwrap();
    let stderr = sandbox.fails(&["restore", junk.to_str().unwrap()], 2);
    assert!(
        stderr.contains("damaged or not a Stopline store"),
        "{stderr}"
    );
    assert_eq!(sandbox.json(&["incidents"]).as_array().unwrap().len(), 2);

    let restored = sandbox.json(&["restore", file.to_str().unwrap()]);
    let replaced = restored["replaced"].as_str().unwrap();
    assert!(replaced.contains("stopline.db.replaced-"), "{restored}");
    let titles: Vec<String> = sandbox
        .json(&["incidents"])
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(titles, vec!["Before the backup"]);
    // The replaced store is whole, with its newer incident.
    integrity_ok(std::path::Path::new(replaced));
    let conn = rusqlite::Connection::open(replaced).unwrap();
    let count: i64 = conn
        .query_row("SELECT COUNT(*) FROM incidents", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 2);
}

#[test]
fn a_damaged_store_is_moved_aside_at_start_and_the_latest_backup_offered() {
    let sandbox = Sandbox::demo();
    sandbox.ok(&[
        "open",
        "--journey",
        "checkout",
        "--title",
        "Kept in the backup",
        "--as",
        "aisha",
    ]);
    let backup = sandbox.dir.path().join("safe.db");
    sandbox.ok(&["backup", backup.to_str().unwrap()]);
    // Damage: overwrite the store's pages after the first with garbage.
    let store = sandbox.store_path();
    let mut bytes = std::fs::read(&store).unwrap();
    assert!(bytes.len() > 8192);
    for byte in &mut bytes[4096..] {
        *byte = 0xA5;
    }
    std::fs::write(&store, &bytes).unwrap();
    let _ = std::fs::remove_file(store.with_extension("db-wal"));

    let serve = sandbox
        .command(&["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(serve.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&serve.stderr);
    assert!(stderr.contains("is damaged"), "{stderr}");
    assert!(stderr.contains("moved aside to"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "stopline restore {}",
            backup.canonicalize().unwrap().display()
        )),
        "{stderr}"
    );
    assert!(!store.exists(), "moved, not left in place");
    let aside: Vec<_> = std::fs::read_dir(store.parent().unwrap())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("stopline.db.damaged-")
        })
        .collect();
    assert!(!aside.is_empty(), "kept for inspection");
    let moved = std::fs::read(aside[0].path()).unwrap();
    assert_eq!(moved, bytes, "moved as it was, never overwritten");

    sandbox.ok(&["restore", backup.to_str().unwrap()]);
    let titles = sandbox.json(&["incidents"]);
    assert_eq!(titles[0]["title"], "Kept in the backup");
}

#[test]
fn sigkill_during_many_writes_loses_nothing_that_reported_success() {
    let sandbox = Sandbox::demo();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut rng = XorShift(seed);

    let (opened, killed_opens) = storm(&sandbox, &mut rng, |n| {
        [
            "open",
            "--app",
            "checkout-web",
            "--title",
            &format!("storm {n}"),
            "--as",
            "aisha",
            "--json",
        ]
        .map(String::from)
        .to_vec()
    });
    integrity_ok(&sandbox.store_path());
    let reported: Vec<(String, String)> = opened
        .iter()
        .map(|(n, stdout)| {
            let json: Value = serde_json::from_str(stdout).unwrap();
            (
                json["id"].as_str().unwrap().to_owned(),
                format!("storm {n}"),
            )
        })
        .collect();
    for (id, title) in &reported {
        let shown = sandbox.json(&["incident", "show", id]);
        assert_eq!(&shown["title"], title.as_str(), "seed {seed}");
    }

    let ids: Vec<String> = reported.iter().map(|(id, _)| id.clone()).collect();
    let (acked, killed_acks) = storm(&sandbox, &mut rng, |n| {
        ["ack", &ids[n % ids.len()], "--as", "ben", "--json"]
            .map(String::from)
            .to_vec()
    });
    integrity_ok(&sandbox.store_path());
    for (_, stdout) in &acked {
        let json: Value = serde_json::from_str(stdout).unwrap();
        let shown = sandbox.json(&["incident", "show", json["id"].as_str().unwrap()]);
        assert_eq!(shown["state"], "acknowledged", "seed {seed}");
        assert_eq!(shown["acknowledged_by"], "ben");
    }

    // The storm must have exercised both outcomes, or it proved nothing.
    assert!(
        !reported.is_empty() && !acked.is_empty(),
        "seed {seed}: nothing succeeded"
    );
    assert!(
        killed_opens + killed_acks > 0,
        "seed {seed}: nothing was killed"
    );
    eprintln!(
        "seed {seed}: {} opens succeeded, {killed_opens} killed; {} acks succeeded, {killed_acks} killed",
        reported.len(),
        acked.len()
    );
}
