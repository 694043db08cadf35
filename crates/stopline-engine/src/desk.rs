//! What people do to incidents by hand: the service desk opens one through the application
//! mapping; responders acknowledge, resolve and add notes. Every action names a person from the
//! config, and a rejected action changes nothing.

use jiff::Timestamp;
use stopline_core::config::Config;
use stopline_core::incident::{Incident, IncidentId, Transition};
use stopline_core::timeline::TimelineEvent;
use stopline_store::{Act, NewIncident, Store};

use crate::lookup::person;
use crate::{EngineError, Result};

pub use stopline_core::desk::OpenTarget;

/// Which ids an incident opened by hand takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Numbering {
    /// The store's own: a standalone desktop.
    Own,
    /// A provisional copy's, above any id a hub gives: a joined desktop, until the hub's
    /// incident takes its place.
    Provisional,
}

/// Opens an incident for the application the target names, owned by that application's team,
/// with a severity estimated from the application's financial exposure.
pub fn open_incident(
    store: &mut Store,
    config: &Config,
    target: &OpenTarget,
    title: &str,
    opened_by: &str,
    now: Timestamp,
    numbering: Numbering,
) -> Result<Incident> {
    let opened_by = person(config, opened_by)?;
    let title = title.trim();
    if title.is_empty() {
        return Err(EngineError::EmptyTitle);
    }
    let application = stopline_core::desk::resolve_target(config, target)?;
    let severity = config.initial_severity(application);
    // A person has seen the problem: the swarm's checklist starts with the incident.
    let checklist = config.checklist_for(Some(&application.team), Some(&application.id));
    let new = NewIncident {
        application: Some(application.id.clone()),
        team: Some(application.team.clone()),
        title: title.to_owned(),
        severity,
        opened_by: Some(opened_by),
    };
    Ok(match numbering {
        Numbering::Own => store.open_incident_with_checklist(new, &checklist, now)?,
        Numbering::Provisional => store.open_provisional_incident(new, &checklist, now)?,
    })
}

/// Acknowledges or resolves an incident as a person from the config. Acknowledging starts the
/// swarm's checklist; resolving is refused while required steps are open, unless `force`, which
/// records the override.
pub fn transition(
    store: &mut Store,
    config: &Config,
    id: IncidentId,
    transition: Transition,
    who: &str,
    force: bool,
    now: Timestamp,
) -> Result<Incident> {
    let who = person(config, who)?;
    let incident = store.incident_record(id)?;
    let checklist = config.checklist_for(incident.team.as_ref(), incident.application.as_ref());
    Ok(store.act(id, transition, &who, now, &Act { checklist, force })?)
}

/// Adds a customer's report to an open incident as a note (see
/// `stopline_core::desk::customer_report_note`): what the service desk does instead of opening
/// a second incident for an application that already has one.
pub fn add_customer_report(
    store: &mut Store,
    config: &Config,
    id: IncidentId,
    words: &str,
    reference: Option<&str>,
    who: &str,
    now: Timestamp,
) -> Result<TimelineEvent> {
    let note = stopline_core::desk::customer_report_note(words, reference)?;
    if store.incident_record(id)?.state == stopline_core::incident::IncidentState::Resolved {
        return Err(EngineError::ReportToResolved(id));
    }
    add_note(store, config, id, &note, who, now)
}

/// Adds a note to an incident's timeline as a person from the config.
pub fn add_note(
    store: &mut Store,
    config: &Config,
    id: IncidentId,
    text: &str,
    who: &str,
    now: Timestamp,
) -> Result<TimelineEvent> {
    let who = person(config, who)?;
    let text = text.trim();
    if text.is_empty() {
        return Err(EngineError::EmptyNote);
    }
    Ok(store.add_note(id, &who, text, now)?)
}
