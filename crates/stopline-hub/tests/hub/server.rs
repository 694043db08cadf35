//! The desktops' routes over HTTP on loopback: bad input refused by name and changing nothing,
//! and a page travelling from a webhook to its person's stream, then its receipt to pulls.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use stopline_core::clock::{Clock, ManualClock};
use stopline_core::config::{Config, DEMO_CONFIG};
use stopline_core::ids::PersonId;
use stopline_hub::{Database, HubServer, HubState};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::intake::{T0, at};
use super::migrated;

const WEBHOOK_TOKEN: &str = "hook-token-for-tests";

/// A hub serving `db` on a free loopback port, with the demo config and a clock at `T0`
/// (Thursday 10:00 in London: working hours). Escalation runs beside it as `stopline hub`
/// runs it, but ticking only hourly: a page within the test comes from intake waking it.
async fn serve(db: &Database) -> String {
    serve_with(db, DEMO_CONFIG).await
}

async fn serve_with(db: &Database, config: &str) -> String {
    let config = Config::parse("demo.toml", config).unwrap();
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(at(T0)));
    let mut state = HubState::new(
        db.clone(),
        Some(config),
        Arc::clone(&clock),
        WEBHOOK_TOKEN.into(),
    );
    state.max_body_bytes = 64 * 1024;
    tokio::spawn(stopline_hub::escalate_every(
        db.clone(),
        Arc::clone(state.config.as_ref().unwrap()),
        clock,
        Duration::from_secs(3600),
        Arc::clone(&state.escalate_now),
        std::future::pending(),
    ));
    let server = HubServer::bind("127.0.0.1:0".parse().unwrap(), state)
        .await
        .unwrap();
    let address = server.local_addr().to_string();
    tokio::spawn(server.serve(std::future::pending()));
    address
}

/// One HTTP/1.0 request: the status and the body as JSON (`null` when it is not JSON).
async fn request(
    address: &str,
    method: &str,
    path: &str,
    token: &str,
    body: &[u8],
) -> (u16, Value) {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let status = answer.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// Alertmanager's webhook with one firing alert for the payment gateway (a new incident).
async fn gateway_down(address: &str) {
    let alert = json!({
        "version": "4", "status": "firing", "receiver": "stopline", "groupKey": "{}",
        "alerts": [{"status": "firing", "labels": {"alertname": "Down", "service": "payment-gateway"},
                    "annotations": {}, "startsAt": T0}],
    });
    let body = alert.to_string();
    let (status, answer) = request(
        address,
        "POST",
        "/v1/alertmanager",
        WEBHOOK_TOKEN,
        body.as_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
}

async fn token(db: &Database, person: &str) -> String {
    db.create_token(&PersonId::new(person).unwrap(), None, at(T0))
        .await
        .unwrap()
        .token
}

/// Waits (10 s at most) until the hub has paged someone.
async fn until_someone_is_paged(postgres: &stopline_tests::postgres::Postgres) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while postgres.psql("hub", "SELECT count(*) FROM pages") == "0" {
        assert!(std::time::Instant::now() < deadline, "nobody was paged");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn note_push(desktop: &str, id: u64) -> Vec<u8> {
    json!({"desktop_id": desktop, "mutations": [
        {"id": id, "name": "note", "args": {"incident": "INC-1", "note_id": format!("n{id}"), "text": "hi"}, "at": T0}
    ]})
    .to_string()
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_from_a_desktop_is_a_4xx_naming_the_field_and_changes_nothing() {
    let (_dir, postgres, db) = migrated().await;
    let address = serve(&db).await;
    let (ben, aisha) = (token(&db, "ben").await, token(&db, "aisha").await);
    let revoked = db
        .create_token(&PersonId::new("carla").unwrap(), None, at(T0))
        .await
        .unwrap();
    db.revoke_token(revoked.id, None, at(T0)).await.unwrap();
    // Ben's desktop has pushed once (to an incident that does not exist: refused, recorded).
    let (status, first) = request(&address, "POST", "/v1/push", &ben, &note_push("ben-1", 1)).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["outcomes"][0]["outcome"], "refused");
    let version = postgres.psql("hub", "SELECT version FROM org_version");

    let unknown = json!({"desktop_id": "ben-1", "mutations": [
        {"id": 2, "name": "shout", "args": {}, "at": T0}
    ]});
    let acting = json!({"desktop_id": "ben-1", "person": "aisha", "mutations": []});
    let oversize = vec![b' '; 65 * 1024];
    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        (
            "/v1/push",
            ben.as_str(),
            b"{\"desktop_id\": ".to_vec(),
            400,
            "desktop_id",
        ),
        ("/v1/push", ben.as_str(), oversize, 413, "."),
        (
            "/v1/push",
            ben.as_str(),
            unknown.to_string().into_bytes(),
            400,
            "mutations[0].name",
        ),
        (
            "/v1/push",
            aisha.as_str(),
            note_push("ben-1", 2),
            403,
            "desktop_id",
        ),
        (
            "/v1/push",
            revoked.token.as_str(),
            note_push("carla-1", 1),
            401,
            "headers.authorization",
        ),
        (
            "/v1/push",
            "",
            note_push("ben-1", 2),
            401,
            "headers.authorization",
        ),
        (
            "/v1/push",
            ben.as_str(),
            acting.to_string().into_bytes(),
            403,
            "person",
        ),
        (
            "/v1/pull",
            ben.as_str(),
            br#"{"desktop_id": "ben-1", "cookie": "crumbs"}"#.to_vec(),
            400,
            "cookie",
        ),
        (
            "/v1/pull",
            aisha.as_str(),
            br#"{"desktop_id": "ben-1"}"#.to_vec(),
            403,
            "desktop_id",
        ),
    ];
    for (path, token, body, status, field) in cases {
        let (got, answer) = request(&address, "POST", path, token, &body).await;
        assert_eq!(
            (got, answer["path"].as_str()),
            (status, Some(field)),
            "{path} {answer}"
        );
        assert!(
            answer["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{answer}"
        );
    }
    assert_eq!(
        postgres.psql("hub", "SELECT version FROM org_version"),
        version,
        "nothing changed"
    );
    // A cookie from another database is no error: everything again, flagged.
    let (status, resync) = request(
        &address,
        "POST",
        "/v1/pull",
        &ben,
        br#"{"desktop_id": "ben-1", "cookie": "another-org:12"}"#,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(resync["reset"], true);
    assert_eq!(resync["last_mutation_id"], 1);
    assert_eq!(resync["outcomes"][0]["outcome"], "refused");
}

/// Reads server-sent events until one named `name`; its data.
async fn next_event(lines: &mut tokio::io::Lines<BufReader<TcpStream>>, name: &str) -> Value {
    let mut current = String::new();
    loop {
        let line = lines
            .next_line()
            .await
            .unwrap()
            .expect("the stream stayed open");
        if let Some(event) = line.strip_prefix("event: ") {
            current = event.to_owned();
        } else if let Some(data) = line.strip_prefix("data: ")
            && current == name
        {
            return serde_json::from_str(data).unwrap();
        }
    }
}

async fn open_stream(address: &str, token: &str) -> tokio::io::Lines<BufReader<TcpStream>> {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let head = format!(
        "GET /v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut lines = BufReader::new(stream).lines();
    let status = lines.next_line().await.unwrap().unwrap();
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    lines
}

#[tokio::test(flavor = "multi_thread")]
async fn a_page_reaches_its_persons_stream_at_once_and_its_receipt_is_pulled() {
    let (_dir, _postgres, db) = migrated().await;
    let address = serve(&db).await;
    let config = Config::parse("demo.toml", DEMO_CONFIG).unwrap();
    // Everyone of the payments team listens; whoever is on call is paged.
    let team = config
        .team(&stopline_core::ids::TeamId::new("payments").unwrap())
        .unwrap();
    let mut streams = Vec::new();
    for member in &team.members {
        let token = token(&db, member.as_str()).await;
        let mut lines = open_stream(&address, &token).await;
        next_event(&mut lines, "pull").await;
        streams.push((member.to_string(), token, lines));
    }
    gateway_down(&address).await;
    let waits: Vec<_> = streams
        .into_iter()
        .map(|(person, token, mut lines)| {
            tokio::spawn(async move {
                // Generous: under a full `make test` on 2 cores, 3 s was once not enough.
                // How soon a page arrives is measured by `make bench` (hub_streams).
                let page =
                    tokio::time::timeout(Duration::from_secs(10), next_event(&mut lines, "page"))
                        .await
                        .ok();
                (person, token, page)
            })
        })
        .collect();
    let mut paged = Vec::new();
    for wait in waits {
        let (person, token, page) = wait.await.unwrap();
        if let Some(page) = page {
            assert_eq!(page["person"], person.as_str());
            assert_eq!(page["incident"], "INC-1");
            paged.push((person, token, page));
        }
    }
    // Escalation ticks hourly here: intake woke it.
    assert!(!paged.is_empty(), "someone on call was paged");
    let (person, token, page) = &paged[0];
    let desktop = format!("{person}-laptop");
    let shown = json!({"desktop_id": desktop, "mutations": [
        {"id": 1, "name": "page_shown", "args": {"page": page["id"]}, "at": T0}
    ]});
    let (status, pushed) = request(
        &address,
        "POST",
        "/v1/push",
        token,
        shown.to_string().as_bytes(),
    )
    .await;
    assert_eq!(
        (status, &pushed["outcomes"][0]["outcome"]),
        (200, &json!("applied")),
        "{pushed}"
    );
    let (_, pulled) = request(
        &address,
        "POST",
        "/v1/pull",
        token,
        json!({"desktop_id": desktop}).to_string().as_bytes(),
    )
    .await;
    let pages = pulled["pages"].as_array().unwrap();
    assert_eq!(pages[0]["id"], page["id"]);
    assert_eq!(pages[0]["shown_on"], json!([desktop]));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_manages_tokens_over_http_and_nobody_else_may() {
    let (_dir, _postgres, db) = migrated().await;
    let with_admin = DEMO_CONFIG.replacen("id = \"aisha\"\n", "id = \"aisha\"\nadmin = true\n", 1);
    assert_ne!(with_admin, DEMO_CONFIG);
    let address = serve_with(&db, &with_admin).await;
    let (aisha, ben) = (token(&db, "aisha").await, token(&db, "ben").await);

    let made = |token: String, person: &str| {
        let address = address.clone();
        let body = json!({ "person": person }).to_string();
        async move { request(&address, "POST", "/v1/tokens", &token, body.as_bytes()).await }
    };
    let (status, refused) = made(ben.clone(), "carla").await;
    assert_eq!(
        (status, refused["path"].as_str()),
        (403, Some("headers.authorization"))
    );
    assert!(
        refused["error"].as_str().unwrap().contains("not an admin"),
        "{refused}"
    );
    let (status, refused) = made(aisha.clone(), "nobody-here").await;
    assert_eq!((status, refused["path"].as_str()), (400, Some("person")));

    let (status, created) = made(aisha.clone(), "carla").await;
    assert_eq!(status, 201, "{created}");
    let carla = created["token"].as_str().unwrap().to_owned();
    let pull = json!({"desktop_id": "carla-1"}).to_string();
    let (status, _) = request(&address, "POST", "/v1/pull", &carla, pull.as_bytes()).await;
    assert_eq!(status, 200, "carla's new token works");

    let (status, listed) = request(&address, "GET", "/v1/tokens", &aisha, b"").await;
    assert_eq!(status, 200);
    assert_eq!(listed.as_array().unwrap().len(), 3);
    assert!(!listed.to_string().contains(&carla), "never the tokens");
    let (status, _) = request(&address, "GET", "/v1/tokens", &ben, b"").await;
    assert_eq!(status, 403);

    let path = format!("/v1/tokens/{}", created["id"]);
    let (status, _) = request(&address, "DELETE", &path, &ben, b"").await;
    assert_eq!(status, 403, "only an admin revokes");
    let (status, _) = request(&address, "DELETE", &path, &aisha, b"").await;
    assert_eq!(status, 200);
    let (status, _) = request(&address, "DELETE", &path, &aisha, b"").await;
    assert_eq!(status, 404, "once");
    let (status, _) = request(&address, "POST", "/v1/pull", &carla, pull.as_bytes()).await;
    assert_eq!(status, 401, "revoked at once");

    let audit = db
        .audit(&stopline_hub::AuditFilter {
            person: Some(PersonId::new("aisha").unwrap()),
            incident: None,
            limit: 10,
        })
        .await
        .unwrap();
    let names: Vec<&str> = audit.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["token_revoke", "token_create"]);
    assert_eq!(audit[1].args["person"], "carla");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_override_pushed_to_the_hub_changes_who_is_on_call_and_who_is_paged() {
    let (_dir, postgres, db) = migrated().await;
    let address = serve(&db).await;
    let ben = token(&db, "ben").await;
    let primary = |view: &Value| view["rotas"][0]["layers"][0]["now"]["person"].clone();
    let (status, before) = request(&address, "GET", "/v1/oncall?team=payments", &ben, b"").await;
    assert_eq!(status, 200, "{before}");
    assert_eq!(before["rotas"][0]["id"], "payments-oncall");
    // Whoever is not on call now covers the primary for the day.
    let covering = if primary(&before) == "carla" {
        "dmitri"
    } else {
        "carla"
    };
    let cover = |id: u64, person: &str, from: &str| {
        json!({"desktop_id": "ben-1", "mutations": [{"id": id, "name": "add_override",
            "args": {"rota": "payments-oncall", "person": person, "from": from, "to": "2026-12-03T18:00:00Z"},
            "at": T0}]})
        .to_string()
    };
    let (_, pushed) = request(
        &address,
        "POST",
        "/v1/push",
        &ben,
        cover(1, covering, "2026-12-03 08:00").as_bytes(),
    )
    .await;
    assert_eq!(pushed["outcomes"][0]["outcome"], "applied", "{pushed}");
    let (_, refused) = request(
        &address,
        "POST",
        "/v1/push",
        &ben,
        cover(2, "nobody", "2026-12-03 08:00").as_bytes(),
    )
    .await;
    assert_eq!(refused["outcomes"][0]["outcome"], "refused");
    assert!(
        refused["outcomes"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("unknown person"),
        "{refused}"
    );

    let (_, after) = request(&address, "GET", "/v1/oncall?team=payments", &ben, b"").await;
    assert_eq!(primary(&after), covering);
    assert_eq!(after["rotas"][0]["layers"][0]["now"]["override"], true);
    let (status, bad) = request(&address, "GET", "/v1/oncall?team=nope", &ben, b"").await;
    assert_eq!((status, bad["path"].as_str()), (400, Some("team")));
    let (status, bad) = request(&address, "GET", "/v1/oncall?at=noon", &ben, b"").await;
    assert_eq!((status, bad["path"].as_str()), (400, Some("at")));

    // An alert now pages the person covering, as a desktop with the override in its config would.
    gateway_down(&address).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let paged = postgres.psql(
            "hub",
            "SELECT string_agg(person, ',') FROM pages WHERE step = 0",
        );
        if !paged.is_empty() {
            assert_eq!(paged, covering);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "nobody was paged");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Desktops pull the override; the audit says who added it.
    let (_, pulled) = request(
        &address,
        "POST",
        "/v1/pull",
        &ben,
        br#"{"desktop_id": "ben-1"}"#,
    )
    .await;
    assert_eq!(pulled["overrides"][0]["person"], covering);
    assert_eq!(pulled["overrides"][0]["added_by"], "ben");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_incident_opened_by_hand_is_opened_once_for_everyone_and_paged() {
    let (_dir, postgres, db) = migrated().await;
    let address = serve(&db).await;
    let ben = token(&db, "ben").await;
    let open = |id: u64, application: &str| {
        json!({"desktop_id": "ben-1", "mutations": [{"id": id, "name": "open_incident",
            "args": {"application": application, "title": "Customers cannot pay"}, "at": T0}]})
        .to_string()
    };
    let (_, pushed) = request(
        &address,
        "POST",
        "/v1/push",
        &ben,
        open(1, "payment-gateway").as_bytes(),
    )
    .await;
    assert_eq!(pushed["outcomes"][0]["outcome"], "applied", "{pushed}");
    // Pushed again (an answer lost): still one incident.
    request(
        &address,
        "POST",
        "/v1/push",
        &ben,
        open(1, "payment-gateway").as_bytes(),
    )
    .await;
    let (_, refused) = request(
        &address,
        "POST",
        "/v1/push",
        &ben,
        open(2, "no-such-app").as_bytes(),
    )
    .await;
    assert_eq!(refused["outcomes"][0]["outcome"], "refused", "{refused}");
    assert!(
        refused["outcomes"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("unknown application"),
        "{refused}"
    );
    assert_eq!(
        postgres.psql(
            "hub",
            "SELECT count(*) || ' ' || min(team_id) || ' ' || min(opened_by) FROM incidents"
        ),
        "1 payments ben"
    );

    // Its team's rota is paged, as for an alert; its checklist started with it.
    until_someone_is_paged(&postgres).await;
    let (_, pulled) = request(
        &address,
        "POST",
        "/v1/pull",
        &ben,
        br#"{"desktop_id": "ben-1"}"#,
    )
    .await;
    let incident = &pulled["incidents"][0];
    assert_eq!(incident["title"], "Customers cannot pay", "{pulled:#}");
    assert_eq!(
        incident["opened_by_mutation"],
        json!({"desktop": "ben-1", "mutation": 1})
    );
    assert!(
        pulled["checklist"]
            .as_array()
            .is_some_and(|steps| !steps.is_empty()),
        "{pulled:#}"
    );
    let kinds: Vec<&str> = pulled["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"opened"), "{kinds:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unrouted_alert_routed_by_hand_opens_its_incident_once_and_pages() {
    let (_dir, postgres, db) = migrated().await;
    let address = serve(&db).await;
    let ben = token(&db, "ben").await;
    // An alert no application matches: kept, unrouted, opening nothing.
    let alert = json!({
        "version": "4", "status": "firing", "receiver": "stopline", "groupKey": "{}",
        "alerts": [{"status": "firing", "fingerprint": "lost1",
                    "labels": {"alertname": "QueueStuck", "service": "mystery-box"},
                    "annotations": {}, "startsAt": T0}],
    });
    let body = alert.to_string();
    let (status, answer) = request(
        &address,
        "POST",
        "/v1/alertmanager",
        WEBHOOK_TOKEN,
        body.as_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(postgres.psql("hub", "SELECT count(*) FROM incidents"), "0");

    let assign = |id: u64, fingerprint: &str, application: &str| {
        json!({"desktop_id": "ben-1", "mutations": [{"id": id, "name": "assign_alert",
            "args": {"source": "alertmanager", "fingerprint": fingerprint,
                     "application": application}, "at": T0}]})
        .to_string()
    };
    let push = |body: String| {
        let (address, ben) = (address.clone(), ben.clone());
        async move {
            let (status, pushed) =
                request(&address, "POST", "/v1/push", &ben, body.as_bytes()).await;
            assert_eq!(status, 200, "{pushed}");
            pushed["outcomes"][0].clone()
        }
    };
    let unknown_app = push(assign(1, "lost1", "no-such-app")).await;
    assert_eq!(unknown_app["outcome"], "refused");
    assert!(
        unknown_app["reason"]
            .as_str()
            .unwrap()
            .contains("unknown application"),
        "{unknown_app}"
    );
    let unknown_alert = push(assign(2, "never-sent", "refunds")).await;
    assert_eq!(
        unknown_alert["reason"],
        "the hub has no alert never-sent from alertmanager"
    );
    let routed = push(assign(3, "lost1", "refunds")).await;
    assert_eq!(routed["outcome"], "applied", "{routed}");
    // Pushed again (an answer lost): decided once.
    assert_eq!(push(assign(3, "lost1", "refunds")).await, routed);
    let again = push(assign(4, "lost1", "payment-gateway")).await;
    assert_eq!(again["outcome"], "refused");
    assert_eq!(
        again["reason"],
        "alert lost1 is routed already, to refunds (INC-1)"
    );
    assert_eq!(
        postgres.psql(
            "hub",
            "SELECT count(*) || ' ' || min(application_id) || ' ' || min(team_id) FROM incidents"
        ),
        "1 refunds payments"
    );
    assert_eq!(
        postgres.psql(
            "hub",
            "SELECT application_id || ' ' || incident_id FROM alerts WHERE fingerprint = 'lost1'"
        ),
        "refunds 1"
    );
    // Its team's rota is paged at once (the push woke escalation), and the timeline says who
    // routed it.
    until_someone_is_paged(&postgres).await;
    assert_eq!(
        postgres.psql(
            "hub",
            "SELECT who || ': ' || detail FROM timeline WHERE kind = 'alerts'"
        ),
        "ben: QueueStuck from alertmanager routed by hand to refunds from the unrouted queue"
    );
    assert_eq!(
        postgres.psql(
            "hub",
            "SELECT string_agg(outcome, ',' ORDER BY mutation_id) FROM audit WHERE name = 'assign_alert'"
        ),
        "refused,refused,applied,refused"
    );
}
