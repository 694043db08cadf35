//! On-call shifts as iCalendar feeds, read back by a real iCalendar parser (Debian's
//! python3-icalendar): `stopline shifts --format ics` and the feed `stopline serve` serves, with
//! the right instants across the clock changes of the rota's zone.

use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::{Sandbox, Served, with_stdin};

/// The events of an iCalendar text as the parser reads them: summary, start and end in UTC
/// (RFC 3339), in the feed's order, and the calendar's name.
fn parse(ics: &str) -> (String, Vec<(String, String, String)>) {
    let script = r#"
import json, sys
from datetime import timezone
from icalendar import Calendar
calendar = Calendar.from_ical(sys.stdin.buffer.read())
events = []
for event in calendar.walk("VEVENT"):
    start = event.decoded("DTSTART").astimezone(timezone.utc).isoformat()
    end = event.decoded("DTEND").astimezone(timezone.utc).isoformat()
    events.append([str(event.get("SUMMARY")), start, end])
print(json.dumps({"name": str(calendar.get("X-WR-CALNAME")), "events": events}))
"#;
    let output = with_stdin(
        {
            let mut command = Command::new("/usr/bin/python3");
            command
                .args(["-c", script])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            command
        },
        ics,
    );
    assert!(
        output.status.success(),
        "the iCalendar parser refused the feed: {}\n{ics}",
        String::from_utf8_lossy(&output.stderr)
    );
    let parsed: Value = serde_json::from_slice(&output.stdout).unwrap();
    let events = parsed["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e[0].as_str().unwrap().to_owned(),
                e[1].as_str().unwrap().to_owned(),
                e[2].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (parsed["name"].as_str().unwrap().to_owned(), events)
}

#[test]
fn a_persons_shifts_across_both_clock_changes_are_the_right_instants() {
    let sandbox = Sandbox::demo();
    // Ben on Payments' rota (Europe/London, handoffs Monday 09:00): secondary in the week British
    // Summer Time begins (29 March 2026), primary in the week it ends (25 October).
    let spring = sandbox.ok(&[
        "shifts",
        "--person",
        "ben",
        "--from",
        "2026-03-23",
        "--to",
        "2026-03-31",
        "--format",
        "ics",
    ]);
    let (name, events) = parse(&spring);
    assert_eq!(name, "On call: Ben Berg");
    assert_eq!(
        events,
        [(
            "On call: secondary on Payments on call".to_owned(),
            // Monday 09:00 GMT, to the next Monday 09:00 BST: an hour short of a week.
            "2026-03-23T09:00:00+00:00".to_owned(),
            "2026-03-30T08:00:00+00:00".to_owned()
        )]
    );
    // The text lines end in CRLF, as RFC 5545 says.
    assert!(spring.contains("\r\nBEGIN:VEVENT\r\n"));
    assert!(!spring.replace("\r\n", "").contains('\n'));

    let shifts: Vec<Value> = serde_json::from_value(sandbox.json(&[
        "shifts",
        "--person",
        "ben",
        "--from",
        "2026-10-12",
        "--to",
        "2026-11-03",
    ]))
    .unwrap();
    let autumn = sandbox.ok(&[
        "shifts",
        "--person",
        "ben",
        "--from",
        "2026-10-12",
        "--to",
        "2026-11-03",
        "--format",
        "ics",
    ]);
    let (_, events) = parse(&autumn);
    assert_eq!(events.len(), shifts.len());
    for ((summary, start, end), shift) in events.iter().zip(&shifts) {
        assert!(summary.ends_with("on Payments on call"), "{summary}");
        let at = |text: &str| text.parse::<jiff::Timestamp>().unwrap();
        assert_eq!(at(start), at(shift["since"].as_str().unwrap()), "{shift}");
        assert_eq!(at(end), at(shift["until"].as_str().unwrap()), "{shift}");
    }
    // A week that holds the end of summer time is an hour longer: 09:00 BST to 09:00 GMT.
    assert!(
        events
            .iter()
            .any(|(_, start, end)| start == "2026-10-19T08:00:00+00:00"
                && end == "2026-10-26T09:00:00+00:00"),
        "{events:?}"
    );
}

#[test]
fn a_rotas_calendar_names_who_is_on_each_layer_and_bad_arguments_are_named() {
    let sandbox = Sandbox::demo();
    let ics = sandbox.ok(&[
        "shifts",
        "--rota",
        "payments-oncall",
        "--from",
        "2026-03-23 09:00",
        "--to",
        "2026-03-30 09:00",
        "--format",
        "ics",
    ]);
    let (name, events) = parse(&ics);
    assert_eq!(name, "On call: Payments on call");
    let summaries: Vec<&str> = events.iter().map(|(s, _, _)| s.as_str()).collect();
    assert_eq!(
        summaries,
        [
            "Dmitri Dubois on call (primary)",
            "Ben Berg on call (secondary)"
        ]
    );
    let stderr = sandbox.fails(
        &[
            "shifts",
            "--rota",
            "nope",
            "--from",
            "2026-03-23",
            "--to",
            "2026-03-30",
            "--format",
            "ics",
        ],
        2,
    );
    assert!(
        stderr.contains("--rota: unknown rota \"nope\": expected one of payments-oncall"),
        "{stderr}"
    );
    let stderr = sandbox.fails(
        &[
            "shifts",
            "--from",
            "2026-03-23",
            "--to",
            "2026-03-30",
            "--format",
            "ics",
        ],
        2,
    );
    assert!(stderr.contains("--person"), "{stderr}");
    let stderr = sandbox.fails(
        &[
            "shifts",
            "--person",
            "ben",
            "--from",
            "2026-03-30",
            "--to",
            "2026-03-23",
            "--format",
            "ics",
        ],
        2,
    );
    assert!(stderr.contains("--from"), "{stderr}");
}

#[test]
fn the_engine_serves_the_feed_to_the_calendar_key_only() {
    let sandbox = Sandbox::demo();
    let served = Served::start(&sandbox, &[]);
    let url = sandbox.json(&["calendar", "--person", "ben"])["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = &url[url.find("/v1/").unwrap()..];
    assert!(
        path.starts_with("/v1/calendar/people/ben.ics?key="),
        "{url}"
    );
    let key = &path[path.find("key=").unwrap() + 4..];
    let token = sandbox.ok(&["token"]).trim().to_owned();
    assert!(
        !url.contains(&token),
        "the URL gives away the webhook token"
    );
    assert_ne!(key, token);

    let (status, body) = served.request("GET", path, &[], b"");
    assert_eq!(status, 200, "{body}");
    let (name, events) = parse(&body);
    assert_eq!(name, "On call: Ben Berg");
    assert!(!events.is_empty(), "ben is on call within 90 days");
    // The same as the CLI says, for the same window.
    let (status, rota) = served.request(
        "GET",
        &format!("/v1/calendar/rotas/payments-oncall.ics?key={key}"),
        &[],
        b"",
    );
    assert_eq!(status, 200, "{rota}");
    assert!(parse(&rota).0.contains("Payments on call"));

    // Without the key, a wrong one, or an unknown person: refused, saying why.
    let (status, _) = served.request("GET", "/v1/calendar/people/ben.ics", &[], b"");
    assert_eq!(status, 401);
    let (status, _) = served.request("GET", "/v1/calendar/people/ben.ics?key=00", &[], b"");
    assert_eq!(status, 401);
    let (status, body) = served.request(
        "GET",
        &format!("/v1/calendar/people/nobody.ics?key={key}"),
        &[],
        b"",
    );
    assert_eq!(status, 404);
    assert!(body.contains("unknown person"), "{body}");
    // The webhook token works too, as a bearer token.
    let auth = format!("Bearer {token}");
    let (status, _) = served.request(
        "GET",
        "/v1/calendar/rotas/payments-oncall.ics",
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(status, 200);
}
