//! Incidents from the command line: `route`, `open`, `incidents`, `incident show`, `ack`,
//! `resolve`, `note` and `alerts`.

use stopline_core::escalation::EscalationStatus;
use stopline_core::incident::{Incident, IncidentId, IncidentState};
use stopline_engine::api::{Actor, OpenTarget, parse_labels};
use stopline_store::{ActionStatus, IncidentFilter};

use crate::args::{OpenArgs, RouteArgs, StateFilter};
use crate::context::Context;
use crate::failure::Result;
use crate::output::{
    AlertJson, ContactMessageJson, EscalationJson, HubActionJson, IncidentDetailJson, IncidentJson,
    NamedJson, PageJson, RoleJson, RouteJson, SilenceJson, StepJson, TimelineEventJson, age, emit,
    local_time, print_json, print_table,
};

pub fn route(cx: &Context, args: RouteArgs) -> Result {
    let view = match (&args.labels, &args.journey) {
        (Some(labels), _) => cx.ws.route_labels(&parse_labels("--labels", labels)?)?,
        (None, Some(journey)) => cx.ws.route_journey(journey)?,
        (None, None) => unreachable!("clap requires --labels or --journey"),
    };
    if cx.json {
        print_json(&RouteJson {
            route: if view.application.is_some() {
                "routed"
            } else {
                "unrouted"
            },
            application: view.application.as_ref().map(|a| NamedJson {
                id: a.id.to_string(),
                name: a.name.clone(),
            }),
            team: view
                .application
                .as_ref()
                .zip(view.team_name.as_ref())
                .map(|(a, name)| NamedJson {
                    id: a.team.to_string(),
                    name: name.clone(),
                }),
        });
        return Ok(());
    }
    match (&view.application, &view.team_name) {
        (Some(app), Some(team)) => out!("{} ({}) → team {} ({})", app.id, app.name, app.team, team),
        _ => out!("unrouted: no application matches; it goes to the service desk's unrouted queue"),
    }
    Ok(())
}

pub fn open(cx: &Context, args: OpenArgs) -> Result {
    let target = match (args.target.app, args.target.journey, args.target.labels) {
        (Some(app), _, _) => OpenTarget::Application(app),
        (None, Some(journey), _) => OpenTarget::Journey(journey),
        (None, None, Some(labels)) => OpenTarget::Labels(parse_labels("--labels", &labels)?),
        (None, None, None) => unreachable!("clap requires one of --app, --journey, --labels"),
    };
    let incident = cx
        .ws
        .open_incident(&target, &args.title, &Actor::Named(args.who.clone()))?;
    if cx.json {
        print_json(&IncidentJson::from(&incident));
    } else {
        let app = incident.application.as_ref().map_or("-", |a| a.as_str());
        let team = incident.team.as_ref().map_or("-", |t| t.as_str());
        out!(
            "Opened {} ({}) for {app}, team {team}: {}",
            incident.id,
            incident.severity.as_str(),
            incident.title
        );
        say_if_provisional(incident.id, "opens it");
        // The same problem reported twice is the common case: say where a report could have gone.
        let already: Vec<String> = cx
            .ws
            .incidents(IncidentFilter::Open)?
            .into_iter()
            .filter(|s| {
                s.incident.id != incident.id && s.incident.application == incident.application
            })
            .map(|s| s.incident.id.to_string())
            .collect();
        if let Some(first) = already.first() {
            out!(
                "{app} already had {} open: a customer's report about the same problem goes there \
                 instead (stopline note {first} \"their words\" --customer --as {}).",
                already.join(", "),
                args.who
            );
        }
    }
    Ok(())
}

/// Says, for an incident this joined desktop numbered itself (a provisional copy), that its
/// number holds until the hub `does` what was asked and gives it the organisation's.
pub fn say_if_provisional(id: IncidentId, does: &str) {
    if id.0 > stopline_store::PROVISIONAL_BASE.unsigned_abs() {
        out!(
            "{id} is this desktop's number for it until the hub {does} for everyone and gives it the organisation's (stopline status shows what waits)."
        );
    }
}

pub fn list(cx: &Context, state: StateFilter) -> Result {
    let filter = match state {
        StateFilter::Open => IncidentFilter::Open,
        StateFilter::Triggered => IncidentFilter::State(IncidentState::Triggered),
        StateFilter::Acknowledged => IncidentFilter::State(IncidentState::Acknowledged),
        StateFilter::Resolved => IncidentFilter::State(IncidentState::Resolved),
        StateFilter::All => IncidentFilter::All,
    };
    let list = cx.ws.incidents(filter)?;
    if cx.json {
        let list: Vec<IncidentJson> = list
            .iter()
            .map(|s| IncidentJson::from(&s.incident))
            .collect();
        print_json(&list);
        return Ok(());
    }
    if list.is_empty() {
        out!("No incidents.");
        return Ok(());
    }
    let now = cx.ws.now();
    let zone = cx.display_zone();
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|summary| {
            let i = &summary.incident;
            // Where paging stands, for incidents still paging: a deferred one waits visibly.
            let paging = match &summary.paging {
                Some(e) if e.status == EscalationStatus::Deferred => {
                    format!("deferred to {}", local_time(e.due_at, &zone))
                }
                Some(e) if e.status == EscalationStatus::Due => {
                    format!("next {}", local_time(e.due_at, &zone))
                }
                Some(e) if e.status == EscalationStatus::Exhausted => "exhausted".to_owned(),
                _ => "-".to_owned(),
            };
            vec![
                i.id.to_string(),
                i.state.as_str().to_owned(),
                i.severity.as_str().to_owned(),
                i.team.as_ref().map_or("-".into(), ToString::to_string),
                i.application
                    .as_ref()
                    .map_or("-".into(), ToString::to_string),
                local_time(i.opened_at, &zone),
                age(i.opened_at, now),
                paging,
                i.title.clone(),
            ]
        })
        .collect();
    print_table(
        &[
            "ID", "STATE", "SEVERITY", "TEAM", "APP", "OPENED", "AGE", "PAGING", "TITLE",
        ],
        &rows,
    );
    Ok(())
}

pub fn show(cx: &Context, id: IncidentId) -> Result {
    let view = cx.ws.incident(id)?;
    if cx.json {
        print_json(&IncidentDetailJson {
            incident: IncidentJson::from(view.incident()),
            timeline: view.timeline.iter().map(TimelineEventJson::from).collect(),
            escalation: view.summary.paging.as_ref().map(EscalationJson::from),
            pages: view.pages.iter().map(PageJson::from).collect(),
            checklist: view.checklist.iter().map(StepJson::from).collect(),
            roles: view.roles.iter().map(RoleJson::from).collect(),
            severity_reason: view.severity_reason.clone(),
            silences: view.silences.iter().map(SilenceJson::from).collect(),
            outbox_waiting: view.outbox_waiting,
            contacts: view
                .contact_messages
                .iter()
                .map(ContactMessageJson::from)
                .collect(),
            hub_actions: view.hub_actions.iter().map(HubActionJson::from).collect(),
            situation: view.situation.clone(),
        });
        return Ok(());
    }
    let zone = cx.display_zone();
    let i = view.incident();
    out!("{}  {}", i.id, i.title);
    out!(
        "state {}  severity {}  team {}  application {}",
        i.state.as_str(),
        i.severity.as_str(),
        i.team.as_ref().map_or("-", |t| t.as_str()),
        i.application.as_ref().map_or("-", |a| a.as_str()),
    );
    if let Some(e) = &view.summary.paging {
        let when = match e.status {
            EscalationStatus::Due | EscalationStatus::Deferred => {
                format!(", next page {}", local_time(e.due_at, &zone))
            }
            EscalationStatus::Stopped | EscalationStatus::Exhausted => String::new(),
        };
        let note = if e.note.is_empty() {
            String::new()
        } else {
            format!(" ({})", e.note)
        };
        out!("paging {}{when}{note}", e.status.as_str());
    }
    let checklist = &view.checklist;
    if !checklist.is_empty() {
        let closed = checklist.iter().filter(|s| s.state.is_closed()).count();
        let open_required = stopline_core::swarm::open_required(checklist);
        out!(
            "checklist {closed}/{} done or skipped{}",
            checklist.len(),
            if open_required.is_empty() {
                String::new()
            } else {
                format!("; required still open: {}", open_required.join(", "))
            }
        );
    }
    emit("");
    let rows: Vec<Vec<String>> = view
        .timeline
        .iter()
        .map(|e| {
            vec![
                local_time(e.at, &zone),
                e.who
                    .as_ref()
                    .map_or("stopline".into(), ToString::to_string),
                e.kind.as_str().to_owned(),
                e.detail.clone(),
            ]
        })
        .collect();
    print_table(&["WHEN", "WHO", "WHAT", "DETAIL"], &rows);
    if !view.contact_messages.is_empty() {
        emit("");
        out!("Beyond the desk:");
        for m in &view.contact_messages {
            let when = m.finished_at.unwrap_or(m.hold_until);
            let what = match (&m.outcome, &m.last_error) {
                (Some(outcome), _) => format!(": {outcome}"),
                (None, Some(error)) => format!(" (try {} failed: {error})", m.attempts),
                (None, None) => String::new(),
            };
            out!(
                "  {}  {} {} ({})  {}{what}",
                local_time(when, &zone),
                m.channel,
                m.person,
                m.address,
                m.status.as_str().replace('_', " "),
            );
        }
    }
    let unsettled: Vec<_> = view
        .hub_actions
        .iter()
        .filter(|a| a.status != ActionStatus::Applied)
        .collect();
    if !unsettled.is_empty() {
        emit("");
        out!("Your actions and the hub:");
        for action in unsettled {
            out!(
                "  {}  {}  {}{}",
                local_time(action.at, &zone),
                action.name.replace('_', " "),
                match action.status {
                    ActionStatus::Pending => "pending: waits for the hub",
                    ActionStatus::Refused => "refused",
                    ActionStatus::Applied => "applied",
                },
                action
                    .reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            );
        }
    }
    Ok(())
}

pub fn acknowledge(cx: &Context, id: IncidentId, who: &Actor) -> Result {
    changed(cx, &cx.ws.acknowledge(id, who)?);
    Ok(())
}

pub fn resolve(cx: &Context, id: IncidentId, who: &Actor, force: bool) -> Result {
    changed(cx, &cx.ws.resolve(id, who, force)?);
    Ok(())
}

fn changed(cx: &Context, incident: &Incident) {
    if cx.json {
        print_json(&IncidentJson::from(incident));
    } else {
        let pending = match cx.ws.hub_link() {
            Ok(Some(link)) => format!(
                " (saved here; pending until the hub at {} confirms)",
                link.url
            ),
            _ => String::new(),
        };
        out!(
            "{} is {}: {}{pending}",
            incident.id,
            incident.state.as_str(),
            incident.title
        );
    }
}

/// A note, or with `customer` (`Some(reference)`) a customer's report.
pub fn note(
    cx: &Context,
    id: IncidentId,
    text: &str,
    customer: Option<Option<&str>>,
    who: &Actor,
) -> Result {
    let event = match customer {
        Some(reference) => cx.ws.add_customer_report(id, text, reference, who)?,
        None => cx.ws.note(id, text, who)?,
    };
    if cx.json {
        print_json(&TimelineEventJson::from(&event));
    } else if customer.is_some() {
        out!("Customer report added to {id}.");
    } else {
        out!("Noted on {id}.");
    }
    Ok(())
}

pub fn alerts(cx: &Context) -> Result {
    let alerts = cx.ws.alerts()?;
    if cx.json {
        let list: Vec<AlertJson<'_>> = alerts.iter().map(AlertJson::from).collect();
        print_json(&list);
        return Ok(());
    }
    if alerts.is_empty() {
        out!("No alerts yet. Alert sources arrive with `stopline serve`.");
        return Ok(());
    }
    let zone = cx.display_zone();
    let rows: Vec<Vec<String>> = alerts
        .iter()
        .map(|stored| {
            let a = &stored.alert;
            let name = a.labels.get("alertname").cloned().unwrap_or_default();
            let state = if a.muted {
                format!("{} (muted)", a.state.as_str())
            } else {
                a.state.as_str().to_owned()
            };
            vec![
                a.source.clone(),
                a.fingerprint.to_string(),
                state,
                name,
                stored
                    .application
                    .as_ref()
                    .map_or("unrouted".into(), ToString::to_string),
                stored.incident.map_or("-".into(), |i| i.to_string()),
                local_time(a.last_seen, &zone),
            ]
        })
        .collect();
    print_table(
        &[
            "SOURCE",
            "FINGERPRINT",
            "STATE",
            "ALERT",
            "APP",
            "INCIDENT",
            "LAST SEEN",
        ],
        &rows,
    );
    Ok(())
}
