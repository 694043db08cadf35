//! What a desktop asks of the organisation's shared incident state on the hub: a **push** of
//! mutations, each a named change a person made on their desktop, perhaps long before it
//! arrives (docs/hub-protocol.md). This module reads a push, naming the JSON path of the first
//! problem, into [`Change`]s the hub decides with the same rules a desktop applies; the rules
//! for changes that arrive late (a step changed by compare-and-set, a role held as it was seen,
//! an acknowledgement after another) are `swarm`'s and `incident`'s.

use jiff::Timestamp;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::ids::PersonId;
use crate::incident::{IncidentId, Severity};
use crate::payload::{PayloadError, parse};
use crate::swarm::{Role, StepState};

/// The most mutations one push carries; a desktop with more sends several pushes.
pub const MAX_MUTATIONS: usize = 1_000;
/// The longest note, in characters.
pub const MAX_NOTE_CHARS: usize = 20_000;
/// The longest reason (for a skipped step or a severity), in characters.
pub const MAX_REASON_CHARS: usize = 2_000;
/// The longest desktop or note id, in characters.
pub const MAX_ID_CHARS: usize = 64;
/// The longest title of an incident opened by hand, in characters.
pub const MAX_TITLE_CHARS: usize = 500;

/// The mutation names, as a push spells them.
pub const NAMES: [&str; 12] = [
    "acknowledge",
    "resolve",
    "note",
    "change_step",
    "name_role",
    "join",
    "leave",
    "set_severity",
    "page_shown",
    "add_override",
    "open_incident",
    "assign_alert",
];

/// One push from one desktop.
#[derive(Debug, Clone, PartialEq)]
pub struct Push {
    pub desktop_id: String,
    /// Who the desktop says it acts as; when given, it must be the token's person.
    pub person: Option<PersonId>,
    pub mutations: Vec<Mutation>,
}

/// One change a person made, numbered by their desktop: ids only increase, so the hub applies
/// each once however often it is pushed.
#[derive(Debug, Clone, PartialEq)]
pub struct Mutation {
    pub id: u64,
    /// When the person made it, by their desktop's clock.
    pub at: Timestamp,
    pub change: Change,
}

/// What a mutation asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Acknowledge {
        incident: IncidentId,
    },
    Resolve {
        incident: IncidentId,
        force: bool,
    },
    /// A note, appended once under the id the desktop made for it.
    Note {
        incident: IncidentId,
        note_id: String,
        text: String,
    },
    /// A checklist step changed as the person saw it (`from`).
    ChangeStep {
        incident: IncidentId,
        step: String,
        from: StepState,
        state: Option<StepState>,
        reason: Option<String>,
        assignee: Option<PersonId>,
    },
    /// Someone named to a lead role, replacing the holder the person saw (`None`: nobody).
    NameRole {
        incident: IncidentId,
        role: Role,
        person: PersonId,
        replaces: Option<PersonId>,
    },
    Join {
        incident: IncidentId,
    },
    Leave {
        incident: IncidentId,
    },
    SetSeverity {
        incident: IncidentId,
        severity: Severity,
        reason: String,
        loss: Option<u64>,
    },
    /// The desktop showed the person page `page`: the receipt.
    PageShown {
        page: u64,
    },
    /// Someone covers a layer of a rota for a while (checked by `cover::check_override`).
    AddOverride {
        rota: String,
        /// `None`: the rota's first layer.
        layer: Option<String>,
        person: String,
        from: String,
        to: String,
    },
    /// The service desk (or anyone) opens an incident by hand for an application, which its
    /// team's rota is paged for; the swarm's checklist starts with it.
    OpenIncident {
        application: String,
        title: String,
    },
    /// The service desk routes an alert that matched no application to one by hand: a firing
    /// alert opens (or joins) an incident for the application's team, as if it had arrived
    /// routed.
    AssignAlert {
        source: String,
        fingerprint: String,
        application: String,
    },
}

impl Change {
    /// The mutation's name.
    pub fn name(&self) -> &'static str {
        match self {
            Change::Acknowledge { .. } => "acknowledge",
            Change::Resolve { .. } => "resolve",
            Change::Note { .. } => "note",
            Change::ChangeStep { .. } => "change_step",
            Change::NameRole { .. } => "name_role",
            Change::Join { .. } => "join",
            Change::Leave { .. } => "leave",
            Change::SetSeverity { .. } => "set_severity",
            Change::PageShown { .. } => "page_shown",
            Change::AddOverride { .. } => "add_override",
            Change::OpenIncident { .. } => "open_incident",
            Change::AssignAlert { .. } => "assign_alert",
        }
    }

    /// The incident it changes; `None` for a page receipt.
    pub fn incident(&self) -> Option<IncidentId> {
        match self {
            Change::Acknowledge { incident }
            | Change::Resolve { incident, .. }
            | Change::Note { incident, .. }
            | Change::ChangeStep { incident, .. }
            | Change::NameRole { incident, .. }
            | Change::Join { incident }
            | Change::Leave { incident }
            | Change::SetSeverity { incident, .. } => Some(*incident),
            Change::PageShown { .. }
            | Change::AddOverride { .. }
            | Change::OpenIncident { .. }
            | Change::AssignAlert { .. } => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPush {
    desktop_id: String,
    #[serde(default)]
    person: Option<PersonId>,
    mutations: Vec<RawMutation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMutation {
    id: u64,
    name: String,
    #[serde(default)]
    args: serde_json::Value,
    at: Timestamp,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IncidentArgs {
    incident: IncidentId,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResolveArgs {
    incident: IncidentId,
    #[serde(default)]
    force: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteArgs {
    incident: IncidentId,
    note_id: String,
    text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepArgs {
    incident: IncidentId,
    step: String,
    from: String,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    assignee: Option<PersonId>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleArgs {
    incident: IncidentId,
    role: String,
    person: PersonId,
    #[serde(default)]
    replaces: Option<PersonId>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeverityArgs {
    incident: IncidentId,
    severity: Severity,
    reason: String,
    #[serde(default)]
    loss: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PageArgs {
    page: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OverrideArgs {
    rota: String,
    #[serde(default)]
    layer: Option<String>,
    person: String,
    from: String,
    to: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenArgs {
    application: String,
    title: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignArgs {
    source: String,
    fingerprint: String,
    application: String,
}

/// Reads a push: the whole of it, or the first problem with its JSON path. Mutation ids must
/// increase within a push; names and arguments must be ones the hub knows.
pub fn parse_push(body: &[u8]) -> Result<Push, PayloadError> {
    let raw: RawPush = parse(body)?;
    check_id(&raw.desktop_id, "desktop_id")?;
    if raw.mutations.len() > MAX_MUTATIONS {
        return Err(PayloadError::at(
            "mutations",
            format!(
                "{} mutations in one push; at most {MAX_MUTATIONS}: send the rest in the next",
                raw.mutations.len()
            ),
        ));
    }
    let mut mutations = Vec::with_capacity(raw.mutations.len());
    let mut previous = 0;
    for (i, mutation) in raw.mutations.into_iter().enumerate() {
        let path = format!("mutations[{i}]");
        if mutation.id <= previous {
            return Err(PayloadError::at(
                format!("{path}.id"),
                format!(
                    "mutation ids must increase within a push: {} follows {previous}",
                    mutation.id
                ),
            ));
        }
        previous = mutation.id;
        mutations.push(Mutation {
            id: mutation.id,
            at: mutation.at,
            change: change(&mutation.name, mutation.args, &path)?,
        });
    }
    Ok(Push {
        desktop_id: raw.desktop_id,
        person: raw.person,
        mutations,
    })
}

/// A desktop's or a note's id: 1 to 64 of letters, digits, `-`, `_`, `.`, `:`.
fn check_id(id: &str, path: &str) -> Result<(), PayloadError> {
    let fine = !id.is_empty()
        && id.chars().count() <= MAX_ID_CHARS
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    if fine {
        Ok(())
    } else {
        Err(PayloadError::at(
            path,
            format!(
                "an id is 1 to {MAX_ID_CHARS} letters, digits, '-', '_', '.' or ':', such as a UUID"
            ),
        ))
    }
}

fn text(value: &str, max: usize, path: &str) -> Result<String, PayloadError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(PayloadError::at(path, "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(PayloadError::at(
            path,
            format!("longer than {max} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

fn args<T: DeserializeOwned>(value: serde_json::Value, path: &str) -> Result<T, PayloadError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner = e.path().to_string();
        let at = if inner == "." || inner.is_empty() {
            path.to_owned()
        } else {
            format!("{path}.{}", inner.trim_end_matches(".?"))
        };
        PayloadError::at(at, e.into_inner().to_string())
    })
}

fn step_state(text: &str, path: &str) -> Result<StepState, PayloadError> {
    StepState::parse(text).ok_or_else(|| {
        PayloadError::at(
            path,
            format!("unknown step state {text:?}: one of todo, doing, done, skipped"),
        )
    })
}

fn change(name: &str, value: serde_json::Value, path: &str) -> Result<Change, PayloadError> {
    let at = format!("{path}.args");
    let field = |name: &str| format!("{at}.{name}");
    Ok(match name {
        "acknowledge" => {
            let a: IncidentArgs = args(value, &at)?;
            Change::Acknowledge {
                incident: a.incident,
            }
        }
        "resolve" => {
            let a: ResolveArgs = args(value, &at)?;
            Change::Resolve {
                incident: a.incident,
                force: a.force,
            }
        }
        "note" => {
            let a: NoteArgs = args(value, &at)?;
            check_id(&a.note_id, &field("note_id"))?;
            Change::Note {
                incident: a.incident,
                note_id: a.note_id,
                text: text(&a.text, MAX_NOTE_CHARS, &field("text"))?,
            }
        }
        "change_step" => {
            let a: StepArgs = args(value, &at)?;
            if a.state.is_none() && a.assignee.is_none() {
                return Err(PayloadError::at(
                    at,
                    "nothing to change: give a state (todo, doing, done, skipped) or an assignee",
                ));
            }
            Change::ChangeStep {
                incident: a.incident,
                from: step_state(&a.from, &field("from"))?,
                state: a
                    .state
                    .map(|s| step_state(&s, &field("state")))
                    .transpose()?,
                reason: a
                    .reason
                    .map(|r| text(&r, MAX_REASON_CHARS, &field("reason")))
                    .transpose()?,
                step: a.step,
                assignee: a.assignee,
            }
        }
        "name_role" => {
            let a: RoleArgs = args(value, &at)?;
            let role = match Role::parse(&a.role) {
                Some(Role::Responder) | None => {
                    return Err(PayloadError::at(
                        field("role"),
                        format!(
                            "unknown lead role {:?}: one of commander, comms, scribe (a responder joins)",
                            a.role
                        ),
                    ));
                }
                Some(role) => role,
            };
            Change::NameRole {
                incident: a.incident,
                role,
                person: a.person,
                replaces: a.replaces,
            }
        }
        "join" => Change::Join {
            incident: args::<IncidentArgs>(value, &at)?.incident,
        },
        "leave" => Change::Leave {
            incident: args::<IncidentArgs>(value, &at)?.incident,
        },
        "set_severity" => {
            let a: SeverityArgs = args(value, &at)?;
            Change::SetSeverity {
                incident: a.incident,
                severity: a.severity,
                reason: text(&a.reason, MAX_REASON_CHARS, &field("reason"))?,
                loss: a.loss,
            }
        }
        "page_shown" => Change::PageShown {
            page: args::<PageArgs>(value, &at)?.page,
        },
        "add_override" => {
            let a: OverrideArgs = args(value, &at)?;
            let short = |value: String, name: &str| {
                if value.chars().count() > MAX_ID_CHARS {
                    Err(PayloadError::at(
                        field(name),
                        format!("longer than {MAX_ID_CHARS} characters"),
                    ))
                } else {
                    Ok(value)
                }
            };
            Change::AddOverride {
                rota: short(a.rota, "rota")?,
                layer: a.layer.map(|l| short(l, "layer")).transpose()?,
                person: short(a.person, "person")?,
                from: short(a.from, "from")?,
                to: short(a.to, "to")?,
            }
        }
        "open_incident" => {
            let a: OpenArgs = args(value, &at)?;
            Change::OpenIncident {
                application: text(&a.application, MAX_ID_CHARS, &field("application"))?,
                title: text(&a.title, MAX_TITLE_CHARS, &field("title"))?,
            }
        }
        "assign_alert" => {
            let a: AssignArgs = args(value, &at)?;
            Change::AssignAlert {
                source: text(&a.source, MAX_ID_CHARS, &field("source"))?,
                fingerprint: crate::alert::Fingerprint::new(a.fingerprint)
                    .map_err(|e| PayloadError::at(field("fingerprint"), e.to_string()))?
                    .to_string(),
                application: text(&a.application, MAX_ID_CHARS, &field("application"))?,
            }
        }
        other => {
            return Err(PayloadError::at(
                format!("{path}.name"),
                format!(
                    "unknown mutation {:?}: one of {}",
                    crate::text::shorten(other, 64),
                    NAMES.join(", ")
                ),
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(mutations: &str) -> Result<Push, PayloadError> {
        parse_push(format!(r#"{{"desktop_id": "d-1", "mutations": {mutations}}}"#).as_bytes())
    }

    #[test]
    fn an_alert_routed_by_hand_reads_with_its_source_and_application() {
        let read = push(
            r#"[{"id": 1, "name": "assign_alert", "args": {"source": "alertmanager", "fingerprint": "ab12", "application": " refunds "}, "at": "2026-12-03T10:02:00Z"}]"#,
        )
        .unwrap();
        assert_eq!(
            read.mutations[0].change,
            Change::AssignAlert {
                source: "alertmanager".into(),
                fingerprint: "ab12".into(),
                application: "refunds".into(),
            }
        );
        assert_eq!(read.mutations[0].change.incident(), None);
        let missing = push(
            r#"[{"id": 1, "name": "assign_alert", "args": {"source": "alertmanager", "application": "refunds"}, "at": "2026-12-03T10:02:00Z"}]"#,
        )
        .unwrap_err();
        assert!(
            missing.to_string().contains("mutations[0].args"),
            "{missing}"
        );
        assert!(missing.to_string().contains("fingerprint"), "{missing}");
        let control = push(
            r#"[{"id": 1, "name": "assign_alert", "args": {"source": "am", "fingerprint": "a\u0007b", "application": "refunds"}, "at": "2026-12-03T10:02:00Z"}]"#,
        )
        .unwrap_err();
        assert!(
            control
                .to_string()
                .contains("mutations[0].args.fingerprint"),
            "{control}"
        );
    }

    #[test]
    fn a_push_reads_into_changes() {
        let read = push(
            r#"[
            {"id": 1, "name": "acknowledge", "args": {"incident": "INC-4"}, "at": "2026-12-03T10:02:00Z"},
            {"id": 2, "name": "change_step", "args": {"incident": "INC-4", "step": "diagnose", "from": "todo", "state": "done"}, "at": "2026-12-03T10:03:00Z"},
            {"id": 5, "name": "name_role", "args": {"incident": "INC-4", "role": "commander", "person": "ben", "replaces": null}, "at": "2026-12-03T10:04:00Z"},
            {"id": 6, "name": "note", "args": {"incident": "INC-4", "note_id": "n-1", "text": " rolled back "}, "at": "2026-12-03T10:05:00Z"}
        ]"#,
        )
        .unwrap();
        assert_eq!(read.desktop_id, "d-1");
        assert_eq!(read.mutations.len(), 4);
        assert_eq!(
            read.mutations[1].change,
            Change::ChangeStep {
                incident: IncidentId(4),
                step: "diagnose".into(),
                from: StepState::Todo,
                state: Some(StepState::Done),
                reason: None,
                assignee: None,
            }
        );
        assert!(
            matches!(&read.mutations[3].change, Change::Note { text, .. } if text == "rolled back")
        );
    }

    #[test]
    fn problems_name_their_json_path() {
        let at = r#""at": "2026-12-03T10:02:00Z""#;
        let cases = [
            (
                format!(r#"[{{"id": 1, "name": "shout", "args": {{}}, {at}}}]"#),
                "mutations[0].name",
            ),
            (
                format!(
                    r#"[{{"id": 1, "name": "acknowledge", "args": {{"incident": "INC-x"}}, {at}}}]"#
                ),
                "mutations[0].args.incident",
            ),
            (
                format!(
                    r#"[{{"id": 2, "name": "join", "args": {{"incident": "INC-1"}}, {at}}}, {{"id": 2, "name": "leave", "args": {{"incident": "INC-1"}}, {at}}}]"#
                ),
                "mutations[1].id",
            ),
            (
                format!(
                    r#"[{{"id": 1, "name": "note", "args": {{"incident": "INC-1", "note_id": "a b", "text": "x"}}, {at}}}]"#
                ),
                "mutations[0].args.note_id",
            ),
            (
                format!(
                    r#"[{{"id": 1, "name": "change_step", "args": {{"incident": "INC-1", "step": "s", "from": "later", "state": "done"}}, {at}}}]"#
                ),
                "mutations[0].args.from",
            ),
            (
                format!(
                    r#"[{{"id": 1, "name": "name_role", "args": {{"incident": "INC-1", "role": "responder", "person": "ben"}}, {at}}}]"#
                ),
                "mutations[0].args.role",
            ),
            (
                format!(
                    r#"[{{"id": 1, "name": "join", "args": {{"incident": "INC-1", "extra": 1}}, {at}}}]"#
                ),
                "mutations[0].args.extra",
            ),
            (
                r#"[{"id": 1, "name": "join", "args": {"incident": "INC-1"}, "at": "yesterday"}]"#
                    .to_owned(),
                "mutations[0].at",
            ),
            (
                format!(
                    r#"[{{"id": 1, "name": "open_incident", "args": {{"application": "checkout", "title": "  "}}, {at}}}]"#
                ),
                "mutations[0].args.title",
            ),
        ];
        for (mutations, path) in cases {
            let error = push(&mutations).unwrap_err();
            assert_eq!(error.path, path, "{mutations}: {error}");
        }
        let bad_desktop = parse_push(br#"{"desktop_id": "", "mutations": []}"#).unwrap_err();
        assert_eq!(bad_desktop.path, "desktop_id");
        let many: Vec<String> = (1..=MAX_MUTATIONS + 1)
            .map(|i| format!(r#"{{"id": {i}, "name": "join", "args": {{"incident": "INC-1"}}, "at": "2026-12-03T10:00:00Z"}}"#))
            .collect();
        let error = push(&format!("[{}]", many.join(","))).unwrap_err();
        assert_eq!(error.path, "mutations");
    }
}
