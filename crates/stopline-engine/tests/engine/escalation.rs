//! Escalation against a real store on disk, with time moved by hand: who is paged when, that
//! paging stops for good on acknowledge or resolve (restarts included), and callout by
//! availability target out of working hours.

use jiff::{Timestamp, ToSpan};
use stopline_core::config::Config;
use stopline_core::escalation::EscalationStatus;
use stopline_core::ids::{ApplicationId, PersonId};
use stopline_core::incident::{IncidentId, Severity, Transition};
use stopline_core::timeline::TimelineKind;
use stopline_engine::escalation::{Contacts, escalate};
use stopline_store::{NewIncident, Store};

/// The people of this workspace, as `(id, name)`.
const PEOPLE: &[(&str, &str)] = &[
    ("alice", "Alice"),
    ("ben", "Ben"),
    ("chen", "Chen"),
    ("dana", "Dana"),
    ("erin", "Erin"),
    ("finn", "Finn"),
    ("hana", "Hana"),
    ("ivan", "Ivan"),
];

/// What this workspace has besides its `[workspace]` table and its people.
const TEAMS_AND_APPLICATIONS: &str = r#"
[[teams]]
id = "payments"
name = "Payments"
kind = "delivery"
members = ["alice", "ben", "chen", "dana"]

[[teams]]
id = "refunds"
name = "Refunds"
kind = "delivery"
members = ["erin", "finn"]

[[teams]]
id = "search"
name = "Search"
kind = "delivery"
members = ["hana", "ivan"]
escalation = { ack_timeout = "2m", repeat = 0 }

[[applications]]
id = "checkout"
name = "Checkout"
team = "payments"
availability_target = 99.9
exposure_per_hour = 600000

[[applications]]
id = "ledger"
name = "Ledger"
team = "payments"
availability_target = 99.0
exposure_per_hour = 90000

[[applications]]
id = "statements"
name = "Statements"
team = "payments"
availability_target = 95.0
exposure_per_hour = 2000

[[applications]]
id = "refund-api"
name = "Refund API"
team = "refunds"
availability_target = 99.0
exposure_per_hour = 60000

[[applications]]
id = "search-api"
name = "Search API"
team = "search"
availability_target = 99.9
exposure_per_hour = 300000

[[rotas]]
id = "payments-oncall"
teams = ["payments"]

[[rotas.layers]]
name = "primary"
members = ["alice", "ben", "chen"]
start = "2026-01-05"

[[rotas.layers]]
name = "secondary"
members = ["chen", "alice", "ben"]
start = "2026-01-05"

[[rotas]]
id = "money"
teams = ["payments", "refunds"]
budget_holder = "payments"

[[rotas.layers]]
name = "primary"
members = ["erin", "dana", "finn"]
start = "2026-01-05"

[[rotas]]
id = "search-oncall"
teams = ["search"]

[[rotas.layers]]
name = "primary"
members = ["hana"]
start = "2027-01-04"

[[rotas.layers]]
name = "secondary"
members = ["ivan"]
start = "2026-01-05"
"#;

/// The whole config text.
fn config() -> String {
    format!(
        "{}{TEAMS_AND_APPLICATIONS}",
        stopline_tests::workspace_toml(PEOPLE)
    )
}

struct World {
    dir: tempfile::TempDir,
    store: Store,
    config: Config,
}

impl World {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("stopline.db")).unwrap();
        let config = Config::parse("test.toml", &config()).unwrap();
        Self { dir, store, config }
    }

    /// Closes the store and opens it again, as a restarted engine does.
    fn restart(&mut self) {
        self.store = Store::open(&self.dir.path().join("stopline.db")).unwrap();
    }

    fn open(&mut self, app: &str, at: Timestamp) -> IncidentId {
        let application = self
            .config
            .application(&app.parse().unwrap())
            .unwrap()
            .clone();
        self.store
            .open_incident(
                NewIncident {
                    application: Some(ApplicationId::new(app).unwrap()),
                    team: Some(application.team.clone()),
                    title: format!("{app} is down"),
                    severity: Severity::Major,
                    opened_by: None,
                },
                at,
            )
            .unwrap()
            .id
    }

    fn escalate(&mut self, at: Timestamp) -> usize {
        escalate(
            &mut self.store,
            &self.config,
            at,
            Contacts::On { here: None },
        )
        .unwrap()
        .pages
    }

    /// Who was paged for `incident`, in order, with the step's reason.
    fn paged(&self, incident: IncidentId) -> Vec<(String, String)> {
        self.store
            .pages(incident)
            .unwrap()
            .into_iter()
            .map(|p| (p.person.to_string(), p.reason))
            .collect()
    }

    fn people_paged(&self, incident: IncidentId) -> Vec<String> {
        self.paged(incident).into_iter().map(|(p, _)| p).collect()
    }

    fn act(&mut self, incident: IncidentId, transition: Transition, who: &str, at: Timestamp) {
        self.store
            .transition(incident, transition, &PersonId::new(who).unwrap(), at)
            .unwrap();
    }
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// Friday 27 November 2026, 10:00 in London: in working hours. The payments rota is in its
/// 47th weekly turn since 5 January (index 46): primary ben, secondary alice.
const FRIDAY_MORNING: &str = "2026-11-27T10:00:00Z";
/// The same Friday at 23:00: out of hours.
const FRIDAY_NIGHT: &str = "2026-11-27T23:00:00Z";

#[test]
fn primary_then_secondary_then_all_hands_then_again() {
    let mut w = World::new();
    let t0 = at(FRIDAY_MORNING);
    let id = w.open("checkout", t0);
    assert_eq!(w.escalate(t0), 1);
    assert_eq!(
        w.paged(id),
        [("ben".into(), "primary on payments-oncall".into())]
    );
    // Not a moment early: the secondary waits the whole ack_timeout (5 minutes by default).
    assert_eq!(w.escalate(t0 + 4.minutes() + 59.seconds()), 0);
    assert_eq!(w.escalate(t0 + 5.minutes()), 1);
    assert_eq!(w.people_paged(id)[1], "alice");
    // Then the whole team: Stop The Line, all hands.
    assert_eq!(w.escalate(t0 + 10.minutes()), 4);
    assert_eq!(
        w.paged(id)[2..],
        [
            ("alice".into(), "all hands on payments".into()),
            ("ben".into(), "all hands on payments".into()),
            ("chen".into(), "all hands on payments".into()),
            ("dana".into(), "all hands on payments".into()),
        ]
    );
    // Two repeats by default: the cycle runs three times, then paging has done all it can.
    for minutes in [15, 20, 25, 30, 35, 40] {
        assert!(
            w.escalate(t0 + minutes.minutes()) > 0,
            "a step at +{minutes}m"
        );
    }
    assert_eq!(w.store.pages(id).unwrap().len(), 3 * 6);
    assert_eq!(w.escalate(t0 + 3.hours()), 0);
    let escalation = w.store.escalation(id).unwrap().unwrap();
    assert_eq!(escalation.status, EscalationStatus::Exhausted);
    let cycles: Vec<u32> = w.store.pages(id).unwrap().iter().map(|p| p.cycle).collect();
    assert_eq!(cycles.iter().filter(|c| **c == 2).count(), 6);
}

#[test]
fn a_late_engine_catches_up_one_step_at_a_time() {
    let mut w = World::new();
    let t0 = at(FRIDAY_MORNING);
    let id = w.open("checkout", t0);
    // The engine was down for an hour: the first page goes out now, late but not lost, and
    // the secondary still gets the primary's full five minutes.
    assert_eq!(w.escalate(t0 + 1.hours()), 1);
    assert_eq!(w.escalate(t0 + 1.hours() + 4.minutes()), 0);
    assert_eq!(w.escalate(t0 + 1.hours() + 5.minutes()), 1);
    // Asking twice at the same moment records nothing twice.
    assert_eq!(w.escalate(t0 + 1.hours() + 5.minutes()), 0);
    assert_eq!(w.people_paged(id), ["ben", "alice"]);
}

#[test]
fn acknowledging_stops_paging_for_good_whatever_restarts_happen() {
    let mut w = World::new();
    let t0 = at(FRIDAY_MORNING);
    let id = w.open("checkout", t0);
    w.escalate(t0);
    w.escalate(t0 + 5.minutes());
    w.act(id, Transition::Acknowledge, "alice", t0 + 6.minutes());
    // Nothing further, now or ever, across restarts.
    for minutes in [10, 15, 60, 600] {
        w.restart();
        assert_eq!(w.escalate(t0 + minutes.minutes()), 0);
    }
    assert_eq!(w.people_paged(id), ["ben", "alice"]);
    let escalation = w.store.escalation(id).unwrap().unwrap();
    assert_eq!(escalation.status, EscalationStatus::Stopped);
    assert_eq!(escalation.note, "stopped: acknowledged");
    assert!(w.store.next_escalation_due().unwrap().is_none());
}

#[test]
fn a_page_recorded_before_the_acknowledgement_is_never_shown_after_it() {
    let mut w = World::new();
    let t0 = at(FRIDAY_MORNING);
    let id = w.open("checkout", t0);
    w.escalate(t0);
    assert_eq!(w.store.undelivered_pages().unwrap().len(), 1);
    // Acknowledged before this desktop showed the page (from another desktop, say).
    w.act(id, Transition::Acknowledge, "ben", t0 + 30.seconds());
    assert!(w.store.undelivered_pages().unwrap().is_empty());
}

#[test]
fn resolving_stops_paging_at_any_step() {
    let mut w = World::new();
    let t0 = at(FRIDAY_MORNING);
    let id = w.open("checkout", t0);
    for minutes in [0, 5, 10] {
        w.escalate(t0 + minutes.minutes());
    }
    assert_eq!(w.store.pages(id).unwrap().len(), 6);
    w.act(id, Transition::Resolve, "chen", t0 + 11.minutes());
    w.restart();
    assert_eq!(w.escalate(t0 + 2.hours()), 0);
    assert_eq!(w.store.pages(id).unwrap().len(), 6);
    assert_eq!(
        w.store.escalation(id).unwrap().unwrap().status,
        EscalationStatus::Stopped
    );
}

#[test]
fn a_restart_mid_escalation_carries_on_from_the_step_it_was_at() {
    let mut w = World::new();
    let t0 = at(FRIDAY_MORNING);
    let id = w.open("checkout", t0);
    w.escalate(t0);
    w.restart();
    assert_eq!(
        w.escalate(t0 + 1.minutes()),
        0,
        "the primary is not paged again"
    );
    assert_eq!(w.escalate(t0 + 5.minutes()), 1);
    assert_eq!(w.people_paged(id), ["ben", "alice"]);
}

#[test]
fn out_of_hours_a_95_percent_application_waits_for_the_next_working_day() {
    let mut w = World::new();
    let night = at(FRIDAY_NIGHT);
    let id = w.open("statements", night);
    assert_eq!(w.escalate(night), 0);
    let escalation = w.store.escalation(id).unwrap().unwrap();
    assert_eq!(escalation.status, EscalationStatus::Deferred);
    // Monday 30 November, 09:00 GMT.
    let monday = at("2026-11-30T09:00:00Z");
    assert_eq!(escalation.due_at, monday);
    assert!(
        escalation
            .note
            .contains("a 95.0% application waits for the next working day")
    );
    // Visible on the timeline, once.
    let detail = w.store.incident(id).unwrap();
    let paging: Vec<&str> = detail
        .timeline
        .iter()
        .filter(|e| e.kind == TimelineKind::Paging)
        .map(|e| e.detail.as_str())
        .collect();
    assert_eq!(paging.len(), 1, "{paging:?}");
    assert!(
        paging[0].ends_with("paging at Mon 30 Nov 09:00 GMT"),
        "{paging:?}"
    );
    // Nobody all weekend, nor a minute before the day starts.
    for moment in [
        "2026-11-28T12:00:00Z",
        "2026-11-29T23:00:00Z",
        "2026-11-30T08:59:00Z",
    ] {
        w.restart();
        assert_eq!(w.escalate(at(moment)), 0, "at {moment}");
    }
    // At 09:00 the new week's turn has begun (index 47): chen is primary now.
    assert_eq!(w.escalate(monday), 1);
    assert_eq!(
        w.paged(id),
        [("chen".into(), "primary on payments-oncall".into())]
    );
}

#[test]
fn out_of_hours_callout_follows_the_availability_target() {
    let mut w = World::new();
    let night = at(FRIDAY_NIGHT);
    let checkout = w.open("checkout", night);
    let ledger = w.open("ledger", night);
    let refunds = w.open("refund-api", night);
    w.escalate(night);
    // 99.9%: the team's own rota.
    assert_eq!(
        w.paged(checkout),
        [("ben".into(), "primary on payments-oncall".into())]
    );
    // 99.0%: the domain rota shared with refunds (turn 46 of [erin, dana, finn]: dana).
    assert_eq!(
        w.paged(ledger),
        [("dana".into(), "primary on money".into())]
    );
    assert_eq!(
        w.paged(refunds),
        [("dana".into(), "primary on money".into())]
    );
    // In hours, the 99.0% application pages its own team's rota.
    let morning = at(FRIDAY_MORNING);
    let ledger_by_day = w.open("ledger", morning);
    w.escalate(morning);
    assert_eq!(w.people_paged(ledger_by_day), ["ben"]);
}

#[test]
fn a_layer_nobody_holds_yet_is_skipped_at_once() {
    let mut w = World::new();
    let t0 = at(FRIDAY_MORNING);
    let id = w.open("search-api", t0);
    // The primary layer starts in 2027: straight to the secondary, without waiting.
    assert_eq!(w.escalate(t0), 1);
    assert_eq!(
        w.paged(id),
        [("ivan".into(), "secondary on search-oncall".into())]
    );
    let detail = w.store.incident(id).unwrap();
    assert!(
        detail
            .timeline
            .iter()
            .any(|e| e.detail.contains("nobody holds this step's layer"))
    );
    // The team's own policy: 2 minutes, no repeat. Then all hands, then nothing.
    assert_eq!(w.escalate(t0 + 2.minutes()), 2);
    assert_eq!(w.escalate(t0 + 1.hours()), 0);
    assert_eq!(
        w.store.escalation(id).unwrap().unwrap().status,
        EscalationStatus::Exhausted
    );
}

#[test]
fn an_incident_with_no_team_is_not_paged() {
    let mut w = World::new();
    let t0 = at(FRIDAY_MORNING);
    let id = w
        .store
        .open_incident(
            NewIncident {
                application: None,
                team: None,
                title: "unrouted".into(),
                severity: Severity::Minor,
                opened_by: None,
            },
            t0,
        )
        .unwrap()
        .id;
    assert_eq!(w.escalate(t0 + 1.hours()), 0);
    assert!(w.store.escalation(id).unwrap().is_none());
}

/// The workspace with an email contact for ben (payments' primary on Friday morning).
fn config_with_contacts() -> Config {
    let text = config().replacen(
        "name = \"Ben\"\n",
        "name = \"Ben\"\ncontacts = [{ kind = \"email\", to = \"ben@example.org\" }]\n",
        1,
    ) + "\n[smtp]\nhost = \"127.0.0.1\"\nsecurity = \"none\"\nfrom = \"stopline@example.org\"\n";
    Config::parse("test.toml", &text).unwrap()
}

fn statuses(w: &World, id: IncidentId) -> Vec<&'static str> {
    w.store
        .contact_messages_of(id)
        .unwrap()
        .iter()
        .map(|m| m.status.as_str())
        .collect()
}

#[test]
fn a_page_queues_its_contacts_with_the_step_and_nothing_leaves_after_an_acknowledgement() {
    let mut w = World::new();
    w.config = config_with_contacts();
    let ben = PersonId::new("ben").unwrap();
    let t0 = at(FRIDAY_MORNING);

    // Ben sits at this desktop: his email waits out the 30 s grace, queued with the page.
    let held = w.open("checkout", t0);
    escalate(
        &mut w.store,
        &w.config,
        t0,
        Contacts::On { here: Some(&ben) },
    )
    .unwrap();
    let queued = w.store.contact_messages_of(held).unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].hold_until, t0 + 30.seconds());
    assert!(
        w.store
            .due_contact_messages(t0 + 29.seconds(), 10)
            .unwrap()
            .is_empty()
    );
    // Acknowledged within the grace: it never leaves.
    w.act(held, Transition::Acknowledge, "alice", t0 + 20.seconds());
    assert!(
        w.store
            .due_contact_messages(t0 + 31.seconds(), 10)
            .unwrap()
            .is_empty()
    );
    assert_eq!(statuses(&w, held), ["cancelled"]);

    // Nobody here: due at once. Acknowledged between being read and leaving: still never sent.
    let t1 = t0 + 1.hours();
    let at_once = w.open("checkout", t1);
    escalate(&mut w.store, &w.config, t1, Contacts::On { here: None }).unwrap();
    let due = w.store.due_contact_messages(t1, 10).unwrap();
    assert_eq!(due.len(), 1);
    w.act(at_once, Transition::Acknowledge, "ben", t1 + 1.seconds());
    let started = w
        .store
        .begin_sending(&[due[0].id], false, t1 + 2.seconds())
        .unwrap();
    assert_eq!(started, None);
    assert_eq!(statuses(&w, at_once), ["cancelled"]);

    // A summary that failed once is not tried again once none of its incidents waits.
    let t2 = t0 + 2.hours();
    let (a, b) = (w.open("checkout", t2), w.open("ledger", t2));
    escalate(&mut w.store, &w.config, t2, Contacts::On { here: None }).unwrap();
    let due: Vec<i64> = w
        .store
        .due_contact_messages(t2, 10)
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(due.len(), 2, "ben is paged for both");
    let summary = w.store.begin_sending(&due, true, t2).unwrap().unwrap();
    w.store
        .contact_retry(summary, "SMTP: connection refused", t2 + 1.seconds())
        .unwrap();
    w.act(a, Transition::Acknowledge, "ben", t2 + 1.seconds());
    w.act(b, Transition::Acknowledge, "ben", t2 + 1.seconds());
    assert!(
        w.store
            .due_contact_messages(t2 + 5.seconds(), 10)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        w.store.contact_message(summary).unwrap().status.as_str(),
        "cancelled"
    );
}
