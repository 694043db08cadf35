//! How results look: stable JSON shapes (documented in docs/cli.md, relied on by tools outside
//! this repository: add fields, never rename or remove them) and aligned tables for people.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;
use stopline_core::application::{Application, MatchOp};
use stopline_core::config::{Config, ConfigProblem};
use stopline_core::escalation::Escalation;
use stopline_core::incident::Incident;
use stopline_core::swarm::{ChecklistStep, RoleHolding};
use stopline_core::target::format_duration;
use stopline_core::team::Team;
use stopline_core::timeline::TimelineEvent;
use stopline_store::{Page, StoredAlert};

#[derive(Debug, Serialize)]
pub struct IncidentJson {
    pub id: String,
    pub title: String,
    pub state: &'static str,
    pub severity: &'static str,
    pub application: Option<String>,
    pub team: Option<String>,
    pub opened_at: Timestamp,
    pub opened_by: Option<String>,
    pub acknowledged_at: Option<Timestamp>,
    pub acknowledged_by: Option<String>,
    pub resolved_at: Option<Timestamp>,
    pub resolved_by: Option<String>,
}

impl From<&Incident> for IncidentJson {
    fn from(incident: &Incident) -> Self {
        Self {
            id: incident.id.to_string(),
            title: incident.title.clone(),
            state: incident.state.as_str(),
            severity: incident.severity.as_str(),
            application: incident.application.as_ref().map(ToString::to_string),
            team: incident.team.as_ref().map(ToString::to_string),
            opened_at: incident.opened_at,
            opened_by: incident.opened_by.as_ref().map(ToString::to_string),
            acknowledged_at: incident.acknowledged.as_ref().map(|s| s.at),
            acknowledged_by: incident
                .acknowledged
                .as_ref()
                .and_then(|s| s.by.as_ref().map(ToString::to_string)),
            resolved_at: incident.resolved.as_ref().map(|s| s.at),
            resolved_by: incident
                .resolved
                .as_ref()
                .and_then(|s| s.by.as_ref().map(ToString::to_string)),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct TimelineEventJson {
    pub at: Timestamp,
    pub who: Option<String>,
    pub kind: &'static str,
    pub detail: String,
}

impl From<&TimelineEvent> for TimelineEventJson {
    fn from(event: &TimelineEvent) -> Self {
        Self {
            at: event.at,
            who: event.who.as_ref().map(ToString::to_string),
            kind: event.kind.as_str(),
            detail: event.detail.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct HubActionJson {
    pub id: i64,
    pub action: String,
    pub at: String,
    pub status: &'static str,
    pub reason: Option<String>,
}

impl From<&stopline_store::HubAction> for HubActionJson {
    fn from(action: &stopline_store::HubAction) -> Self {
        Self {
            id: action.id,
            action: action.name.clone(),
            at: action.at.to_string(),
            status: action.status.as_str(),
            reason: action.reason.clone(),
        }
    }
}

#[derive(Serialize)]
pub struct IncidentDetailJson {
    #[serde(flatten)]
    pub incident: IncidentJson,
    pub timeline: Vec<TimelineEventJson>,
    /// `None` for an incident with no owning team (nobody to page).
    pub escalation: Option<EscalationJson>,
    pub pages: Vec<PageJson>,
    /// The Stop The Line checklist, as `stopline checklist` shows it; empty before it starts.
    pub checklist: Vec<StepJson>,
    /// Everyone who held a role, with since and until.
    pub roles: Vec<RoleJson>,
    /// Why a person set the severity, when one did.
    pub severity_reason: Option<String>,
    /// Silences made for its alerts in write-back Alertmanagers.
    pub silences: Vec<SilenceJson>,
    /// Outbox actions for it still waiting to reach their source.
    pub outbox_waiting: u64,
    /// Pages to people's contacts away from the desk (email, webhooks), oldest first.
    pub contacts: Vec<ContactMessageJson>,
    /// On a desktop joined to a hub: this person's actions on it, newest first, with where
    /// each stands (`pending`, `applied`, `refused` with the hub's reason).
    pub hub_actions: Vec<HubActionJson>,
    /// What the app's incident header shows: age, target and this week's budget, loss, who
    /// was paged and acknowledged, the next page, the secondary, the first alert's links.
    pub situation: stopline_engine::api::Situation,
}

#[derive(Debug, Serialize)]
pub struct SilenceJson {
    pub source: String,
    pub silence_id: String,
    pub ends_at: Timestamp,
    /// `null` while it silences.
    pub expired_at: Option<Timestamp>,
}

impl From<&stopline_store::SilenceRecord> for SilenceJson {
    fn from(s: &stopline_store::SilenceRecord) -> Self {
        Self {
            source: s.source.clone(),
            silence_id: s.silence_id.clone(),
            ends_at: s.ends_at,
            expired_at: s.expired_at,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct StepJson {
    pub step: String,
    pub title: String,
    pub required: bool,
    pub runbook: Option<String>,
    /// `todo`, `doing`, `done` or `skipped`.
    pub state: &'static str,
    pub assignee: Option<String>,
    pub reason: Option<String>,
    pub changed_by: Option<String>,
    pub changed_at: Option<Timestamp>,
}

impl From<&ChecklistStep> for StepJson {
    fn from(s: &ChecklistStep) -> Self {
        Self {
            step: s.step.to_string(),
            title: s.title.clone(),
            required: s.required,
            runbook: s.runbook.clone(),
            state: s.state.as_str(),
            assignee: s.assignee.as_ref().map(ToString::to_string),
            reason: s.reason.clone(),
            changed_by: s.changed_by.as_ref().map(ToString::to_string),
            changed_at: s.changed_at,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct RoleJson {
    /// `commander`, `comms`, `scribe` or `responder`.
    pub role: &'static str,
    pub person: String,
    pub since: Timestamp,
    /// `null` while they still hold it.
    pub until: Option<Timestamp>,
}

impl From<&RoleHolding> for RoleJson {
    fn from(r: &RoleHolding) -> Self {
        Self {
            role: r.role.as_str(),
            person: r.person.to_string(),
            since: r.since,
            until: r.until,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct EscalationJson {
    /// `due`, `deferred`, `stopped` or `exhausted`.
    pub status: &'static str,
    pub next_step: u32,
    pub due_at: Timestamp,
    pub rota: Option<String>,
    pub note: String,
}

impl From<&Escalation> for EscalationJson {
    fn from(e: &Escalation) -> Self {
        Self {
            status: e.status.as_str(),
            next_step: e.next_step,
            due_at: e.due_at,
            rota: e.rota.as_ref().map(ToString::to_string),
            note: e.note.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct PageJson {
    pub person: String,
    pub reason: String,
    pub step: u32,
    /// 0 for the first round of the escalation, 1 for the first repeat, …
    pub repeat: u32,
    pub paged_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
}

/// A page to a contact away from the desk, and what became of it.
#[derive(Debug, Serialize)]
pub struct ContactMessageJson {
    pub person: String,
    /// `email`, `ntfy`, `slack` or `json`.
    pub channel: String,
    /// The address, or a webhook's host: never a secret.
    pub address: String,
    /// `waiting`, `sending`, `sent`, `failed`, `not_needed` (the desktop showed the page within
    /// the grace), `cancelled` (acknowledged or resolved first), `summarised` (sent in a summary
    /// when the rate limit was reached) or `unknown` (Stopline stopped while emailing it).
    pub status: &'static str,
    pub queued_at: Timestamp,
    /// Not sent before this: the desktop grace.
    pub hold_until: Timestamp,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// What the server said, in words: `delivered to the SMTP server (250 …)`.
    pub outcome: Option<String>,
    pub finished_at: Option<Timestamp>,
}

impl From<&stopline_store::ContactMessage> for ContactMessageJson {
    fn from(m: &stopline_store::ContactMessage) -> Self {
        Self {
            person: m.person.to_string(),
            channel: m.channel.clone(),
            address: m.address.clone(),
            status: m.status.as_str(),
            queued_at: m.created_at,
            hold_until: m.hold_until,
            attempts: m.attempts,
            last_error: m.last_error.clone(),
            outcome: m.outcome.clone(),
            finished_at: m.finished_at,
        }
    }
}

impl From<&Page> for PageJson {
    fn from(p: &Page) -> Self {
        Self {
            person: p.person.to_string(),
            reason: p.reason.clone(),
            step: p.step,
            repeat: p.cycle,
            paged_at: p.paged_at,
            delivered_at: p.delivered_at,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct NamedJson {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct RouteJson {
    /// `"routed"` or `"unrouted"`.
    pub route: &'static str,
    pub application: Option<NamedJson>,
    pub team: Option<NamedJson>,
}

#[derive(Debug, Serialize)]
pub struct TeamJson {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub members: Vec<String>,
    pub applications: Vec<String>,
}

impl TeamJson {
    pub fn new(config: &Config, team: &Team) -> Self {
        Self {
            id: team.id.to_string(),
            name: team.name.clone(),
            kind: team.kind.as_str(),
            members: team.members.iter().map(ToString::to_string).collect(),
            applications: config
                .applications_of(&team.id)
                .map(|a| a.id.to_string())
                .collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ApplicationJson {
    pub id: String,
    pub name: String,
    pub team: String,
    pub availability_target: f64,
    pub tolerable_unavailability_per_week_seconds: f64,
    pub exposure_per_hour: u64,
    pub currency: String,
    #[serde(rename = "match")]
    pub match_equal: BTreeMap<String, String>,
    pub match_regex: BTreeMap<String, String>,
    pub journeys: Vec<String>,
}

impl ApplicationJson {
    pub fn new(config: &Config, app: &Application) -> Self {
        let mut match_equal = BTreeMap::new();
        let mut match_regex = BTreeMap::new();
        for matcher in &app.matchers {
            match &matcher.op {
                MatchOp::Equals(value) => {
                    match_equal.insert(matcher.label.clone(), value.clone());
                }
                MatchOp::Regex(regex) => {
                    // Shown as written: without the anchors added when it was compiled.
                    let pattern = regex.as_str();
                    let written = pattern
                        .strip_prefix("^(?:")
                        .and_then(|p| p.strip_suffix(")$"))
                        .unwrap_or(pattern);
                    match_regex.insert(matcher.label.clone(), written.to_owned());
                }
            }
        }
        Self {
            id: app.id.to_string(),
            name: app.name.clone(),
            team: app.team.to_string(),
            availability_target: app.target.percent(),
            tolerable_unavailability_per_week_seconds: app
                .target
                .tolerable_unavailability_per_week()
                .as_secs_f64(),
            exposure_per_hour: app.exposure_per_hour.0,
            currency: config.workspace.currency.to_string(),
            match_equal,
            match_regex,
            journeys: app.journeys.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct AlertJson<'a> {
    pub source: &'a str,
    pub fingerprint: &'a str,
    pub state: &'static str,
    pub muted: bool,
    pub labels: &'a BTreeMap<String, String>,
    pub annotations: &'a BTreeMap<String, String>,
    pub links: &'a BTreeMap<String, String>,
    pub starts_at: Timestamp,
    pub ends_at: Option<Timestamp>,
    pub generator_url: Option<&'a str>,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub application: Option<String>,
    pub team: Option<String>,
    pub incident: Option<String>,
}

impl<'a> From<&'a StoredAlert> for AlertJson<'a> {
    fn from(stored: &'a StoredAlert) -> Self {
        let alert = &stored.alert;
        Self {
            source: &alert.source,
            fingerprint: alert.fingerprint.as_str(),
            state: alert.state.as_str(),
            muted: alert.muted,
            labels: &alert.labels,
            annotations: &alert.annotations,
            links: &alert.links,
            starts_at: alert.starts_at,
            ends_at: alert.ends_at,
            generator_url: alert.generator_url.as_deref(),
            first_seen: alert.first_seen,
            last_seen: alert.last_seen,
            application: stored.application.as_ref().map(ToString::to_string),
            team: stored.team.as_ref().map(ToString::to_string),
            incident: stored.incident.map(|i| i.to_string()),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct CheckJson {
    pub ok: bool,
    pub file: String,
    pub people: usize,
    pub teams: usize,
    pub applications: usize,
    pub problems: Vec<ProblemJson>,
}

#[derive(Debug, Serialize)]
pub struct ProblemJson {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub key: String,
    pub message: String,
}

impl From<&ConfigProblem> for ProblemJson {
    fn from(p: &ConfigProblem) -> Self {
        Self {
            file: p.file.clone(),
            line: p.line,
            column: p.column,
            key: p.key.clone(),
            message: p.message.clone(),
        }
    }
}

/// Writes one line for people to stdout. Every control character in it is shown escaped
/// (`\u{1b}`): alert text must not retitle, clear or repaint the terminal. When the reader has
/// gone (`stopline apps | head`), stops quietly instead of panicking: nothing more can be shown
/// to anyone.
pub fn emit(line: &str) {
    write_stdout(&stopline_core::text::escape_controls(line));
}

/// Writes text exactly as given (JSON, whose encoder already escapes control characters).
pub fn write_stdout(text: &str) {
    write_exactly(&format!("{text}\n"));
}

/// Writes a document exactly as given, line ends and all (an iCalendar feed, whose lines end in
/// CRLF and whose text is escaped by its own rules).
pub fn emit_raw(text: &str) {
    write_exactly(text);
}

fn write_exactly(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("stopline: cannot write output: {e}");
        std::process::exit(1);
    }
}

pub fn print_json(value: &impl Serialize) {
    // Serialising these plain structs cannot fail.
    write_stdout(
        &serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}")),
    );
}

/// No cell is wider than this, even when the output is not a terminal: one alert with a
/// 2,000-character label must not make every row of the table that wide.
const MAX_CELL_CHARS: usize = 200;
/// Columns never shrink below this to fit a narrow terminal (nor below their header).
const MIN_CELL_CHARS: usize = 6;
const GAP: &str = "  ";

/// A table with a header row; columns padded to their widest cell. Cells show control
/// characters escaped, and a cell too wide for the terminal (or wider than
/// [`MAX_CELL_CHARS`]) ends in `…`.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    for line in table_lines(header, rows, terminal_width()) {
        write_stdout(&line);
    }
}

/// The table's lines, fitted to `width` characters when one is given.
fn table_lines(header: &[&str], rows: &[Vec<String>], width: Option<usize>) -> Vec<String> {
    use stopline_core::text::{escape_controls, shorten};
    let cells: Vec<Vec<String>> = std::iter::once(header.iter().map(|h| (*h).to_owned()).collect())
        .chain(rows.iter().map(|row| {
            row.iter()
                .map(|cell| escape_controls(cell).into_owned())
                .collect()
        }))
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &cells {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count().min(MAX_CELL_CHARS));
        }
    }
    if let Some(width) = width {
        fit_columns(&mut widths, header, width);
    }
    cells
        .iter()
        .map(|row| {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    line.push_str(GAP);
                }
                let shown = shorten(cell, widths[i]);
                line.push_str(&shown);
                // Padding by hand: a `{:<width$}` format refuses widths past 65,535.
                let pad = widths[i].saturating_sub(shown.chars().count());
                line.extend(std::iter::repeat_n(' ', pad));
            }
            line.trim_end().to_owned()
        })
        .collect()
}

/// Narrows the widest columns, one character at a time, until the table fits `width` or every
/// column is at its floor (then the terminal wraps, as it would any long line).
fn fit_columns(widths: &mut [usize], header: &[&str], width: usize) {
    let floor = |i: usize| header[i].chars().count().max(MIN_CELL_CHARS);
    let total = |widths: &[usize]| {
        widths.iter().sum::<usize>() + GAP.len() * widths.len().saturating_sub(1)
    };
    while total(widths) > width {
        let widest = (0..widths.len())
            .filter(|&i| widths[i] > floor(i))
            .max_by_key(|&i| widths[i]);
        match widest {
            Some(i) => widths[i] -= 1,
            None => break,
        }
    }
}

/// The terminal's width in characters when stdout is one (`COLUMNS` overrides it, as most tools
/// let it), else `None`: output to a file or a pipe keeps whole cells up to [`MAX_CELL_CHARS`].
fn terminal_width() -> Option<usize> {
    if let Some(columns) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return Some(columns).filter(|&c: &usize| c > 0);
    }
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return None;
    }
    let size = rustix::termios::tcgetwinsize(std::io::stdout()).ok()?;
    (size.ws_col > 0).then_some(usize::from(size.ws_col))
}

/// An instant as people read it in the workspace's zone: `2026-11-27 10:03 GMT`.
pub fn local_time(at: Timestamp, zone: &TimeZone) -> String {
    at.to_zoned_datetime(zone.clone())
        .strftime("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// How long ago, coarsely: `4m`, `2h 5m`.
pub fn age(since: Timestamp, now: Timestamp) -> String {
    let elapsed = now.duration_since(since);
    let rounded = jiff::SignedDuration::from_secs(elapsed.as_secs() / 60 * 60);
    if rounded.as_secs() < 60 {
        "<1m".to_owned()
    } else {
        format_duration(rounded).trim_end_matches(" 0s").to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_cell_is_cut_not_a_panic() {
        let rows = vec![vec!["inc-1".to_owned(), "x".repeat(70_000)]];
        let lines = table_lines(&["ID", "TITLE"], &rows, None);
        assert_eq!(
            lines[1].chars().count(),
            "inc-1".len() + GAP.len() + MAX_CELL_CHARS
        );
        assert!(lines[1].ends_with('…'));
    }

    #[test]
    fn a_table_fits_the_terminal() {
        let rows = vec![
            vec!["inc-1".to_owned(), "firing".to_owned(), "y".repeat(150)],
            vec![
                "inc-2".to_owned(),
                "resolved".to_owned(),
                "short".to_owned(),
            ],
        ];
        let lines = table_lines(&["ID", "STATE", "TITLE"], &rows, Some(80));
        for line in &lines {
            assert!(line.chars().count() <= 80, "{line}");
        }
        assert!(lines[1].starts_with("inc-1  firing"));
        assert!(lines[1].ends_with('…'));
        assert!(lines[2].ends_with("short"));
        // Too narrow for even the floors: a column shrinks no further than its floor (or stays
        // narrower, as ID is).
        let lines = table_lines(&["ID", "STATE", "TITLE"], &rows, Some(5));
        assert!(lines[0].starts_with("ID     STATE   TITLE"), "{}", lines[0]);
    }

    #[test]
    fn cells_show_control_characters_escaped() {
        let rows = vec![vec!["\x1b]0;owned\x07\r\x1b[2Jall clear".to_owned()]];
        let lines = table_lines(&["TITLE"], &rows, None);
        assert_eq!(lines[1], "\\u{1b}]0;owned\\u{7}\\r\\u{1b}[2Jall clear");
        assert!(!lines.concat().chars().any(char::is_control));
    }
}
