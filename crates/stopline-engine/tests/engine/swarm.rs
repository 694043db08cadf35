//! Stop The Line against a real store on disk: the checklist and its rules, roles, the team's
//! line, severity from money, the service desk, and the review. Time is passed in, never slept.

use jiff::{Timestamp, ToSpan};
use stopline_core::config::Config;
use stopline_core::ids::{ApplicationId, TeamId};
use stopline_core::incident::{IncidentId, IncidentState, Severity, Transition};
use stopline_core::swarm::{Role, StepState};
use stopline_core::timeline::TimelineKind;
use stopline_engine::desk::{self, OpenTarget};
use stopline_engine::swarm::{self, RoleRequest, StepRequest};
use stopline_engine::{EngineError, escalation, review};
use stopline_store::{Store, StoreError};

/// The people of this workspace, as `(id, name)`.
const PEOPLE: &[(&str, &str)] = &[
    ("alice", "Alice"),
    ("ben", "Ben"),
    ("chen", "Chen"),
    ("desk1", "Desk One"),
];

/// What this workspace has besides its `[workspace]` table and its people.
const TEAMS_AND_APPLICATIONS: &str = r#"
[[teams]]
id = "payments"
name = "Payments"
kind = "delivery"
members = ["alice", "ben", "chen"]

[[teams]]
id = "search"
name = "Search"
kind = "delivery"
members = ["chen"]
checklist = [
  { id = "look", title = "Look at the dashboards" },
  { id = "restart-the-line", title = "Restart the line" },
]

[[teams]]
id = "desk"
name = "Service Desk"
kind = "service_desk"
members = ["desk1"]

[[applications]]
id = "checkout"
name = "Checkout"
team = "payments"
availability_target = 99.9
exposure_per_hour = 600000
journeys = ["checkout", "pay"]
checklist_extra = [
  { id = "failover-db", title = "Fail the database over", required = false, runbook = "https://runbooks.example/checkout-db" },
]

[[applications]]
id = "refunds"
name = "Refunds"
team = "payments"
availability_target = 99.0
exposure_per_hour = 60000
journeys = ["refund"]

[[applications]]
id = "ledger"
name = "Ledger"
team = "payments"
availability_target = 99.0
exposure_per_hour = 90000
expected_time_to_restore = "4h"

[[applications]]
id = "search-api"
name = "Search API"
team = "search"
availability_target = 99.0
exposure_per_hour = 100000

[[rotas]]
id = "payments-oncall"
teams = ["payments"]

[[rotas.layers]]
name = "primary"
members = ["alice", "ben", "chen"]
start = "2026-01-05"
"#;

/// The whole config text.
fn config() -> String {
    format!(
        "{}{TEAMS_AND_APPLICATIONS}",
        stopline_tests::workspace_toml(PEOPLE)
    )
}

pub(super) struct World {
    _dir: tempfile::TempDir,
    pub(super) store: Store,
    pub(super) config: Config,
}

impl World {
    pub(super) fn new() -> Self {
        Self::with("")
    }

    fn with(extra: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("stopline.db")).unwrap();
        let config = Config::parse("test.toml", &format!("{}{extra}", config())).unwrap();
        Self {
            _dir: dir,
            store,
            config,
        }
    }

    /// The service desk opens an incident on `app`.
    pub(super) fn open(&mut self, app: &str, at: Timestamp) -> IncidentId {
        desk::open_incident(
            &mut self.store,
            &self.config,
            &OpenTarget::Application(app.into()),
            &format!("{app} is down"),
            "desk1",
            at,
            desk::Numbering::Own,
        )
        .unwrap()
        .id
    }

    pub(super) fn act(
        &mut self,
        id: IncidentId,
        t: Transition,
        who: &str,
        force: bool,
        at: Timestamp,
    ) -> Result<(), EngineError> {
        desk::transition(&mut self.store, &self.config, id, t, who, force, at).map(|_| ())
    }

    fn step(
        &mut self,
        id: IncidentId,
        step: &str,
        state: StepState,
        reason: Option<&str>,
        at: Timestamp,
    ) -> Result<(), EngineError> {
        let request = StepRequest {
            step,
            state: Some(state),
            reason,
            assignee: None,
        };
        swarm::change_step(&mut self.store, &self.config, id, request, "alice", at).map(|_| ())
    }

    fn role(
        &mut self,
        id: IncidentId,
        role: Role,
        person: &str,
        handover: bool,
        at: Timestamp,
    ) -> Result<(), EngineError> {
        let request = RoleRequest {
            role,
            person,
            handover,
        };
        swarm::name_role(&mut self.store, &self.config, id, request, "alice", at)
    }

    pub(super) fn line(&self, team: &str, at: Timestamp) -> stopline_core::swarm::LineState {
        swarm::line(&self.store, &self.config, team, at).unwrap()
    }

    /// Everything the store says about the incident, to show a refusal changed nothing.
    fn snapshot(&self, id: IncidentId) -> String {
        format!(
            "{:?}{:?}{:?}",
            self.store.incident(id).unwrap(),
            self.store.checklist(id).unwrap(),
            self.store.roles(id).unwrap()
        )
    }
}

pub(super) fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

pub(super) const T0: &str = "2026-11-27T10:00:00Z";

#[test]
fn an_alerted_incident_gets_its_checklist_when_acknowledged() {
    let mut w = World::new();
    let t0 = at(T0);
    let id = w
        .store
        .open_incident(
            stopline_store::NewIncident {
                application: Some(ApplicationId::new("checkout").unwrap()),
                team: Some(TeamId::new("payments").unwrap()),
                title: "Checkout 5xx".into(),
                severity: Severity::Major,
                opened_by: None,
            },
            t0,
        )
        .unwrap()
        .id;
    assert!(
        w.store.checklist(id).unwrap().is_empty(),
        "nobody has seen it yet"
    );
    let err = w
        .step(id, "restore", StepState::Done, None, t0)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("checklist starts when it is acknowledged"),
        "{err}"
    );
    w.act(id, Transition::Acknowledge, "ben", false, t0 + 2.minutes())
        .unwrap();
    let steps = w.store.checklist(id).unwrap();
    let ids: Vec<&str> = steps.iter().map(|s| s.step.as_str()).collect();
    assert_eq!(
        ids,
        [
            "stop-the-line",
            "assemble-swarm",
            "name-commander",
            "assess-impact",
            "tell-stakeholders",
            "diagnose",
            "restore",
            "verify-recovery",
            "failover-db",
            "restart-the-line",
            "schedule-review"
        ],
        "the workspace's steps with the application's extra one before the restart"
    );
    assert_eq!(
        steps[8].runbook.as_deref(),
        Some("https://runbooks.example/checkout-db")
    );
    assert!(steps.iter().all(|s| s.state == StepState::Todo));
}

#[test]
fn a_team_template_replaces_the_workspaces() {
    let mut w = World::new();
    let id = w.open("search-api", at(T0));
    let ids: Vec<String> = w
        .store
        .checklist(id)
        .unwrap()
        .iter()
        .map(|s| s.step.to_string())
        .collect();
    assert_eq!(ids, ["look", "restart-the-line"]);
}

#[test]
fn steps_record_who_and_when_and_refuse_bad_changes_without_changing_anything() {
    let mut w = World::new();
    let t0 = at(T0);
    let id = w.open("checkout", t0);
    w.step(id, "stop-the-line", StepState::Done, None, t0 + 1.minutes())
        .unwrap();
    let request = StepRequest {
        step: "diagnose",
        state: Some(StepState::Doing),
        reason: None,
        assignee: Some("chen"),
    };
    swarm::change_step(
        &mut w.store,
        &w.config,
        id,
        request,
        "ben",
        t0 + 2.minutes(),
    )
    .unwrap();
    let steps = w.store.checklist(id).unwrap();
    assert_eq!(steps[0].state, StepState::Done);
    assert_eq!(steps[0].changed_by.as_ref().unwrap().as_str(), "alice");
    assert_eq!(steps[0].changed_at, Some(t0 + 1.minutes()));
    assert_eq!(steps[5].state, StepState::Doing);
    assert_eq!(steps[5].assignee.as_ref().unwrap().as_str(), "chen");
    let timeline: Vec<String> = w
        .store
        .incident(id)
        .unwrap()
        .timeline
        .iter()
        .filter(|e| e.kind == TimelineKind::Checklist)
        .map(|e| e.detail.clone())
        .collect();
    assert_eq!(
        timeline[1..],
        [
            "Stop the line: halt feature work and tell the team: done",
            "Diagnose: doing, assigned to chen"
        ]
    );

    let before = w.snapshot(id);
    let unknown = w.step(id, "reboot", StepState::Done, None, t0).unwrap_err();
    assert!(unknown.is_usage());
    assert!(
        unknown
            .to_string()
            .contains("has no step \"reboot\": its steps are stop-the-line, assemble-swarm"),
        "{unknown}"
    );
    let no_reason = w
        .step(id, "diagnose", StepState::Skipped, Some("  "), t0)
        .unwrap_err();
    assert!(no_reason.is_usage());
    assert!(
        no_reason.to_string().contains("needs a reason"),
        "{no_reason}"
    );
    let nobody = StepRequest {
        step: "diagnose",
        state: None,
        reason: None,
        assignee: Some("zed"),
    };
    assert!(matches!(
        swarm::change_step(&mut w.store, &w.config, id, nobody, "ben", t0),
        Err(EngineError::UnknownPerson(_))
    ));
    assert_eq!(w.snapshot(id), before, "refusals change nothing");

    w.step(
        id,
        "diagnose",
        StepState::Skipped,
        Some("the cause was obvious"),
        t0 + 3.minutes(),
    )
    .unwrap();
    assert_eq!(
        w.store.checklist(id).unwrap()[5].reason.as_deref(),
        Some("the cause was obvious")
    );
}

#[test]
fn resolve_waits_for_the_required_steps_unless_forced() {
    let mut w = World::new();
    let t0 = at(T0);
    let id = w.open("search-api", t0);
    w.act(id, Transition::Acknowledge, "chen", false, t0)
        .unwrap();
    let before = w.snapshot(id);
    let refused = w
        .act(id, Transition::Resolve, "chen", false, t0 + 5.minutes())
        .unwrap_err();
    assert_eq!(
        refused.to_string(),
        format!("{id} has required checklist steps still open: look, restart-the-line")
    );
    assert_eq!(w.snapshot(id), before);
    // Done or skipped (with a reason) both close a step.
    w.step(
        id,
        "look",
        StepState::Skipped,
        Some("no dashboards yet"),
        t0 + 6.minutes(),
    )
    .unwrap();
    w.step(
        id,
        "restart-the-line",
        StepState::Done,
        None,
        t0 + 7.minutes(),
    )
    .unwrap();
    w.act(id, Transition::Resolve, "chen", false, t0 + 8.minutes())
        .unwrap();
    assert_eq!(
        w.store.incident(id).unwrap().incident.state,
        IncidentState::Resolved
    );

    let other = w.open("search-api", t0);
    w.act(other, Transition::Resolve, "chen", true, t0 + 9.minutes())
        .unwrap();
    let resolved = w
        .store
        .incident(other)
        .unwrap()
        .timeline
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        resolved.detail,
        "resolved by chen, overriding required checklist steps still open: look, restart-the-line"
    );
}

#[test]
fn exactly_one_commander_at_a_time_with_handovers_on_the_timeline() {
    let mut w = World::new();
    let t0 = at(T0);
    let id = w.open("checkout", t0);
    w.role(id, Role::Commander, "alice", false, t0).unwrap();
    let before = w.snapshot(id);
    let second = w
        .role(id, Role::Commander, "ben", false, t0 + 1.minutes())
        .unwrap_err();
    assert!(matches!(
        second,
        EngineError::Store(StoreError::Swarm(
            stopline_core::swarm::SwarmError::RoleTaken { .. }
        ))
    ));
    assert_eq!(
        second.to_string(),
        format!(
            "alice is already the incident commander of {id} (one incident commander at a time)"
        )
    );
    assert_eq!(w.snapshot(id), before, "nothing changed");
    w.role(id, Role::Commander, "ben", true, t0 + 2.minutes())
        .unwrap();
    w.role(id, Role::Comms, "chen", false, t0 + 3.minutes())
        .unwrap();
    w.role(id, Role::Scribe, "alice", false, t0 + 3.minutes())
        .unwrap();
    swarm::join(&mut w.store, &w.config, id, "chen", t0 + 4.minutes()).unwrap();
    swarm::leave(&mut w.store, &w.config, id, "chen", t0 + 5.minutes()).unwrap();
    let not_in = swarm::leave(&mut w.store, &w.config, id, "chen", t0 + 6.minutes()).unwrap_err();
    assert!(
        not_in.to_string().contains("chen is not in the swarm"),
        "{not_in}"
    );
    let roles = w.store.roles(id).unwrap();
    let commanders: Vec<(&str, Option<Timestamp>)> = roles
        .iter()
        .filter(|r| r.role == Role::Commander)
        .map(|r| (r.person.as_str(), r.until))
        .collect();
    assert_eq!(
        commanders,
        [("alice", Some(t0 + 2.minutes())), ("ben", None)]
    );
    let said: Vec<String> = w
        .store
        .incident(id)
        .unwrap()
        .timeline
        .iter()
        .filter(|e| e.kind == TimelineKind::Role)
        .map(|e| e.detail.clone())
        .collect();
    assert_eq!(
        said,
        [
            "incident commander: alice",
            "incident commander: handed over from alice to ben",
            "communications lead: chen",
            "scribe: alice",
            "chen joined the swarm",
            "chen left the swarm"
        ]
    );
}

#[test]
fn naming_a_commander_and_the_swarm_assembling_tick_their_steps() {
    let mut w = World::new();
    let t0 = at(T0);
    // Opened by the service desk: its checklist is under way.
    let id = w.open("checkout", t0);
    let state = |w: &World, step: &str| {
        let steps = w.store.checklist(id).unwrap();
        let step = steps.iter().find(|s| s.step.as_str() == step).unwrap();
        (
            step.state,
            step.changed_by.as_ref().map(ToString::to_string),
        )
    };
    w.role(id, Role::Commander, "ben", false, t0 + 1.minutes())
        .unwrap();
    // Alice named Ben: the tick is hers, as the action was.
    assert_eq!(
        state(&w, "name-commander"),
        (StepState::Done, Some("alice".into()))
    );
    assert_eq!(state(&w, "assemble-swarm").0, StepState::Todo);
    swarm::join(&mut w.store, &w.config, id, "chen", t0 + 2.minutes()).unwrap();
    assert_eq!(
        state(&w, "assemble-swarm"),
        (StepState::Done, Some("chen".into()))
    );
    let ticks: Vec<String> = w
        .store
        .incident(id)
        .unwrap()
        .timeline
        .iter()
        .filter(|e| e.detail.contains("ticked itself"))
        .map(|e| format!("{} {}", e.at, e.detail))
        .collect();
    assert_eq!(
        ticks,
        [
            format!(
                "{} Name an incident commander: done (ticked itself: ben is the commander)",
                t0 + 1.minutes()
            ),
            format!(
                "{} Assemble the swarm: done (ticked itself: 2 people in the swarm)",
                t0 + 2.minutes()
            ),
        ]
    );
}

#[test]
fn a_major_incident_stops_the_line_until_the_restart_step_or_resolve() {
    let mut w = World::new();
    let t0 = at(T0);
    assert_eq!(w.line("payments", t0).state.as_str(), "running");
    let first = w.open("checkout", t0);
    // Opened but not acknowledged: the line still runs.
    assert_eq!(
        w.line("payments", t0 + 1.minutes()).state.as_str(),
        "running"
    );
    w.act(
        first,
        Transition::Acknowledge,
        "alice",
        false,
        t0 + 2.minutes(),
    )
    .unwrap();
    let second = w.open("checkout", t0 + 3.minutes());
    w.act(
        second,
        Transition::Acknowledge,
        "ben",
        false,
        t0 + 4.minutes(),
    )
    .unwrap();
    let line = w.line("payments", t0 + 5.minutes());
    assert_eq!(line.state.as_str(), "stopped");
    assert_eq!(line.since, Some(t0 + 2.minutes()));
    assert_eq!(line.incidents, [first, second]);
    // The first restarts its line; the second still holds it.
    w.step(
        first,
        "restart-the-line",
        StepState::Done,
        None,
        t0 + 20.minutes(),
    )
    .unwrap();
    let line = w.line("payments", t0 + 21.minutes());
    assert_eq!(
        (line.state.as_str(), line.incidents.clone()),
        ("stopped", vec![second])
    );
    w.act(second, Transition::Resolve, "ben", true, t0 + 30.minutes())
        .unwrap();
    let line = w.line("payments", t0 + 40.minutes());
    assert_eq!(line.state.as_str(), "running");
    // Stopped from +2m to +30m: 28 minutes, counted once though two incidents overlapped.
    assert_eq!(line.stopped_seconds, 28 * 60);
    // A minor incident does not stop the line by default.
    let minor = w.open("refunds", t0 + 50.minutes());
    w.act(
        minor,
        Transition::Acknowledge,
        "ben",
        false,
        t0 + 51.minutes(),
    )
    .unwrap();
    assert_eq!(
        w.line("payments", t0 + 52.minutes()).state.as_str(),
        "running"
    );
    let unknown = swarm::line(&w.store, &w.config, "nobody", t0).unwrap_err();
    assert!(matches!(unknown, EngineError::UnknownTeam(_)));
    assert!(
        matches!(
            swarm::line(&w.store, &w.config, "desk", t0),
            Err(EngineError::UnknownTeam(_))
        ),
        "a service desk has no line"
    );
}

#[test]
fn with_stops_on_any_a_minor_incident_stops_the_line_too() {
    let mut w = World::with("\n[line]\nstops_on = \"any\"\n");
    let t0 = at(T0);
    let minor = w.open("refunds", t0);
    w.act(minor, Transition::Acknowledge, "ben", false, t0)
        .unwrap();
    assert_eq!(
        w.line("payments", t0 + 1.minutes()).state.as_str(),
        "stopped"
    );
}

#[test]
fn severity_comes_from_money_and_a_person_can_override_it_with_a_reason() {
    let mut w = World::new();
    let t0 = at(T0);
    // 99.9% at 600,000/h: major from its first minute.
    let checkout = w.open("checkout", t0);
    assert_eq!(
        w.store.incident(checkout).unwrap().incident.severity,
        Severity::Major
    );
    // 60,000/h over the default hour: minor, until its loss so far reaches 250,000 (4h 10m).
    let refunds = w.open("refunds", t0);
    assert_eq!(
        w.store.incident(refunds).unwrap().incident.severity,
        Severity::Minor
    );
    // 90,000/h expected to take 4 h: 360,000 projected, major at once.
    let ledger = w.open("ledger", t0);
    assert_eq!(
        w.store.incident(ledger).unwrap().incident.severity,
        Severity::Major
    );

    assert!(
        swarm::raise_severities(&mut w.store, &w.config, t0 + 4.hours() + 9.minutes())
            .unwrap()
            .is_empty()
    );
    let raised =
        swarm::raise_severities(&mut w.store, &w.config, t0 + 4.hours() + 10.minutes()).unwrap();
    assert_eq!(raised, [refunds]);
    let detail = w.store.incident(refunds).unwrap();
    assert_eq!(detail.incident.severity, Severity::Major);
    assert_eq!(
        detail.timeline.last().unwrap().detail,
        "severity minor → major: estimated loss GBP 250,000 after 4h 10m 0s"
    );

    // A person's override stands, with its reason; money no longer revises it.
    let refused = swarm::override_severity(
        &mut w.store,
        &w.config,
        refunds,
        swarm::SeverityRequest {
            severity: Severity::Minor,
            reason: " ",
            loss: None,
        },
        "alice",
        t0,
    )
    .unwrap_err();
    assert!(refused.is_usage());
    assert_eq!(
        w.store.incident(refunds).unwrap().incident.severity,
        Severity::Major,
        "unchanged"
    );
    swarm::override_severity(
        &mut w.store,
        &w.config,
        refunds,
        swarm::SeverityRequest {
            severity: Severity::Minor,
            reason: "only internal users",
            loss: Some(12_000),
        },
        "alice",
        t0 + 5.hours(),
    )
    .unwrap();
    assert!(
        swarm::raise_severities(&mut w.store, &w.config, t0 + 9.hours())
            .unwrap()
            .is_empty()
    );
    let detail = w.store.incident(refunds).unwrap();
    assert_eq!(detail.incident.severity, Severity::Minor);
    assert_eq!(
        detail.timeline.last().unwrap().detail,
        "severity major → minor: only internal users; estimated loss 12,000"
    );
    assert_eq!(
        detail
            .timeline
            .last()
            .unwrap()
            .who
            .as_ref()
            .unwrap()
            .as_str(),
        "alice"
    );
}

#[test]
fn the_service_desk_opens_by_journey_and_the_owning_team_is_paged() {
    let mut w = World::new();
    let t0 = at(T0);
    let incident = desk::open_incident(
        &mut w.store,
        &w.config,
        &OpenTarget::Journey("Customers can't pay".into()),
        "Customers can't pay",
        "desk1",
        t0,
        desk::Numbering::Own,
    )
    .unwrap();
    assert_eq!(incident.application.as_ref().unwrap().as_str(), "checkout");
    assert_eq!(incident.team.as_ref().unwrap().as_str(), "payments");
    assert_eq!(
        w.store.checklist(incident.id).unwrap().len(),
        11,
        "the swarm starts at once"
    );
    let pass = escalation::escalate(
        &mut w.store,
        &w.config,
        t0,
        escalation::Contacts::On { here: None },
    )
    .unwrap();
    assert_eq!(pass.pages, 1);
    let page = &w.store.pages(incident.id).unwrap()[0];
    assert_eq!(page.reason, "primary on payments-oncall");
}

#[test]
fn the_review_tells_the_whole_story() {
    let mut w = World::new();
    let t0 = at(T0);
    let id = w.open("checkout", t0);
    w.act(id, Transition::Acknowledge, "ben", false, t0 + 4.minutes())
        .unwrap();
    w.role(id, Role::Commander, "ben", false, t0 + 5.minutes())
        .unwrap();
    w.step(id, "restore", StepState::Done, None, t0 + 40.minutes())
        .unwrap();
    w.step(
        id,
        "restart-the-line",
        StepState::Done,
        None,
        t0 + 45.minutes(),
    )
    .unwrap();
    w.act(id, Transition::Resolve, "ben", true, t0 + 1.hours())
        .unwrap();
    let text = review::review(&w.store, &w.config, id, t0 + 2.hours())
        .unwrap()
        .markdown();
    for part in [
        "# Post-incident review: INC-1 checkout is down",
        "| Time to acknowledge | 4m 0s |",
        "| Time to restore | 1h 0m 0s |",
        "| Line stopped | 41m 0s |",
        "| Estimated financial loss | GBP 600,000 (GBP 600,000/h × 1h 0m 0s) |",
        "| Restore availability | done | yes |  | alice | 2026-11-27 10:40 GMT |",
        "| incident commander | ben | 2026-11-27 10:05 GMT | the end |",
        "## Timeline",
    ] {
        assert!(text.contains(part), "missing {part:?} in\n{text}");
    }
}
