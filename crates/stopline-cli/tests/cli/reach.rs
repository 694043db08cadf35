//! Pages beyond the desk as an on-call engineer away from it gets them: `stopline serve` with
//! the demo workspace, a real SMTP server (python3-aiosmtpd) and a local HTTP receiver standing
//! in for ntfy, Slack and a JSON gateway, all on loopback. The emails are read back by Python's
//! own email parser; the acknowledge link in one is followed as a phone's browser would.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use stopline_tests::free_port;

use crate::support::{
    NotificationServer, Sandbox, Served, SmtpServer, incident, payments_primary, wait_for_incident,
};

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    /// What the receiver answered.
    status: u16,
    path: String,
    headers: BTreeMap<String, String>,
    body: Value,
}

/// A local HTTP receiver: records every request and answers with `status` (changeable, to
/// play a gateway that is down).
struct Receiver {
    address: String,
    requests: Arc<Mutex<Vec<Received>>>,
    status: Arc<Mutex<u16>>,
}

impl Receiver {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let requests: Arc<Mutex<Vec<Received>>> = Arc::default();
        let status = Arc::new(Mutex::new(200));
        let (kept, answer) = (Arc::clone(&requests), Arc::clone(&status));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                if let Some(mut request) = read_request(&mut stream) {
                    let status = *answer.lock().unwrap();
                    request.status = status;
                    kept.lock().unwrap().push(request);
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    );
                }
            }
        });
        Self {
            address,
            requests,
            status,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// The requests it accepted (answered 200).
    fn received(&self) -> Vec<Received> {
        self.all().into_iter().filter(|r| r.status == 200).collect()
    }

    /// Every request, refused ones too.
    fn all(&self) -> Vec<Received> {
        self.requests.lock().unwrap().clone()
    }

    fn answer(&self, status: u16) {
        *self.status.lock().unwrap() = status;
    }

    fn wait_for(&self, path: &str, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got: Vec<Received> = self
                .received()
                .into_iter()
                .filter(|r| r.path == path)
                .collect();
            if got.len() >= count {
                return got;
            }
            assert!(Instant::now() < deadline, "{path}: {} requests", got.len());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn read_request(stream: &mut TcpStream) -> Option<Received> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut data = Vec::new();
    let mut buffer = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut buffer).ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buffer[..n]);
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let path = lines.next()?.split_whitespace().nth(1)?.to_owned();
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
        .collect();
    let length: usize = headers.get("content-length")?.parse().ok()?;
    while data.len() < head_end + length {
        let n = stream.read(&mut buffer).ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buffer[..n]);
    }
    let body = serde_json::from_slice(&data[head_end..head_end + length]).ok()?;
    Some(Received {
        status: 0,
        path,
        headers,
        body,
    })
}

/// An HTTP/1.0 request to the server at `address` as a phone reaches it through a proxy:
/// `Host` is the public name. Returns the status and the body.
pub(crate) fn through_proxy_to(address: &str, method: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: stopline.example.org\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer.split_whitespace().nth(1).unwrap().parse().unwrap();
    (
        status,
        answer.split("\r\n\r\n").nth(1).unwrap_or("").to_owned(),
    )
}

fn through_proxy(served: &Served, method: &str, path: &str) -> (u16, String) {
    through_proxy_to(&served.address, method, path)
}

/// `config` (the demo's) with `contacts` on `person`, email through the SMTP server on
/// `smtp_port`, links under `https://stopline.example.org`, and `paging` lines in `[paging]`.
pub(crate) fn with_contacts(
    config: &str,
    person: &str,
    contacts: &str,
    smtp_port: u16,
    paging: &str,
) -> String {
    let entry = format!("id = \"{person}\"\n");
    let at = config.find(&entry).unwrap() + entry.len();
    let name_end = at + config[at..].find('\n').unwrap() + 1;
    format!(
        "{}contacts = [{contacts}]\n{}\n[smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\nsecurity = \"none\"\nfrom = \"Stopline <stopline@example.org>\"\n\n[paging]\nack_url_base = \"https://stopline.example.org\"\n{paging}\n",
        &config[..name_end],
        &config[name_end..]
    )
}

/// The demo workspace with [`with_contacts`] on the payments primary; returns the primary.
fn configure(sandbox: &Sandbox, smtp_port: u16, paging: &str, contacts: &str) -> String {
    let me = payments_primary(sandbox);
    let config = with_contacts(&sandbox.read_config(), &me, contacts, smtp_port, paging);
    sandbox.write_config(&config);
    sandbox.ok(&["check"]);
    me
}

fn statuses(incident: &Value) -> Vec<String> {
    incident["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap().to_owned())
        .collect()
}

fn timeline_says(incident: &Value, words: &str) -> bool {
    incident["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["detail"].as_str().unwrap_or("").contains(words))
}

/// The path of the acknowledge link in an email's body.
pub(crate) fn link_path(body: &str) -> String {
    let start = body.find("https://stopline.example.org/v1/ack/").unwrap();
    let link = body[start..].split_whitespace().next().unwrap();
    link.trim_start_matches("https://stopline.example.org")
        .to_owned()
}

#[test]
fn a_page_nobody_sees_at_a_desk_reaches_email_and_webhooks_and_the_link_acknowledges() {
    let sandbox = Sandbox::demo();
    let smtp_port = free_port();
    let smtp = SmtpServer::start(sandbox.dir.path(), smtp_port);
    let receiver = Receiver::start();
    let contacts = format!(
        "{{ kind = \"email\", to = \"oncall@example.org\" }}, \
         {{ kind = \"webhook\", url = \"{}\", format = \"ntfy\" }}, \
         {{ kind = \"webhook\", url = \"{}\", format = \"slack\" }}, \
         {{ kind = \"webhook\", url = \"{}\", format = \"json\", token_env = \"GATEWAY_TOKEN\" }}",
        receiver.url("/ntfy/oncall-pages"),
        receiver.url("/slack/hook"),
        receiver.url("/gateway"),
    );
    let me = configure(&sandbox, smtp_port, "", &contacts);
    // Nobody is signed in at a desktop: the contacts get the page at once.
    let served = Served::start_with_env(
        &sandbox,
        &[],
        &[(
            "GATEWAY_TOKEN".to_owned(),
            "gateway-secret-token".to_owned(),
        )],
    );
    let token = sandbox.ok(&["token"]).trim().to_owned();
    let (status, _) = served.post_alerts(
        &token,
        &[("HighErrorRate", &[("service", "payment-gateway")])],
    );
    assert_eq!(status, 200);

    // The email: subject like the notification's, the body says what, how much and why.
    let email = &smtp.wait_for_emails(1)[0];
    assert_eq!(email["subject"], "Payment Gateway: HighErrorRate (INC-1)");
    assert_eq!(email["to"], "oncall@example.org");
    assert_eq!(email["from"], "Stopline <stopline@example.org>");
    let body = email["body"].as_str().unwrap();
    for part in [
        "INC-1",
        "Payments",
        "major",
        "GBP 780,000/h",
        "you are paged as primary on payments-oncall",
        "https://stopline.example.org/v1/ack/1~",
    ] {
        assert!(body.contains(part), "{part:?} missing from {body}");
    }
    let message_id = email["message_id"].as_str().unwrap();
    assert!(message_id.starts_with("<stopline-"), "{message_id}");

    // ntfy: JSON publishing to the server's root, naming the topic, the highest priority and
    // an Acknowledge button that POSTs the link.
    let ntfy = &receiver.wait_for("/ntfy", 1)[0];
    assert_eq!(ntfy.body["topic"], "oncall-pages");
    assert_eq!(ntfy.body["priority"], 5);
    assert_eq!(ntfy.body["title"], "Payment Gateway: HighErrorRate (INC-1)");
    assert_eq!(ntfy.body["actions"][0]["action"], "http");
    assert_eq!(ntfy.body["actions"][0]["method"], "POST");
    let ntfy_link = ntfy.body["actions"][0]["url"].as_str().unwrap();
    assert!(ntfy_link.starts_with("https://stopline.example.org/v1/ack/1~"));
    assert!(ntfy.body["tags"].as_array().is_some_and(|t| !t.is_empty()));
    // Slack: an incoming webhook's text and blocks, with a button to the link.
    let slack = &receiver.wait_for("/slack/hook", 1)[0];
    assert!(slack.body["text"].as_str().unwrap().contains("INC-1"));
    assert_eq!(slack.body["blocks"][1]["elements"][0]["type"], "button");
    // The JSON gateway: the documented shape, the token, the idempotency key in both places.
    let gateway = &receiver.wait_for("/gateway", 1)[0];
    assert_eq!(gateway.body["type"], "page");
    assert_eq!(gateway.body["page"]["incident"], "INC-1");
    assert_eq!(gateway.body["page"]["person"], me.as_str());
    assert_eq!(
        gateway.headers["authorization"],
        "Bearer gateway-secret-token"
    );
    assert_eq!(
        gateway.headers["idempotency-key"],
        gateway.body["idempotency_key"].as_str().unwrap()
    );
    // Every message its own key.
    let mut keys: Vec<&str> = [ntfy, slack, gateway]
        .iter()
        .map(|r| r.headers["idempotency-key"].as_str())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), 3);

    // `incident show` tells what became of each; the timeline too.
    let shown = wait_for_incident(&sandbox, "INC-1", |i| {
        statuses(i).iter().all(|s| s == "sent") && statuses(i).len() == 4
    });
    assert!(timeline_says(
        &shown,
        &format!("emailed {me} at oncall@example.org: delivered to the SMTP server (250")
    ));
    let text = sandbox.ok(&["incident", "show", "INC-1"]);
    assert!(text.contains("Beyond the desk:"), "{text}");

    // The link: a GET (a link previewer, or the person) changes nothing.
    let path = link_path(body);
    let (status, page) = through_proxy(&served, "GET", &path);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<form method=\"post\">"), "{page}");
    assert!(!page.contains("<script"), "{page}");
    assert_eq!(incident(&sandbox, "INC-1")["state"], "triggered");
    // A changed link is refused and changes nothing.
    let tampered = path.replacen("/1~", "/2~", 1);
    let (status, page) = through_proxy(&served, "POST", &tampered);
    assert_eq!(status, 403, "{page}");
    assert!(page.contains("changed"), "{page}");
    assert_eq!(incident(&sandbox, "INC-1")["state"], "triggered");
    // The button's POST acknowledges, as the person the link was for.
    let (status, page) = through_proxy(&served, "POST", &path);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("INC-1 is acknowledged"), "{page}");
    let shown = incident(&sandbox, "INC-1");
    assert_eq!(shown["state"], "acknowledged");
    assert_eq!(shown["acknowledged_by"], me.as_str());
    assert_eq!(shown["escalation"]["status"], "stopped");
    assert!(timeline_says(&shown, "acknowledged from the link"));
    // Again: refused, saying why; the ntfy button's link too, now that it is acknowledged.
    let (status, page) = through_proxy(&served, "POST", &path);
    assert_eq!(status, 410, "{page}");
    assert!(page.contains("already used"), "{page}");
    let ntfy_path = ntfy_link.trim_start_matches("https://stopline.example.org");
    let (status, page) = through_proxy(&served, "GET", ntfy_path);
    assert_eq!(status, 410, "{page}");
    assert!(page.contains("already acknowledged"), "{page}");

    // A link signed a day ago has expired, even with the right key.
    let key = std::fs::read(sandbox.dir.path().join("data/ack-links.key")).unwrap();
    let old = stopline_core::reach::link::AckLink {
        incident: stopline_core::incident::IncidentId(1),
        person: me.parse().unwrap(),
        issued_at: jiff::Timestamp::now() - jiff::SignedDuration::from_hours(25),
        message: 1,
    };
    let (status, page) = through_proxy(
        &served,
        "GET",
        &format!(
            "/v1/ack/{}",
            old.token(String::from_utf8(key).unwrap().trim().as_bytes())
        ),
    );
    assert_eq!(status, 410, "{page}");
    assert!(page.contains("expired"), "{page}");
    assert_eq!(smtp.emails().len(), 1, "nothing sent twice");
}

/// The demo workspace whose payments primary has one email contact, `paging` in `[paging]`,
/// and the SMTP server it sends to; with the primary.
fn emailing(paging: &str) -> (Sandbox, SmtpServer, String) {
    let sandbox = Sandbox::demo();
    let smtp_port = free_port();
    let smtp = SmtpServer::start(sandbox.dir.path(), smtp_port);
    let me = configure(
        &sandbox,
        smtp_port,
        paging,
        "{ kind = \"email\", to = \"oncall@example.org\" }",
    );
    (sandbox, smtp, me)
}

#[test]
fn a_page_shown_on_the_desktop_within_the_grace_sends_nothing_else() {
    let (sandbox, smtp, me) = emailing("desktop_grace = \"4s\"");
    let server = NotificationServer::start(sandbox.dir.path(), "body actions");
    sandbox.ok(&["whoami", "--set", &me]);
    let served = Served::start_with_env(&sandbox, &[], &server.env);
    served.wait_for_log("notifications available");
    let token = sandbox.ok(&["token"]).trim().to_owned();
    served.post_alerts(
        &token,
        &[("HighErrorRate", &[("service", "payment-gateway")])],
    );
    server.wait_for_notifications(1);
    let shown = wait_for_incident(&sandbox, "INC-1", |i| statuses(i) == ["not_needed"]);
    assert!(timeline_says(&shown, "desktop showed the page"));
    // Well past the grace: still nothing sent.
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(statuses(&incident(&sandbox, "INC-1")), ["not_needed"]);
    assert!(smtp.emails().is_empty());
}

#[test]
fn with_nothing_to_show_it_the_page_waits_out_the_grace_then_goes_by_email() {
    let (sandbox, smtp, me) = emailing("desktop_grace = \"3s\"");
    // Signed in here, but no notification server: a line on a terminal is not a desktop
    // showing the page.
    sandbox.ok(&["whoami", "--set", &me]);
    let served = Served::start(&sandbox, &[]);
    let token = sandbox.ok(&["token"]).trim().to_owned();
    let posted = Instant::now();
    served.post_alerts(
        &token,
        &[("HighErrorRate", &[("service", "payment-gateway")])],
    );
    let waiting = wait_for_incident(&sandbox, "INC-1", |i| statuses(i) == ["waiting"]);
    let (queued, hold) = (
        waiting["contacts"][0]["queued_at"].as_str().unwrap(),
        waiting["contacts"][0]["hold_until"].as_str().unwrap(),
    );
    let grace =
        hold.parse::<jiff::Timestamp>().unwrap() - queued.parse::<jiff::Timestamp>().unwrap();
    assert_eq!(grace.as_secs(), 3);
    smtp.wait_for_emails(1);
    assert!(posted.elapsed() >= Duration::from_secs(3));
}

#[test]
fn an_smtp_server_down_for_a_minute_gets_the_page_once_when_it_is_back() {
    let sandbox = Sandbox::demo();
    let smtp_port = free_port();
    let receiver = Receiver::start();
    let contacts = format!(
        "{{ kind = \"email\", to = \"oncall@example.org\" }}, {{ kind = \"webhook\", url = \"{}\", format = \"json\" }}",
        receiver.url("/gateway")
    );
    configure(&sandbox, smtp_port, "", &contacts);
    let served = Served::start(&sandbox, &[]);
    let token = sandbox.ok(&["token"]).trim().to_owned();
    served.post_alerts(
        &token,
        &[("HighErrorRate", &[("service", "payment-gateway")])],
    );
    // The relay being down delays nothing else: the webhook has it already.
    receiver.wait_for("/gateway", 1);
    let failing = wait_for_incident(&sandbox, "INC-1", |i| {
        i["contacts"][0]["attempts"].as_u64().unwrap_or(0) >= 2
    });
    assert_eq!(failing["contacts"][0]["status"], "waiting");
    assert!(
        failing["contacts"][0]["last_error"]
            .as_str()
            .unwrap()
            .contains("SMTP"),
        "{failing:#}"
    );
    std::thread::sleep(Duration::from_secs(50));
    let smtp = SmtpServer::start(sandbox.dir.path(), smtp_port);
    smtp.wait_for_emails(1);
    wait_for_incident(&sandbox, "INC-1", |i| statuses(i) == ["sent", "sent"]);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(smtp.emails().len(), 1);
    assert_eq!(receiver.received().len(), 1);
}

#[test]
fn a_webhook_that_fails_is_tried_again_under_the_same_idempotency_key() {
    let sandbox = Sandbox::demo();
    let receiver = Receiver::start();
    receiver.answer(503);
    let contacts = format!(
        "{{ kind = \"webhook\", url = \"{}\", format = \"json\" }}",
        receiver.url("/gateway")
    );
    configure(&sandbox, free_port(), "", &contacts);
    let served = Served::start(&sandbox, &[]);
    let token = sandbox.ok(&["token"]).trim().to_owned();
    served.post_alerts(
        &token,
        &[("HighErrorRate", &[("service", "payment-gateway")])],
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while receiver.all().len() < 2 {
        assert!(Instant::now() < deadline, "not tried again");
        std::thread::sleep(Duration::from_millis(50));
    }
    let failing = incident(&sandbox, "INC-1");
    assert!(
        failing["contacts"][0]["last_error"]
            .as_str()
            .unwrap_or("")
            .contains("HTTP 503"),
        "{failing:#}"
    );
    receiver.answer(200);
    receiver.wait_for("/gateway", 1);
    wait_for_incident(&sandbox, "INC-1", |i| statuses(i) == ["sent"]);
    let all = receiver.all();
    assert!(
        all.iter()
            .all(|r| r.headers["idempotency-key"] == all[0].headers["idempotency-key"])
    );
    assert_eq!(receiver.received().len(), 1);
}

#[test]
fn killed_between_queueing_and_sending_the_engine_sends_each_page_once() {
    let sandbox = Sandbox::demo();
    let smtp_port = free_port();
    let smtp = SmtpServer::start(sandbox.dir.path(), smtp_port);
    let receiver = Receiver::start();
    let contacts = format!(
        "{{ kind = \"email\", to = \"oncall@example.org\" }}, {{ kind = \"webhook\", url = \"{}\", format = \"json\" }}",
        receiver.url("/gateway")
    );
    let me = configure(&sandbox, smtp_port, "desktop_grace = \"2s\"", &contacts);
    sandbox.ok(&["whoami", "--set", &me]);
    let mut served = Served::start(&sandbox, &[]);
    let token = sandbox.ok(&["token"]).trim().to_owned();
    served.post_alerts(
        &token,
        &[("HighErrorRate", &[("service", "payment-gateway")])],
    );
    // Queued, held for the grace: killed before it leaves.
    wait_for_incident(&sandbox, "INC-1", |i| statuses(i) == ["waiting", "waiting"]);
    served.child.kill().unwrap(); // SIGKILL
    served.child.wait().unwrap();
    std::thread::sleep(Duration::from_secs(3));
    assert!(smtp.emails().is_empty(), "nothing left before the kill");
    let served = Served::start(&sandbox, &[]);
    smtp.wait_for_emails(1);
    receiver.wait_for("/gateway", 1);
    wait_for_incident(&sandbox, "INC-1", |i| statuses(i) == ["sent", "sent"]);

    // Then killed at random moments while pages keep coming: no email ever arrives twice,
    // and a webhook sent again carries the key it had.
    drop(served);
    let mut rng = crate::support::XorShift(0x5eed_cafe);
    for round in 0..6u64 {
        let mut served = Served::start(&sandbox, &[]);
        let service = format!("svc-{round}");
        served.post_alerts(
            &token,
            &[(
                "HighErrorRate",
                &[("service", "payment-gateway"), ("instance", &service)],
            )],
        );
        std::thread::sleep(Duration::from_millis(1500 + rng.below(2500)));
        served.child.kill().unwrap();
        served.child.wait().unwrap();
    }
    let served = Served::start(&sandbox, &[]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let settled = loop {
        let list = sandbox.json(&["incidents", "--state", "all"]);
        let ids: Vec<String> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect();
        let all: Vec<Value> = ids.iter().map(|id| incident(&sandbox, id)).collect();
        if all.iter().all(|i| {
            statuses(i)
                .iter()
                .all(|s| !matches!(s.as_str(), "waiting" | "sending"))
        }) {
            break all;
        }
        assert!(Instant::now() < deadline, "messages still waiting");
        std::thread::sleep(Duration::from_millis(200));
    };
    drop(served);
    let emails = smtp.emails();
    let mut ids: Vec<&str> = emails
        .iter()
        .map(|e| e["message_id"].as_str().unwrap())
        .collect();
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), count, "an email arrived twice");
    for incident in &settled {
        let id = incident["id"].as_str().unwrap();
        let emailed = emails
            .iter()
            .filter(|e| e["subject"].as_str().unwrap().contains(&format!("({id})")))
            .count();
        let email_status = &statuses(incident)[0];
        match email_status.as_str() {
            "sent" => assert_eq!(emailed, 1, "{id}"),
            "unknown" => assert!(emailed <= 1, "{id}"),
            other => panic!("{id}: email {other}"),
        }
    }
}

#[test]
fn a_flood_to_one_person_becomes_one_summary_within_the_rate_limit() {
    let (sandbox, smtp, _) = emailing("rate_limit = { messages = 3, per = \"10m\" }");
    // One incident per alert name: ten pages to the same person at once.
    sandbox.write_config(&(sandbox.read_config() + "\n[alerts]\ngroup_by = [\"alertname\"]\n"));
    let served = Served::start(&sandbox, &[]);
    let token = sandbox.ok(&["token"]).trim().to_owned();
    let alerts: Vec<(String, Vec<(&str, String)>)> = (0..10)
        .map(|i| {
            (
                format!("Alert{i}"),
                vec![("service", "payment-gateway".to_owned())],
            )
        })
        .collect();
    let alerts: Vec<(&str, Vec<(&str, &str)>)> = alerts
        .iter()
        .map(|(name, labels)| {
            (
                name.as_str(),
                labels.iter().map(|(k, v)| (*k, v.as_str())).collect(),
            )
        })
        .collect();
    let alerts: Vec<(&str, &[(&str, &str)])> =
        alerts.iter().map(|(n, l)| (*n, l.as_slice())).collect();
    served.post_alerts(&token, &alerts);
    let emails = smtp.wait_for_emails(1);
    std::thread::sleep(Duration::from_secs(3));
    let emails = if smtp.emails().len() > emails.len() {
        smtp.emails()
    } else {
        emails
    };
    let incidents = sandbox.json(&["incidents"]);
    let opened = incidents.as_array().unwrap().len();
    assert_eq!(opened, 10);
    assert!(emails.len() <= 3, "{} emails", emails.len());
    let summary = emails
        .iter()
        .find(|e| {
            e["subject"]
                .as_str()
                .unwrap()
                .contains("rate limit reached")
        })
        .expect("a summary");
    for i in 1..=opened {
        let id = format!("INC-{i}");
        let mentioned = emails
            .iter()
            .any(|e| e["body"].as_str().unwrap().contains(&format!("{id} ")));
        assert!(mentioned, "{id} in no email: {summary:#}");
    }
}

#[test]
fn contacts_are_checked_where_they_are_written() {
    let sandbox = Sandbox::demo();
    let config = sandbox.read_config().replacen(
        "name = \"Aisha Adeyemi\"\n",
        "name = \"Aisha Adeyemi\"\ncontacts = [{ kind = \"email\", to = \"not-an-address\" }, { kind = \"webhook\", url = \"http://ntfy.example.org/a\", format = \"ntfy\" }]\n",
        1,
    );
    sandbox.write_config(&config);
    let errors = sandbox.fails(&["check"], 2);
    assert!(errors.contains("stopline.toml:27:"), "{errors}");
    assert!(errors.contains("people[0].contacts[0].to"), "{errors}");
    assert!(errors.contains("not an email address"), "{errors}");
    assert!(errors.contains("people[0].contacts[1].url"), "{errors}");
    assert!(errors.contains("an email contact needs [smtp]"), "{errors}");
}

#[test]
fn contact_test_sends_each_contact_a_test_and_says_which_did_not_take_it() {
    let sandbox = Sandbox::demo();
    let smtp_port = free_port();
    let smtp = SmtpServer::start(sandbox.dir.path(), smtp_port);
    let receiver = Receiver::start();
    let nobody = format!("http://127.0.0.1:{}/hook", free_port());
    let contacts = format!(
        "{{ kind = \"email\", to = \"oncall@example.org\" }}, \
         {{ kind = \"webhook\", url = \"{}\", format = \"ntfy\" }}, \
         {{ kind = \"webhook\", url = \"{nobody}\", format = \"slack\" }}",
        receiver.url("/ntfy/oncall-pages"),
    );
    let me = configure(&sandbox, smtp_port, "", &contacts);
    let output = sandbox.run(&["contact-test", "--person", &me]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stdout.contains("delivered to the SMTP server (250"),
        "{stdout}"
    );
    assert!(stdout.contains("FAILED"), "{stdout}");
    assert!(stdout.contains("cannot connect"), "{stdout}");
    assert!(
        stderr.contains("1 of 3 contacts did not take the test message"),
        "{stderr}"
    );
    let email = &smtp.wait_for_emails(1)[0];
    assert!(
        email["subject"]
            .as_str()
            .unwrap()
            .starts_with("Stopline test page for ")
    );
    assert!(email["body"].as_str().unwrap().contains("Nothing is wrong"));
    let ntfy = &receiver.wait_for("/ntfy", 1)[0];
    assert_eq!(ntfy.body["priority"], 3);
    // No incident: a test pages nobody.
    assert_eq!(
        sandbox.json(&["incidents", "--state", "all"]),
        serde_json::json!([])
    );

    // JSON, and a person without contacts.
    let tried = sandbox
        .command(&["contact-test", "--person", &me, "--json"])
        .output()
        .unwrap();
    let tried: Value = serde_json::from_slice(&tried.stdout).unwrap();
    assert_eq!(tried[0]["channel"], "email");
    assert_eq!(tried[0]["delivered"], true);
    assert_eq!(tried[2]["delivered"], false);
    let other = if me == "aisha" { "ben" } else { "aisha" };
    let refused = sandbox.fails(&["contact-test", "--person", other], 1);
    assert!(refused.contains("has no contacts"), "{refused}");
    let unknown = sandbox.fails(&["contact-test", "--person", "nobody-here"], 2);
    assert!(unknown.contains("nobody-here"), "{unknown}");
}

#[test]
fn a_secret_a_contact_needs_that_is_not_there_is_named_when_the_engine_starts() {
    let sandbox = Sandbox::demo();
    let receiver = Receiver::start();
    let contacts = format!(
        "{{ kind = \"webhook\", url = \"{}\", format = \"json\", token_env = \"STOPLINE_TEST_GATEWAY_TOKEN\" }}",
        receiver.url("/gateway")
    );
    let me = configure(&sandbox, free_port(), "", &contacts);
    let served = Served::start(&sandbox, &[]);
    let said = served.wait_for_log("pages beyond the desk:");
    assert!(said.contains("STOPLINE_TEST_GATEWAY_TOKEN"), "{said}");
    assert!(said.contains(&format!("{me}'s json contact")), "{said}");
    // The engine runs all the same: the page is on the desktop, the message waits for the token.
    let token = sandbox.ok(&["token"]).trim().to_owned();
    served.post_alerts(
        &token,
        &[("HighErrorRate", &[("service", "payment-gateway")])],
    );
    let waiting = wait_for_incident(&sandbox, "INC-1", |i| {
        i["contacts"][0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("STOPLINE_TEST_GATEWAY_TOKEN"))
    });
    assert_eq!(waiting["contacts"][0]["status"], "waiting");
    assert!(receiver.all().is_empty());
}
