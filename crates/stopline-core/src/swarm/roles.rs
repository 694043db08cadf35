//! The incident roles: exactly one commander at a time, at most one communications lead and one
//! scribe, any number of responders; and the rules for naming, handing over, joining and leaving.

use std::fmt;

use jiff::Timestamp;
use serde::Serialize;

use super::SwarmError;
use crate::ids::PersonId;
use crate::incident::IncidentId;
use crate::timeline::{TimelineEvent, TimelineKind};

/// The incident roles. Exactly one commander at a time; one communications lead and one scribe
/// at most; any number of responders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Commander,
    Comms,
    Scribe,
    Responder,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Commander => "commander",
            Role::Comms => "comms",
            Role::Scribe => "scribe",
            Role::Responder => "responder",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "commander" => Some(Role::Commander),
            "comms" => Some(Role::Comms),
            "scribe" => Some(Role::Scribe),
            "responder" => Some(Role::Responder),
            _ => None,
        }
    }

    /// What people call it.
    pub fn title(self) -> &'static str {
        match self {
            Role::Commander => "incident commander",
            Role::Comms => "communications lead",
            Role::Scribe => "scribe",
            Role::Responder => "responder",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A person in a role, from `since` until `until` (`None`: still).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleHolding {
    pub role: Role,
    pub person: PersonId,
    pub since: Timestamp,
    pub until: Option<Timestamp>,
    pub named_by: Option<PersonId>,
}

/// What naming someone to a lead role comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleChange {
    /// The holding that ends now (a handover), if any.
    pub ends: Option<PersonId>,
    /// The holding that starts now.
    pub starts: RoleHolding,
    pub event: TimelineEvent,
}

/// Names `person` to a lead role (commander, communications lead, scribe) held by `holder` now.
/// Refused when they hold it already, and while someone else holds it unless `handover`, which
/// is recorded as one.
pub fn name(
    id: IncidentId,
    role: Role,
    holder: Option<&PersonId>,
    person: &PersonId,
    handover: bool,
    who: &PersonId,
    now: Timestamp,
) -> Result<RoleChange, SwarmError> {
    let detail = match holder {
        Some(holder) if holder == person => {
            return Err(SwarmError::AlreadyInRole {
                id,
                role,
                person: person.to_string(),
            });
        }
        Some(holder) if !handover => {
            return Err(SwarmError::RoleTaken {
                id,
                role,
                holder: holder.to_string(),
            });
        }
        Some(holder) => format!("{}: handed over from {holder} to {person}", role.title()),
        None => format!("{}: {person}", role.title()),
    };
    Ok(RoleChange {
        ends: holder.cloned(),
        starts: RoleHolding {
            role,
            person: person.clone(),
            since: now,
            until: None,
            named_by: Some(who.clone()),
        },
        event: role_event(now, who, detail),
    })
}

/// Names `person` to a lead role as someone who saw `replaces` holding it (`None`: nobody),
/// the rule when changes arrive late from several desktops: the naming applies only while the
/// role is still held as they saw it, so of two people who each tried to take an empty command,
/// the first to arrive wins and the other is told who holds it. A handover names the holder it
/// replaces.
pub fn name_replacing(
    id: IncidentId,
    role: Role,
    holder: Option<&PersonId>,
    person: &PersonId,
    replaces: Option<&PersonId>,
    who: &PersonId,
    now: Timestamp,
) -> Result<RoleChange, SwarmError> {
    if holder == Some(person) {
        return Err(SwarmError::AlreadyInRole {
            id,
            role,
            person: person.to_string(),
        });
    }
    if holder != replaces {
        return Err(SwarmError::HolderChanged {
            id,
            role,
            holder: holder.map(ToString::to_string),
            expected: replaces.map(ToString::to_string),
        });
    }
    name(id, role, holder, person, holder.is_some(), who, now)
}

/// `person` joins the swarm as a responder; refused when they are in it already.
pub fn join(
    id: IncidentId,
    already_responding: bool,
    person: &PersonId,
    now: Timestamp,
) -> Result<TimelineEvent, SwarmError> {
    if already_responding {
        return Err(SwarmError::AlreadyInRole {
            id,
            role: Role::Responder,
            person: person.to_string(),
        });
    }
    Ok(role_event(
        now,
        person,
        format!("{person} joined the swarm"),
    ))
}

/// `person` leaves the swarm; refused when they are not in it.
pub fn leave(
    id: IncidentId,
    responding: bool,
    person: &PersonId,
    now: Timestamp,
) -> Result<TimelineEvent, SwarmError> {
    if !responding {
        return Err(SwarmError::NotInSwarm {
            id,
            person: person.to_string(),
        });
    }
    Ok(role_event(now, person, format!("{person} left the swarm")))
}

fn role_event(at: Timestamp, who: &PersonId, detail: String) -> TimelineEvent {
    TimelineEvent {
        at,
        who: Some(who.clone()),
        kind: TimelineKind::Role,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(id: &str) -> PersonId {
        PersonId::new(id).unwrap()
    }

    #[test]
    fn one_commander_at_a_time_and_a_handover_is_recorded() {
        let now: Timestamp = "2026-11-27T10:00:00Z".parse().unwrap();
        let id = IncidentId(4);
        let named = name(id, Role::Commander, None, &p("ben"), false, &p("ben"), now).unwrap();
        assert_eq!(named.event.detail, "incident commander: ben");
        assert_eq!(named.ends, None);
        let taken = name(
            id,
            Role::Commander,
            Some(&p("ben")),
            &p("aisha"),
            false,
            &p("aisha"),
            now,
        );
        assert!(matches!(taken, Err(SwarmError::RoleTaken { .. })));
        let again = name(
            id,
            Role::Commander,
            Some(&p("ben")),
            &p("ben"),
            true,
            &p("ben"),
            now,
        );
        assert!(matches!(again, Err(SwarmError::AlreadyInRole { .. })));
        let handed = name(
            id,
            Role::Commander,
            Some(&p("ben")),
            &p("aisha"),
            true,
            &p("ben"),
            now,
        )
        .unwrap();
        assert_eq!(handed.ends, Some(p("ben")));
        assert_eq!(
            handed.event.detail,
            "incident commander: handed over from ben to aisha"
        );
    }

    #[test]
    fn a_naming_applies_only_while_the_role_is_held_as_it_was_seen() {
        let now: Timestamp = "2026-11-27T10:00:00Z".parse().unwrap();
        let id = IncidentId(4);
        let (ben, aisha, chen) = (p("ben"), p("aisha"), p("chen"));
        // Ben took the empty command first; Aisha, who also saw it empty, is told who has it.
        let late = name_replacing(id, Role::Commander, Some(&ben), &aisha, None, &aisha, now);
        assert_eq!(
            late.unwrap_err().to_string(),
            "incident commander of INC-4 is ben now, not nobody as when this was asked; nothing changed"
        );
        // A handover naming the holder it replaces applies, recorded as one.
        let handed = name_replacing(
            id,
            Role::Commander,
            Some(&ben),
            &aisha,
            Some(&ben),
            &ben,
            now,
        )
        .unwrap();
        assert_eq!(handed.ends, Some(ben.clone()));
        // A handover replacing someone who has already handed over is refused.
        let stale = name_replacing(
            id,
            Role::Commander,
            Some(&aisha),
            &chen,
            Some(&ben),
            &chen,
            now,
        );
        assert!(matches!(stale, Err(SwarmError::HolderChanged { .. })));
        let empty = name_replacing(id, Role::Scribe, None, &chen, None, &chen, now).unwrap();
        assert_eq!(empty.ends, None);
        assert!(matches!(
            name_replacing(
                id,
                Role::Scribe,
                Some(&chen),
                &chen,
                Some(&chen),
                &chen,
                now
            ),
            Err(SwarmError::AlreadyInRole { .. })
        ));
    }

    #[test]
    fn joining_twice_and_leaving_without_joining_are_refused() {
        let now: Timestamp = "2026-11-27T10:00:00Z".parse().unwrap();
        assert!(join(IncidentId(1), false, &p("ben"), now).is_ok());
        assert!(matches!(
            join(IncidentId(1), true, &p("ben"), now),
            Err(SwarmError::AlreadyInRole { .. })
        ));
        assert!(matches!(
            leave(IncidentId(1), false, &p("ben"), now),
            Err(SwarmError::NotInSwarm { .. })
        ));
    }
}
