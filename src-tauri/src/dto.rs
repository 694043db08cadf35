//! Transport types between the Rust side and the UI. TypeScript declarations for them are
//! generated into `ui/src/bindings.ts` (committed); a test fails when that file is stale, and
//! `make bindings` rewrites it.

use serde::Serialize;
use ts_rs::TS;

/// What the main window shows: the workspace and its open incidents.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Overview {
    /// The workspace's name; `null` when the config cannot be read.
    pub workspace: Option<String>,
    pub config_path: String,
    /// Something the user should know about this start, such as the demo workspace being written.
    pub notice: Option<String>,
    /// Why the config cannot be read; incidents are still listed.
    pub config_error: Option<String>,
    /// Open incidents, newest first.
    pub incidents: Vec<IncidentRow>,
    /// Whether this app runs the engine, or shows another engine's data.
    pub engine: crate::host::EngineMode,
    /// Who sits at this desktop: what the app does, it does as them. `null` until chosen.
    pub me: Option<String>,
    /// Everyone in the config, to choose from.
    pub people: Vec<PersonOption>,
    /// The workspace's currency code, for loss figures.
    pub currency: Option<String>,
    /// The teams the person at this desktop belongs to: their incidents come first.
    pub my_teams: Vec<String>,
    /// Teams whose line an incident holds stopped now.
    pub stopped_teams: Vec<String>,
    /// The same lines, with since when and which incidents hold each.
    pub stopped_lines: Vec<StoppedLine>,
    /// Whether any alert ever reached this desktop's store: until one has, the queue offers to
    /// connect Alertmanager.
    pub has_alerts: bool,
    /// How dates, times and numbers read (`[workspace] locale`, a language tag); `null`: British
    /// English (`en-GB`).
    pub locale: Option<String>,
    /// Alerts no application claimed: the service desk's queue (`stopline unrouted`).
    pub unrouted_alerts: u32,
    /// Sources that cannot be reached or have actions waiting, as one line each:
    /// `am: offline since 10:42 GMT, 3 actions waiting`.
    pub offline_sources: Vec<String>,
    /// An incident to open at once (the app was started from a notification's Open button);
    /// given by the first overview only.
    pub open_incident: Option<String>,
    /// The team hub this desktop joined; `null` when it works alone.
    pub hub: Option<HubView>,
}

/// A desktop's standing with the team hub it joined (docs/team.md).
#[derive(Debug, Clone, Serialize, TS)]
pub struct HubView {
    pub url: String,
    /// The person whose token this desktop holds: everything here is done as them.
    pub person: String,
    pub desktop_id: String,
    /// `null` until the engine first reached (or failed to reach) the hub.
    pub connected: Option<bool>,
    /// Since when connected, or offline (RFC 3339, UTC).
    pub since: Option<String>,
    /// Why the hub cannot be reached.
    pub error: Option<String>,
    /// The person's actions saved here that the hub has not decided yet.
    pub waiting: u32,
    /// The latest actions the hub refused, newest first.
    pub refused: Vec<HubActionRow>,
}

/// One of the person's actions and where it stands with the hub.
#[derive(Debug, Clone, Serialize, TS)]
pub struct HubActionRow {
    pub action: String,
    pub incident: Option<String>,
    /// When the person took it (RFC 3339, UTC).
    pub at: String,
    pub status: HubActionStatus,
    /// The hub's reason, for a refusal.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, TS, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum HubActionStatus {
    /// Saved here; the hub has not decided it yet.
    Pending,
    Applied,
    Refused,
}

/// Joining a hub from the Settings: its address and the person's token.
#[derive(Debug, Clone, serde::Deserialize, TS)]
pub struct HubConnectForm {
    pub url: String,
    pub token: String,
    /// Plain http beyond loopback (the token travels in the clear).
    pub insecure_plaintext: bool,
}

/// A person to choose.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PersonOption {
    pub id: String,
    pub name: String,
}

/// A team's line an incident holds stopped: deployments of feature work are refused.
#[derive(Debug, Clone, Serialize, TS)]
pub struct StoppedLine {
    pub team: String,
    pub team_name: String,
    /// RFC 3339, UTC: when the current stop began.
    pub since: String,
    /// The incidents holding it, oldest first.
    pub incidents: Vec<String>,
}

/// One incident with everything the swarm works from.
#[derive(Debug, Clone, Serialize, TS)]
pub struct IncidentView {
    pub incident: IncidentRow,
    /// Why a person set the severity, when one did.
    pub severity_reason: Option<String>,
    /// The application's exposure, such as `GBP 780,000/h`.
    pub loss_per_hour: Option<String>,
    /// The workspace's currency code, for the loss so far; `null` without a config.
    pub currency: Option<String>,
    /// Oldest first.
    pub timeline: Vec<TimelineEntry>,
    /// Empty before the swarm starts (at the acknowledgement).
    pub checklist: Vec<StepView>,
    /// Who holds which role now.
    pub roles: Vec<RoleView>,
    pub alerts: Vec<AlertView>,
    /// On a desktop joined to a hub: the person's actions on this incident the hub has not
    /// confirmed (pending) or refused, newest first.
    pub hub_actions: Vec<HubActionRow>,
    /// What the header shows first; the same figures as `stopline incident show --json`.
    pub situation: SituationView,
}

/// The situation at a glance (see `stopline_engine::api::Situation`), as of `as_of`.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SituationView {
    /// RFC 3339, UTC: the moment the figures are for.
    pub as_of: String,
    /// The application's availability target, in percent.
    pub target_percent: Option<f64>,
    /// The share of this calendar week's tolerable unavailability used so far, in percent.
    pub budget_used_percent: Option<f64>,
    /// Unavailable this week so far, and what the target tolerates over the week, in seconds.
    pub unavailable_seconds: Option<f64>,
    pub tolerable_seconds: Option<f64>,
    /// Each person paged, once, first page first.
    pub paged: Vec<PersonAt>,
    pub acknowledged: Option<PersonAt>,
    /// Whom escalation pages next, and when; `null` once it stopped or ran out.
    pub next_page: Option<NextPageView>,
    /// Who holds the rota's second layer now.
    pub secondary: Option<SecondaryView>,
    /// The first alert's summary, runbook and dashboard.
    pub first_alert: Option<AlertBriefView>,
}

/// A person, by name, and when.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PersonAt {
    pub id: String,
    pub name: String,
    /// RFC 3339, UTC.
    pub at: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct NextPageView {
    /// RFC 3339, UTC.
    pub at: String,
    /// Empty when nobody holds the step's layer then.
    pub people: Vec<PersonOption>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct SecondaryView {
    pub id: String,
    pub name: String,
    pub rota: String,
    pub layer: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct AlertBriefView {
    pub name: String,
    pub summary: Option<String>,
    pub runbook: Option<String>,
    pub dashboard: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct TimelineEntry {
    /// RFC 3339, UTC.
    pub at: String,
    /// `null` for Stopline's own entries.
    pub who: Option<String>,
    pub kind: TimelineKindText,
    pub detail: String,
}

/// What a timeline entry records.
#[derive(Debug, Clone, Copy, Serialize, TS, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKindText {
    Opened,
    Acknowledged,
    Resolved,
    Note,
    Alerts,
    Paging,
    Checklist,
    Role,
    Severity,
}

impl From<stopline_core::timeline::TimelineKind> for TimelineKindText {
    fn from(kind: stopline_core::timeline::TimelineKind) -> Self {
        use stopline_core::timeline::TimelineKind as K;
        match kind {
            K::Opened => Self::Opened,
            K::Acknowledged => Self::Acknowledged,
            K::Resolved => Self::Resolved,
            K::Note => Self::Note,
            K::Alerts => Self::Alerts,
            K::Paging => Self::Paging,
            K::Checklist => Self::Checklist,
            K::Role => Self::Role,
            K::Severity => Self::Severity,
        }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct StepView {
    pub step: String,
    pub title: String,
    pub required: bool,
    pub runbook: Option<String>,
    pub state: StepStateText,
    pub assignee: Option<String>,
    pub reason: Option<String>,
    pub changed_by: Option<String>,
    pub changed_at: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, TS, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StepStateText {
    Todo,
    Doing,
    Done,
    Skipped,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct RoleView {
    pub role: RoleText,
    pub title: String,
    pub person: String,
    pub since: String,
}

/// Every role, the lead ones and responders.
#[derive(Debug, Clone, Copy, Serialize, TS, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RoleText {
    Commander,
    Comms,
    Scribe,
    Responder,
}

impl From<stopline_core::swarm::Role> for RoleText {
    fn from(role: stopline_core::swarm::Role) -> Self {
        use stopline_core::swarm::Role;
        match role {
            Role::Commander => Self::Commander,
            Role::Comms => Self::Comms,
            Role::Scribe => Self::Scribe,
            Role::Responder => Self::Responder,
        }
    }
}

/// Whether an alert fires.
#[derive(Debug, Clone, Copy, Serialize, TS, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AlertStateText {
    Firing,
    Resolved,
}

impl From<stopline_core::alert::AlertState> for AlertStateText {
    fn from(state: stopline_core::alert::AlertState) -> Self {
        match state {
            stopline_core::alert::AlertState::Firing => Self::Firing,
            stopline_core::alert::AlertState::Resolved => Self::Resolved,
        }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct AlertView {
    pub source: String,
    pub fingerprint: String,
    pub state: AlertStateText,
    pub labels: std::collections::BTreeMap<String, String>,
    pub annotations: std::collections::BTreeMap<String, String>,
    /// Links a source sent: the generator (`source`), Grafana's `dashboard`, `panel`, `silence`.
    pub links: std::collections::BTreeMap<String, String>,
}

/// Where the service desk's words lead: the application, its owning team, and who is on call
/// for it now.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DeskRoute {
    pub application: String,
    pub application_name: String,
    /// Such as `99.9%`.
    pub target: String,
    pub team: String,
    pub team_name: String,
    /// Each layer of the team's rotas (its own, then its domain's), with who holds it now.
    pub on_call: Vec<OnCallView>,
    /// The application's open incidents, newest first: where a customer's report most likely
    /// belongs, rather than in a new incident.
    pub open_incidents: Vec<IncidentRow>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct OnCallView {
    pub rota: String,
    pub layer: String,
    /// `null` before the layer's rotation begins.
    pub person: Option<String>,
}

/// Where alerts come from, and how to send them here.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SourcesView {
    pub sources: Vec<SourceRow>,
    /// Where Alertmanager and Grafana post: this app's engine, or the configured address.
    pub webhook: String,
    /// The bearer token senders put in `Authorization: Bearer …`.
    pub token: String,
    /// What the engine found of this desktop's notification server.
    pub notifications: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct SourceRow {
    pub name: String,
    pub kind: String,
    pub url: Option<String>,
    pub state: SourceStateText,
    pub last_success: Option<String>,
    pub last_error: Option<String>,
    pub failing_since: Option<String>,
    /// Outbox actions (silences to create, extend or expire) waiting to reach it.
    pub waiting: u32,
    /// When the oldest of them was queued.
    pub waiting_since: Option<String>,
    /// Actions it refused for good, set aside.
    pub abandoned: u32,
}

/// A source's health: `unknown` before its first poll or delivery.
#[derive(Debug, Clone, Copy, Serialize, TS, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SourceStateText {
    Ok,
    Failing,
    Unknown,
}

impl SourceStateText {
    pub fn of(state: &str) -> Self {
        match state {
            "ok" => Self::Ok,
            "failing" => Self::Failing,
            _ => Self::Unknown,
        }
    }
}

/// Who is on call, per rota and layer, now and next; and this desktop's person's shifts.
#[derive(Debug, Clone, Serialize, TS)]
pub struct OnCallOverview {
    pub rotas: Vec<RotaView>,
    /// The shifts of the person at this desktop over the next 28 days.
    pub my_shifts: Vec<ShiftView>,
    /// RFC 3339, UTC: the window the timeline draws, from the start of today for 14 days.
    pub timeline_from: String,
    pub timeline_to: String,
    /// Each rota's layers as bars over that window, the rotas of my teams first.
    pub timeline: Vec<RotaTimelineView>,
    /// Whether overrides can be removed here (a joined desktop's are the hub's).
    pub overrides_editable: bool,
    /// The address of my shifts' calendar feed, for a calendar app; `null` when nobody is
    /// chosen at this desktop or the engine cannot say.
    pub my_calendar_url: Option<String>,
}

/// One rota over the timeline's window.
#[derive(Debug, Clone, Serialize, TS)]
pub struct RotaTimelineView {
    pub id: String,
    pub name: String,
    pub teams: Vec<String>,
    /// Whether it covers one of my teams.
    pub mine: bool,
    pub layers: Vec<TimelineLayerView>,
    /// Its overrides not over before the window starts, each removable where overrides are.
    pub overrides: Vec<OverrideView>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct TimelineLayerView {
    pub layer: String,
    /// In order; gaps are times nobody holds the layer.
    pub shifts: Vec<ShiftView>,
}

/// An override as the config holds it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct OverrideView {
    pub layer: String,
    pub person: String,
    pub person_name: String,
    /// RFC 3339, UTC.
    pub from: String,
    pub to: String,
}

/// Which override to remove: as `OverrideView` gives it.
#[derive(Debug, Clone, serde::Deserialize, TS)]
pub struct RemoveOverrideForm {
    pub rota: String,
    pub layer: String,
    pub person: String,
    /// RFC 3339.
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct RotaView {
    pub id: String,
    pub name: String,
    pub kind: RotaKindText,
    pub teams: Vec<String>,
    pub layers: Vec<LayerView>,
}

/// One team's own rota, or a domain rota shared by sibling teams.
#[derive(Debug, Clone, Copy, Serialize, TS, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RotaKindText {
    Team,
    Domain,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct LayerView {
    pub layer: String,
    pub now: Option<ShiftView>,
    pub next: Option<ShiftView>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ShiftView {
    pub rota: String,
    pub layer: String,
    pub person: String,
    /// The person's name from the config (the id when it names nobody).
    pub person_name: String,
    /// RFC 3339, UTC.
    pub since: String,
    pub until: String,
    pub is_override: bool,
}

/// What someone does to an incident from the app, as the person at this desktop.
#[derive(Debug, Clone, serde::Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IncidentAction {
    Acknowledge,
    /// `force` resolves with required checklist steps open, recording the override.
    Resolve {
        force: bool,
    },
    /// Sets a checklist step's state; `skipped` needs a reason.
    Step {
        step: String,
        state: StepStateText,
        reason: Option<String>,
    },
    Note {
        text: String,
    },
    /// Gives a checklist step to a person.
    Assign {
        step: String,
        person: String,
    },
    /// Names the commander, communications lead or scribe; `handover` takes the role over from
    /// whoever holds it now (recorded).
    Role {
        role: LeadRoleText,
        person: String,
        handover: bool,
    },
    /// The person at this desktop joins the swarm as a responder.
    Join,
    /// The person at this desktop leaves the swarm.
    Leave,
    /// Sets the severity by hand; the reason is required and goes on the timeline.
    Severity {
        severity: SeverityText,
        reason: String,
        /// The person's estimate of the loss, used by reports instead of exposure × duration.
        loss: Option<f64>,
    },
}

/// The roles one person holds at a time.
#[derive(Debug, Clone, Copy, serde::Deserialize, TS, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LeadRoleText {
    Commander,
    Comms,
    Scribe,
}

/// How this desktop pages and starts, as the Settings view shows it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SettingsView {
    /// Who sits at this desktop; `null` until chosen.
    pub me: Option<String>,
    pub people: Vec<PersonOption>,
    /// Whether teammates' pages show here, as ordinary notifications.
    pub teammates: bool,
    /// More pages than this within a minute become one summary notification.
    pub flood_threshold: u32,
    /// Whether this desktop chose the two above (`true`) or the config's `[notifications]` decides.
    pub notifications_chosen_here: bool,
    /// Whether Stopline starts, in the tray, when this person logs in.
    pub start_at_login: bool,
    /// Where that is set up, or why it cannot be on this system.
    pub start_at_login_detail: String,
    /// The team hub this desktop joined; `null` when it works alone.
    pub hub: Option<HubView>,
    /// This build: `0.1.0 (commit 1a2b3c4d5e6f)`.
    pub version: String,
}

/// A change to this desktop's settings; `null` leaves a setting as it is.
#[derive(Debug, Clone, serde::Deserialize, TS)]
pub struct SettingsChange {
    pub teammates: Option<bool>,
    pub flood_threshold: Option<u32>,
    pub start_at_login: Option<bool>,
    /// Forget this desktop's notification choices: the config decides again.
    pub reset_notifications: bool,
}

/// Alerts no application claimed, and the applications they can be given to.
#[derive(Debug, Clone, Serialize, TS)]
pub struct UnroutedView {
    /// Newest first.
    pub alerts: Vec<UnroutedAlert>,
    pub applications: Vec<ApplicationOption>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct UnroutedAlert {
    pub source: String,
    pub fingerprint: String,
    pub state: AlertStateText,
    pub labels: std::collections::BTreeMap<String, String>,
    /// The `summary` annotation, when the alert has one.
    pub summary: Option<String>,
    /// RFC 3339, UTC.
    pub last_seen: String,
    /// The label a route saved from it matches on, `[name, value]` (`service=…`): alerts with
    /// the same are routed together. `null` when it has none of the routing labels.
    pub route_by: Option<(String, String)>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ApplicationOption {
    pub id: String,
    pub name: String,
    pub team_name: String,
}

/// The service desk gives an unrouted alert to an application; with `save`, alerts with the same
/// routing label go there by themselves from now on.
#[derive(Debug, Clone, serde::Deserialize, TS)]
pub struct AssignForm {
    pub source: String,
    pub fingerprint: String,
    pub application: String,
    pub save: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct AssignedView {
    /// The incident the alert now belongs to; `null` for an alert that is no longer firing.
    pub incident: Option<String>,
    /// The `[[routes]]` rule added to the config, when one was saved.
    pub saved_route: Option<String>,
    /// Other waiting unrouted alerts the saved rule matched, routed with it.
    pub also_routed: u32,
}

/// The operability report for a period, as the Reports view shows it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ReportView {
    /// RFC 3339, UTC: the period `[from, to)`.
    pub from: String,
    pub to: String,
    pub currency: String,
    /// The teams to choose from (delivery teams), for the filter.
    pub all_teams: Vec<PersonOption>,
    pub teams: Vec<TeamCostView>,
    pub applications: Vec<ApplicationReportView>,
    pub people: Vec<PersonPayView>,
    /// Incidents restored in the period, oldest first: time to restore over time.
    pub restores: Vec<RestoreView>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct TeamCostView {
    pub team: String,
    pub team_name: String,
    pub pay_model: String,
    pub standby: f64,
    pub callout: f64,
    pub total: f64,
    pub lines: Vec<CostLineView>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct CostLineView {
    pub application: String,
    pub application_name: String,
    pub standby: f64,
    pub callout: f64,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ApplicationReportView {
    pub application: String,
    pub name: String,
    pub team: String,
    pub target_percent: f64,
    /// Over the whole period.
    pub availability_percent: f64,
    pub unavailable_seconds: f64,
    /// Unavailable time as a share of the tolerable unavailability over the period, in percent:
    /// above 100 the target was missed.
    pub budget_used_percent: f64,
    pub weeks_met: u32,
    pub weeks: u32,
    pub tta_median_seconds: Option<f64>,
    pub ttr_median_seconds: Option<f64>,
    pub ttr_p90_seconds: Option<f64>,
    pub projected_loss: f64,
    pub actual_loss: f64,
    /// (projected − actual) / projected; `null` without a projection.
    pub effectiveness: Option<f64>,
    pub on_call_cost: f64,
    pub fit_model: String,
    pub fit_advice: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct PersonPayView {
    pub person: String,
    pub name: String,
    pub standby_hours: f64,
    pub callouts: u32,
    pub callout_hours: f64,
    pub total: f64,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct RestoreView {
    pub incident: String,
    pub application: Option<String>,
    /// RFC 3339, UTC.
    pub opened_at: String,
    pub ttr_seconds: f64,
}

/// Someone covers a layer of a rota for a while.
#[derive(Debug, Clone, serde::Deserialize, TS)]
pub struct OverrideForm {
    pub rota: String,
    pub layer: String,
    pub person: String,
    /// RFC 3339 with an offset, or a wall-clock time in the rota's zone.
    pub from: String,
    pub to: String,
}

/// One incident as the queue lists it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct IncidentRow {
    /// `INC-42`.
    pub id: String,
    pub title: String,
    pub state: IncidentStateText,
    pub severity: SeverityText,
    pub application: Option<String>,
    pub application_name: Option<String>,
    pub team: Option<String>,
    pub team_name: Option<String>,
    /// RFC 3339, UTC.
    pub opened_at: String,
    /// Who acknowledged it (`stopline` when the engine did), once someone has.
    pub acknowledged_by: Option<String>,
    /// Who resolved it (`stopline` when it resolved itself), once it is resolved.
    pub resolved_by: Option<String>,
    /// Revenue lost per hour while it lasts (the application's exposure), in the workspace's
    /// currency; `null` without an application.
    pub exposure_per_hour: Option<u32>,
    /// A loss a person entered with a severity change: it replaces exposure × duration.
    pub loss_entered: Option<f64>,
    /// RFC 3339, UTC: when the loss stopped counting (its alerts cleared, or it resolved);
    /// `null` while it counts.
    pub loss_stopped_at: Option<String>,
    /// Its alerts firing now.
    pub firing_alerts: u32,
    /// Its alerts in all.
    pub alerts: u32,
    /// The workspace's grouping labels (`group_by`) with its values, `[name, value]`: what
    /// sets it apart from its application's other incidents.
    pub group_labels: Vec<(String, String)>,
    /// Every label of its first alert, for the queue's search.
    pub labels: std::collections::BTreeMap<String, String>,
    /// Who was paged for it or holds a role in its swarm now: the queue's "Mine".
    pub involved: Vec<String>,
}

#[derive(Debug, Clone, Copy, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStateText {
    Triggered,
    Acknowledged,
    Resolved,
}

#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, TS, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SeverityText {
    Major,
    Minor,
}

/// An error as the UI receives it: `{ "code": …, "message": … }`.
#[derive(Debug, Clone, Serialize, TS)]
pub struct CommandError {
    pub code: ErrorCode,
    pub message: String,
}

#[derive(Debug, Clone, Copy, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The incident store could not be opened or read.
    Store,
    /// Nobody has said who sits at this desktop yet.
    NoPerson,
    /// The request was understood but refused (a state that forbids it, open required steps).
    Refused,
    /// The request names something that does not exist, or lacks something it needs.
    BadInput,
    /// The config cannot be read, so people and templates are unknown.
    Config,
}

/// How the report is exported: one Markdown file, or CSV files, one per table.
#[derive(Debug, Clone, Copy, serde::Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormatText {
    Markdown,
    Csv,
}

/// Where an export went.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ExportedView {
    pub folder: String,
    /// Each file written, its whole path.
    pub files: Vec<String>,
}
