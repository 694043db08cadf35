// Generated from src-tauri/src/dto.rs and src-tauri/src/commands.rs by `make bindings`.
// Do not edit by hand.

import { invoke } from "@tauri-apps/api/core";

export type Overview = { 
/**
 * The workspace's name; `null` when the config cannot be read.
 */
workspace: string | null, config_path: string, 
/**
 * Something the user should know about this start, such as the demo workspace being written.
 */
notice: string | null, 
/**
 * Why the config cannot be read; incidents are still listed.
 */
config_error: string | null, 
/**
 * Open incidents, newest first.
 */
incidents: Array<IncidentRow>, 
/**
 * Whether this app runs the engine, or shows another engine's data.
 */
engine: EngineMode, 
/**
 * Who sits at this desktop: what the app does, it does as them. `null` until chosen.
 */
me: string | null, 
/**
 * Everyone in the config, to choose from.
 */
people: Array<PersonOption>, 
/**
 * The workspace's currency code, for loss figures.
 */
currency: string | null, 
/**
 * The teams the person at this desktop belongs to: their incidents come first.
 */
my_teams: Array<string>, 
/**
 * Teams whose line an incident holds stopped now.
 */
stopped_teams: Array<string>, 
/**
 * The same lines, with since when and which incidents hold each.
 */
stopped_lines: Array<StoppedLine>, 
/**
 * Whether any alert ever reached this desktop's store: until one has, the queue offers to
 * connect Alertmanager.
 */
has_alerts: boolean, 
/**
 * How dates, times and numbers read (`[workspace] locale`, a language tag); `null`: British
 * English (`en-GB`).
 */
locale: string | null, 
/**
 * Alerts no application claimed: the service desk's queue (`stopline unrouted`).
 */
unrouted_alerts: number, 
/**
 * Sources that cannot be reached or have actions waiting, as one line each:
 * `am: offline since 10:42 GMT, 3 actions waiting`.
 */
offline_sources: Array<string>, 
/**
 * An incident to open at once (the app was started from a notification's Open button);
 * given by the first overview only.
 */
open_incident: string | null, 
/**
 * The team hub this desktop joined; `null` when it works alone.
 */
hub: HubView | null, };

export type PersonOption = { id: string, name: string, };

export type StoppedLine = { team: string, team_name: string, 
/**
 * RFC 3339, UTC: when the current stop began.
 */
since: string, 
/**
 * The incidents holding it, oldest first.
 */
incidents: Array<string>, };

export type IncidentView = { incident: IncidentRow, 
/**
 * Why a person set the severity, when one did.
 */
severity_reason: string | null, 
/**
 * The application's exposure, such as `GBP 780,000/h`.
 */
loss_per_hour: string | null, 
/**
 * The workspace's currency code, for the loss so far; `null` without a config.
 */
currency: string | null, 
/**
 * Oldest first.
 */
timeline: Array<TimelineEntry>, 
/**
 * Empty before the swarm starts (at the acknowledgement).
 */
checklist: Array<StepView>, 
/**
 * Who holds which role now.
 */
roles: Array<RoleView>, alerts: Array<AlertView>, 
/**
 * On a desktop joined to a hub: the person's actions on this incident the hub has not
 * confirmed (pending) or refused, newest first.
 */
hub_actions: Array<HubActionRow>, 
/**
 * What the header shows first; the same figures as `stopline incident show --json`.
 */
situation: SituationView, };

export type SituationView = { 
/**
 * RFC 3339, UTC: the moment the figures are for.
 */
as_of: string, 
/**
 * The application's availability target, in percent.
 */
target_percent: number | null, 
/**
 * The share of this calendar week's tolerable unavailability used so far, in percent.
 */
budget_used_percent: number | null, 
/**
 * Unavailable this week so far, and what the target tolerates over the week, in seconds.
 */
unavailable_seconds: number | null, tolerable_seconds: number | null, 
/**
 * Each person paged, once, first page first.
 */
paged: Array<PersonAt>, acknowledged: PersonAt | null, 
/**
 * Whom escalation pages next, and when; `null` once it stopped or ran out.
 */
next_page: NextPageView | null, 
/**
 * Who holds the rota's second layer now.
 */
secondary: SecondaryView | null, 
/**
 * The first alert's summary, runbook and dashboard.
 */
first_alert: AlertBriefView | null, };

export type PersonAt = { id: string, name: string, 
/**
 * RFC 3339, UTC.
 */
at: string, };

export type NextPageView = { 
/**
 * RFC 3339, UTC.
 */
at: string, 
/**
 * Empty when nobody holds the step's layer then.
 */
people: Array<PersonOption>, };

export type SecondaryView = { id: string, name: string, rota: string, layer: string, };

export type AlertBriefView = { name: string, summary: string | null, runbook: string | null, dashboard: string | null, };

export type TimelineEntry = { 
/**
 * RFC 3339, UTC.
 */
at: string, 
/**
 * `null` for Stopline's own entries.
 */
who: string | null, kind: TimelineKindText, detail: string, };

export type TimelineKindText = "opened" | "acknowledged" | "resolved" | "note" | "alerts" | "paging" | "checklist" | "role" | "severity";

export type StepView = { step: string, title: string, required: boolean, runbook: string | null, state: StepStateText, assignee: string | null, reason: string | null, changed_by: string | null, changed_at: string | null, };

export type StepStateText = "todo" | "doing" | "done" | "skipped";

export type RoleView = { role: RoleText, title: string, person: string, since: string, };

export type RoleText = "commander" | "comms" | "scribe" | "responder";

export type AlertView = { source: string, fingerprint: string, state: AlertStateText, labels: { [key in string]: string }, annotations: { [key in string]: string }, 
/**
 * Links a source sent: the generator (`source`), Grafana's `dashboard`, `panel`, `silence`.
 */
links: { [key in string]: string }, };

export type AlertStateText = "firing" | "resolved";

export type IncidentAction = { "kind": "acknowledge" } | { "kind": "resolve", force: boolean, } | { "kind": "step", step: string, state: StepStateText, reason: string | null, } | { "kind": "note", text: string, } | { "kind": "assign", step: string, person: string, } | { "kind": "role", role: LeadRoleText, person: string, handover: boolean, } | { "kind": "join" } | { "kind": "leave" } | { "kind": "severity", severity: SeverityText, reason: string, 
/**
 * The person's estimate of the loss, used by reports instead of exposure × duration.
 */
loss: number | null, };

export type LeadRoleText = "commander" | "comms" | "scribe";

export type SettingsView = { 
/**
 * Who sits at this desktop; `null` until chosen.
 */
me: string | null, people: Array<PersonOption>, 
/**
 * Whether teammates' pages show here, as ordinary notifications.
 */
teammates: boolean, 
/**
 * More pages than this within a minute become one summary notification.
 */
flood_threshold: number, 
/**
 * Whether this desktop chose the two above (`true`) or the config's `[notifications]` decides.
 */
notifications_chosen_here: boolean, 
/**
 * Whether Stopline starts, in the tray, when this person logs in.
 */
start_at_login: boolean, 
/**
 * Where that is set up, or why it cannot be on this system.
 */
start_at_login_detail: string, 
/**
 * The team hub this desktop joined; `null` when it works alone.
 */
hub: HubView | null, 
/**
 * This build: `0.1.0 (commit 1a2b3c4d5e6f)`.
 */
version: string, };

export type HubView = { url: string, 
/**
 * The person whose token this desktop holds: everything here is done as them.
 */
person: string, desktop_id: string, 
/**
 * `null` until the engine first reached (or failed to reach) the hub.
 */
connected: boolean | null, 
/**
 * Since when connected, or offline (RFC 3339, UTC).
 */
since: string | null, 
/**
 * Why the hub cannot be reached.
 */
error: string | null, 
/**
 * The person's actions saved here that the hub has not decided yet.
 */
waiting: number, 
/**
 * The latest actions the hub refused, newest first.
 */
refused: Array<HubActionRow>, };

export type HubActionRow = { action: string, incident: string | null, 
/**
 * When the person took it (RFC 3339, UTC).
 */
at: string, status: HubActionStatus, 
/**
 * The hub's reason, for a refusal.
 */
reason: string | null, };

export type HubActionStatus = "pending" | "applied" | "refused";

export type HubConnectForm = { url: string, token: string, 
/**
 * Plain http beyond loopback (the token travels in the clear).
 */
insecure_plaintext: boolean, };

export type SettingsChange = { teammates: boolean | null, flood_threshold: number | null, start_at_login: boolean | null, 
/**
 * Forget this desktop's notification choices: the config decides again.
 */
reset_notifications: boolean, };

export type OverrideForm = { rota: string, layer: string, person: string, 
/**
 * RFC 3339 with an offset, or a wall-clock time in the rota's zone.
 */
from: string, to: string, };

export type RotaTimelineView = { id: string, name: string, teams: Array<string>, 
/**
 * Whether it covers one of my teams.
 */
mine: boolean, layers: Array<TimelineLayerView>, 
/**
 * Its overrides not over before the window starts, each removable where overrides are.
 */
overrides: Array<OverrideView>, };

export type TimelineLayerView = { layer: string, 
/**
 * In order; gaps are times nobody holds the layer.
 */
shifts: Array<ShiftView>, };

export type OverrideView = { layer: string, person: string, person_name: string, 
/**
 * RFC 3339, UTC.
 */
from: string, to: string, };

export type RemoveOverrideForm = { rota: string, layer: string, person: string, 
/**
 * RFC 3339.
 */
from: string, to: string, };

export type UnroutedView = { 
/**
 * Newest first.
 */
alerts: Array<UnroutedAlert>, applications: Array<ApplicationOption>, };

export type UnroutedAlert = { source: string, fingerprint: string, state: AlertStateText, labels: { [key in string]: string }, 
/**
 * The `summary` annotation, when the alert has one.
 */
summary: string | null, 
/**
 * RFC 3339, UTC.
 */
last_seen: string, 
/**
 * The label a route saved from it matches on, `[name, value]` (`service=…`): alerts with
 * the same are routed together. `null` when it has none of the routing labels.
 */
route_by: [string, string] | null, };

export type ApplicationOption = { id: string, name: string, team_name: string, };

export type AssignForm = { source: string, fingerprint: string, application: string, save: boolean, };

export type AssignedView = { 
/**
 * The incident the alert now belongs to; `null` for an alert that is no longer firing.
 */
incident: string | null, 
/**
 * The `[[routes]]` rule added to the config, when one was saved.
 */
saved_route: string | null, 
/**
 * Other waiting unrouted alerts the saved rule matched, routed with it.
 */
also_routed: number, };

export type ReportView = { 
/**
 * RFC 3339, UTC: the period `[from, to)`.
 */
from: string, to: string, currency: string, 
/**
 * The teams to choose from (delivery teams), for the filter.
 */
all_teams: Array<PersonOption>, teams: Array<TeamCostView>, applications: Array<ApplicationReportView>, people: Array<PersonPayView>, 
/**
 * Incidents restored in the period, oldest first: time to restore over time.
 */
restores: Array<RestoreView>, warnings: Array<string>, };

export type ExportFormatText = "markdown" | "csv";

export type ExportedView = { folder: string, 
/**
 * Each file written, its whole path.
 */
files: Array<string>, };

export type TeamCostView = { team: string, team_name: string, pay_model: string, standby: number, callout: number, total: number, lines: Array<CostLineView>, };

export type CostLineView = { application: string, application_name: string, standby: number, callout: number, };

export type ApplicationReportView = { application: string, name: string, team: string, target_percent: number, 
/**
 * Over the whole period.
 */
availability_percent: number, unavailable_seconds: number, 
/**
 * Unavailable time as a share of the tolerable unavailability over the period, in percent:
 * above 100 the target was missed.
 */
budget_used_percent: number, weeks_met: number, weeks: number, tta_median_seconds: number | null, ttr_median_seconds: number | null, ttr_p90_seconds: number | null, projected_loss: number, actual_loss: number, 
/**
 * (projected − actual) / projected; `null` without a projection.
 */
effectiveness: number | null, on_call_cost: number, fit_model: string, fit_advice: string, };

export type PersonPayView = { person: string, name: string, standby_hours: number, callouts: number, callout_hours: number, total: number, };

export type RestoreView = { incident: string, application: string | null, 
/**
 * RFC 3339, UTC.
 */
opened_at: string, ttr_seconds: number, };

export type DeskRoute = { application: string, application_name: string, 
/**
 * Such as `99.9%`.
 */
target: string, team: string, team_name: string, 
/**
 * Each layer of the team's rotas (its own, then its domain's), with who holds it now.
 */
on_call: Array<OnCallView>, 
/**
 * The application's open incidents, newest first: where a customer's report most likely
 * belongs, rather than in a new incident.
 */
open_incidents: Array<IncidentRow>, };

export type SourcesView = { sources: Array<SourceRow>, 
/**
 * Where Alertmanager and Grafana post: this app's engine, or the configured address.
 */
webhook: string, 
/**
 * The bearer token senders put in `Authorization: Bearer …`.
 */
token: string, 
/**
 * What the engine found of this desktop's notification server.
 */
notifications: string, };

export type SourceRow = { name: string, kind: string, url: string | null, state: SourceStateText, last_success: string | null, last_error: string | null, failing_since: string | null, 
/**
 * Outbox actions (silences to create, extend or expire) waiting to reach it.
 */
waiting: number, 
/**
 * When the oldest of them was queued.
 */
waiting_since: string | null, 
/**
 * Actions it refused for good, set aside.
 */
abandoned: number, };

export type SourceStateText = "ok" | "failing" | "unknown";

export type OnCallOverview = { rotas: Array<RotaView>, 
/**
 * The shifts of the person at this desktop over the next 28 days.
 */
my_shifts: Array<ShiftView>, 
/**
 * RFC 3339, UTC: the window the timeline draws, from the start of today for 14 days.
 */
timeline_from: string, timeline_to: string, 
/**
 * Each rota's layers as bars over that window, the rotas of my teams first.
 */
timeline: Array<RotaTimelineView>, 
/**
 * Whether overrides can be removed here (a joined desktop's are the hub's).
 */
overrides_editable: boolean, 
/**
 * The address of my shifts' calendar feed, for a calendar app; `null` when nobody is
 * chosen at this desktop or the engine cannot say.
 */
my_calendar_url: string | null, };

export type RotaView = { id: string, name: string, kind: RotaKindText, teams: Array<string>, layers: Array<LayerView>, };

export type RotaKindText = "team" | "domain";

export type LayerView = { layer: string, now: ShiftView | null, next: ShiftView | null, };

export type ShiftView = { rota: string, layer: string, person: string, 
/**
 * The person's name from the config (the id when it names nobody).
 */
person_name: string, 
/**
 * RFC 3339, UTC.
 */
since: string, until: string, is_override: boolean, };

export type OnCallView = { rota: string, layer: string, 
/**
 * `null` before the layer's rotation begins.
 */
person: string | null, };

export type EngineMode = { "mode": "starting" } | { "mode": "hosting", webhook: string, notifications: string, } | { "mode": "attached", pid: string, } | { "mode": "failed", reason: string, };

export type IncidentRow = { 
/**
 * `INC-42`.
 */
id: string, title: string, state: IncidentStateText, severity: SeverityText, application: string | null, application_name: string | null, team: string | null, team_name: string | null, 
/**
 * RFC 3339, UTC.
 */
opened_at: string, 
/**
 * Who acknowledged it (`stopline` when the engine did), once someone has.
 */
acknowledged_by: string | null, 
/**
 * Who resolved it (`stopline` when it resolved itself), once it is resolved.
 */
resolved_by: string | null, 
/**
 * Revenue lost per hour while it lasts (the application's exposure), in the workspace's
 * currency; `null` without an application.
 */
exposure_per_hour: number | null, 
/**
 * A loss a person entered with a severity change: it replaces exposure × duration.
 */
loss_entered: number | null, 
/**
 * RFC 3339, UTC: when the loss stopped counting (its alerts cleared, or it resolved);
 * `null` while it counts.
 */
loss_stopped_at: string | null, 
/**
 * Its alerts firing now.
 */
firing_alerts: number, 
/**
 * Its alerts in all.
 */
alerts: number, 
/**
 * The workspace's grouping labels (`group_by`) with its values, `[name, value]`: what
 * sets it apart from its application's other incidents.
 */
group_labels: Array<[string, string]>, 
/**
 * Every label of its first alert, for the queue's search.
 */
labels: { [key in string]: string }, 
/**
 * Who was paged for it or holds a role in its swarm now: the queue's "Mine".
 */
involved: Array<string>, };

export type IncidentStateText = "triggered" | "acknowledged" | "resolved";

export type SeverityText = "major" | "minor";

export type CommandError = { code: ErrorCode, message: string, };

export type ErrorCode = "store" | "no_person" | "refused" | "bad_input" | "config";

/** The app's commands, typed: the only way the window calls the Rust side. */
export const commands = {
  /** The workspace and its open incidents. A broken config does not hide incidents: it is reported beside them. */
  overview: (): Promise<Overview> => invoke<Overview>("overview"),
  /** One incident with its timeline, checklist, roles and alerts. */
  incident: (id: string): Promise<IncidentView> => invoke<IncidentView>("incident", { id }),
  /** Does something to an incident as the person at this desktop; answers with the incident as it is after. */
  act: (id: string, action: IncidentAction): Promise<IncidentView> => invoke<IncidentView>("act", { id, action }),
  /** Says who sits at this desktop (the same setting as `stopline whoami --set`). */
  setMe: (person: string): Promise<null> => invoke<null>("set_me", { person }),
  /** Where the service desk's words lead: an application's id or name, alert labels (`service=payment-gateway`) through the application mapping, else a customer journey. `null` when nothing matches. */
  deskRoute: (query: string): Promise<DeskRoute | null> => invoke<DeskRoute | null>("desk_route", { query }),
  /** The service desk adds a customer's words (and its reference for them, which may be empty) to an open incident as a note, as the person at this desktop, instead of opening another. */
  deskReport: (incident: string, words: string, reference: string): Promise<IncidentRow> => invoke<IncidentRow>("desk_report", { incident, words, reference }),
  /** The service desk opens an incident for an application, as the person at this desktop: the owning team's checklist starts and its on-call person is paged. */
  deskOpen: (application: string, title: string): Promise<IncidentRow> => invoke<IncidentRow>("desk_open", { application, title }),
  /** The alert sources' health, the webhook to post to and its token, and notifications. */
  sources: (): Promise<SourcesView> => invoke<SourcesView>("sources"),
  /** Sends a test page through this desktop's notification server; answers what happened. */
  testPage: (): Promise<string> => invoke<string>("test_page"),
  /** Who is on call on every layer of every rota, now and next, and my next four weeks. */
  onCall: (): Promise<OnCallOverview> => invoke<OnCallOverview>("on_call"),
  /** Removes an override from a rota in the config, as the person at this desktop; answers with who is on call after it. */
  removeOverride: (form: RemoveOverrideForm): Promise<OnCallOverview> => invoke<OnCallOverview>("remove_override", { form }),
  /** Adds an override to a rota in the config, as the person at this desktop; answers with who is on call after it. */
  addOverride: (form: OverrideForm): Promise<OnCallOverview> => invoke<OnCallOverview>("add_override", { form }),
  /** This desktop's settings: who sits here, how pages show, whether Stopline starts at login. */
  settings: (): Promise<SettingsView> => invoke<SettingsView>("settings"),
  /** Changes this desktop's settings; answers with all of them after the change. */
  saveSettings: (change: SettingsChange): Promise<SettingsView> => invoke<SettingsView>("save_settings", { change }),
  /** Joins the team hub at `form.url` with the person's token (kept in the OS keyring, as `stopline connect` does): the engine stops, the desktop joins, and the engine starts again on the replica. Answers the settings after. */
  hubConnect: (form: HubConnectForm): Promise<SettingsView> => invoke<SettingsView>("hub_connect", { form }),
  /** Leaves the team hub (as `stopline disconnect`): refused while actions wait for the hub unless `discard_waiting`. Answers the settings after. */
  hubDisconnect: (discardWaiting: boolean): Promise<SettingsView> => invoke<SettingsView>("hub_disconnect", { discardWaiting }),
  /** Opens a web link of an alert or a runbook in the person's browser: the app's own window never navigates away from Stopline. Only http and https links are opened. */
  openLink: (url: string): Promise<null> => invoke<null>("open_link", { url }),
  /** Alerts no application claimed: the service desk's queue. */
  unrouted: (): Promise<UnroutedView> => invoke<UnroutedView>("unrouted"),
  /** Gives an unrouted alert to an application as the person at this desktop (as `stopline assign` does): a firing alert opens or joins an incident for its team, which is paged. */
  assignAlert: (form: AssignForm): Promise<AssignedView> => invoke<AssignedView>("assign_alert", { form }),
  /** The operability report over `[from, to)` (RFC 3339; by default the four weeks to now) for every team, or one (an empty team is all). */
  report: (from: string | null, to: string | null, team: string | null): Promise<ReportView> => invoke<ReportView>("report", { from, to, team }),
  /** Writes the report as files (Markdown, or CSV one file per table) into the person's documents folder (`Stopline reports`, else the data directory's `reports`); answers where. */
  exportReport: (from: string | null, to: string | null, team: string | null, format: ExportFormatText): Promise<ExportedView> => invoke<ExportedView>("export_report", { from, to, team, format }),
  /** One table of the report as CSV (the payroll table), to copy. */
  reportCsv: (from: string | null, to: string | null, team: string | null): Promise<string> => invoke<string>("report_csv", { from, to, team }),
};

/** The events the window listens to, by name. */
export const events = {
  /** The engine in this app changed the store (batched: a storm is a few of these). */
  storeChanged: "store-changed",
  /** A notification's Open button, or a second start, asks to show an incident (its id). */
  openIncident: "open-incident",
} as const;
