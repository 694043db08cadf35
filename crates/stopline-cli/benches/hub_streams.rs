//! The hub with 200 desktops on its stream: how soon an acknowledgement pushed by one is in the
//! others' pulls, how soon a webhook's page is on its person's stream, and what the hub costs
//! while they sit connected and idle.
//!
//! Runs the real `stopline hub` (release build) on a durable PostgreSQL (`fsync = on`) the bench
//! starts, with the demo workspace. 200 simulated desktops, each with its own token (spread over
//! the payments team) and its own connection, keep `GET /v1/stream` open and pull when told.
//! Each trial posts an Alertmanager alert for the payment gateway (a new incident: the clock is
//! the machine's, and the gateway pages at any hour), times it to the first `page` event, then
//! has one desktop push the acknowledgement and times it into every other desktop's pull, then
//! resolves the incident for the next trial, letting the desktops' pulls of that settle. `make bench` runs it; nothing here asserts a time.

#[path = "../tests/cli/support.rs"]
#[allow(dead_code)]
mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use stopline_core::ids::PersonId;
use stopline_tests::postgres::Postgres;
use support::{Sandbox, Served, percentile, usage};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

const DESKTOPS: usize = 200;
const TRIALS: usize = 50;
const WEBHOOK_TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// What the trial in progress waits for.
#[derive(Default)]
struct Trial {
    number: usize,
    incident: Option<String>,
    acknowledged_at: Option<Instant>,
    alerted_at: Option<Instant>,
}

async fn http(address: &str, method: &str, path: &str, token: &str, body: &Value) -> (u16, Value) {
    try_http(address, method, path, token, body)
        .await
        .expect("the hub answered")
}

/// One HTTP/1.0 request; `None` when the hub did not answer (it is stopping).
async fn try_http(
    address: &str,
    method: &str,
    path: &str,
    token: &str,
    body: &Value,
) -> Option<(u16, Value)> {
    let body = body.to_string();
    let mut stream = TcpStream::connect(address).await.ok()?;
    let head = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.ok()?;
    stream.write_all(body.as_bytes()).await.ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.ok()?;
    let status = answer.split_whitespace().nth(1)?.parse().ok()?;
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
    Some((status, serde_json::from_str(body).unwrap_or(Value::Null)))
}

/// One simulated desktop: its stream open, a pull on each `pull` event, and what it saw
/// reported to the bench.
async fn desktop(
    address: String,
    token: String,
    id: usize,
    trial: Arc<Mutex<Trial>>,
    acks: mpsc::UnboundedSender<Duration>,
    pages: mpsc::UnboundedSender<Duration>,
    ready: mpsc::UnboundedSender<()>,
) {
    let mut stream = TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "GET /v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut lines = BufReader::new(stream).lines();
    let desktop_id = format!("desktop-{id}");
    let mut cookie = Value::Null;
    let mut reported = usize::MAX;
    let mut event = String::new();
    let mut first = true;
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(name) = line.strip_prefix("event: ") {
            event = name.to_owned();
            continue;
        }
        if !line.starts_with("data: ") {
            continue;
        }
        if event == "page" {
            let at = trial.lock().unwrap().alerted_at;
            if let Some(at) = at {
                let _ = pages.send(at.elapsed());
            }
            continue;
        }
        let body = json!({"desktop_id": desktop_id, "cookie": cookie});
        let Some((200, pulled)) = try_http(&address, "POST", "/v1/pull", &token, &body).await
        else {
            return;
        };
        cookie = pulled["cookie"].clone();
        if first {
            first = false;
            let _ = ready.send(());
        }
        let (number, incident, at) = {
            let t = trial.lock().unwrap();
            (t.number, t.incident.clone(), t.acknowledged_at)
        };
        let acknowledged = pulled["incidents"].as_array().unwrap().iter().any(|i| {
            Some(i["id"].as_str().unwrap_or_default()) == incident.as_deref()
                && i["state"] == "acknowledged"
        });
        if let (true, Some(at)) = (acknowledged, at)
            && reported != number
        {
            reported = number;
            let _ = acks.send(at.elapsed());
        }
    }
}

fn summary(name: &str, mut samples: Vec<f64>) {
    samples.sort_by(f64::total_cmp);
    if std::env::var_os("HUB_BENCH_SAMPLES").is_some() {
        eprintln!("{name}: {samples:.1?}");
    }
    println!(
        "  {name}: n = {}, p50 = {:.1} ms, p99 = {:.1} ms, max = {:.1} ms",
        samples.len(),
        percentile(&samples, 50.0),
        percentile(&samples, 99.0),
        samples.last().copied().unwrap_or(0.0)
    );
}

fn main() {
    let sandbox = Sandbox::demo();
    let pg_dir = tempfile::tempdir().unwrap();
    let postgres = Postgres::start_durable(pg_dir.path());
    let url = postgres.create_database("org");
    sandbox.ok(&["hub", "migrate", "--database", &url]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let config = stopline_core::config::Config::parse("demo.toml", &sandbox.read_config()).unwrap();
    let team = config
        .team(&stopline_core::ids::TeamId::new("payments").unwrap())
        .unwrap();
    let members: Vec<PersonId> = team.members.clone();
    let db = stopline_hub::Database::new(&url).unwrap();
    let tokens: Vec<String> = runtime.block_on(async {
        let mut tokens = Vec::new();
        for n in 0..DESKTOPS {
            let person = &members[n % members.len()];
            let made = db
                .create_token(person, None, jiff::Timestamp::now())
                .await
                .unwrap();
            tokens.push(made.token);
        }
        tokens
    });

    let mut command = sandbox.command(&["hub", "--listen", "127.0.0.1:0"]);
    command
        .env("STOPLINE_DATABASE_URL", &url)
        .env("STOPLINE_WEBHOOK_TOKEN", WEBHOOK_TOKEN);
    let hub = Served::spawn(command);
    let pid = hub.child.id();
    let address = hub.address.clone();

    runtime.block_on(async {
        let trial = Arc::new(Mutex::new(Trial::default()));
        let (acks_tx, mut acks) = mpsc::unbounded_channel();
        let (pages_tx, mut pages) = mpsc::unbounded_channel();
        let (ready_tx, mut ready) = mpsc::unbounded_channel();
        for (n, token) in tokens.iter().enumerate().skip(1) {
            tokio::spawn(desktop(
                address.clone(),
                token.clone(),
                n,
                Arc::clone(&trial),
                acks_tx.clone(),
                pages_tx.clone(),
                ready_tx.clone(),
            ));
        }
        for _ in 1..DESKTOPS {
            ready.recv().await.unwrap();
        }
        // Idle with every desktop connected: memory, and CPU over ten seconds.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (rss, before) = usage(pid);
        tokio::time::sleep(Duration::from_secs(10)).await;
        let (_, after) = usage(pid);
        let cpu = (after - before) as f64 / 100.0 / 10.0 * 100.0;

        let pusher = &tokens[0];
        let mut mutation = 0u64;
        let (mut ack_ms, mut page_ms) = (Vec::new(), Vec::new());
        for number in 0..TRIALS {
            {
                let mut t = trial.lock().unwrap();
                *t = Trial {
                    number,
                    alerted_at: Some(Instant::now()),
                    ..Trial::default()
                };
            }
            let alert = json!({
                "version": "4", "status": "firing", "receiver": "stopline", "groupKey": "{}",
                "alerts": [{"status": "firing", "startsAt": jiff::Timestamp::now().to_string(),
                    "labels": {"alertname": format!("Trial{number}"), "service": "payment-gateway"},
                    "annotations": {}}],
            });
            let (status, answer) = http(&address, "POST", "/v1/alertmanager", WEBHOOK_TOKEN, &alert).await;
            assert_eq!(status, 200, "{answer}");
            let incident = answer["opened"][0].as_str().expect("a new incident").to_owned();
            let page = tokio::time::timeout(Duration::from_secs(10), pages.recv())
                .await
                .expect("a page on a stream")
                .unwrap();
            page_ms.push(page.as_secs_f64() * 1e3);
            tokio::time::sleep(Duration::from_millis(100)).await;
            while pages.try_recv().is_ok() {}

            {
                let mut t = trial.lock().unwrap();
                t.alerted_at = None;
                t.incident = Some(incident.clone());
                t.acknowledged_at = Some(Instant::now());
            }
            mutation += 1;
            let push = json!({"desktop_id": "desktop-0", "mutations": [
                {"id": mutation, "name": "acknowledge", "args": {"incident": incident}, "at": jiff::Timestamp::now().to_string()}
            ]});
            let (status, pushed) = http(&address, "POST", "/v1/push", pusher, &push).await;
            assert_eq!((status, &pushed["outcomes"][0]["outcome"]), (200, &json!("applied")), "{pushed}");
            for _ in 1..DESKTOPS {
                let seen = tokio::time::timeout(Duration::from_secs(10), acks.recv())
                    .await
                    .expect("every desktop pulled the acknowledgement")
                    .unwrap();
                ack_ms.push(seen.as_secs_f64() * 1e3);
            }
            mutation += 1;
            let resolve = json!({"desktop_id": "desktop-0", "mutations": [
                {"id": mutation, "name": "resolve", "args": {"incident": incident, "force": true}, "at": jiff::Timestamp::now().to_string()}
            ]});
            http(&address, "POST", "/v1/push", pusher, &resolve).await;
            // Every desktop pulls the resolution: let that settle, so each trial starts quiet.
            tokio::time::sleep(Duration::from_millis(600)).await;
        }
        println!(
            "stopline hub with {DESKTOPS} desktops on its stream, durable PostgreSQL, {TRIALS} trials:"
        );
        println!("  idle with {} streams open: hub RSS {:.1} MiB, hub CPU {cpu:.1}% of one core", DESKTOPS - 1, rss as f64 / 1024.0);
        summary("webhook POST sent → first page event on a stream", page_ms);
        summary("acknowledgement push sent → in another desktop's pull", ack_ms);
    });
    drop(hub);
}
