// Calls into the Rust side. The commands, their wire names and argument keys, the events' names
// and the types all come from bindings.ts, generated from src-tauri: nothing here is spelled by
// hand, so a renamed command or event fails the typecheck instead of failing at run time.
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import {
  commands,
  events,
  type AssignForm,
  type CommandError,
  type ExportFormatText,
  type HubConnectForm,
  type IncidentAction,
  type OverrideForm,
  type RemoveOverrideForm,
  type SettingsChange,
} from "./bindings";
import { when } from "./time";

export const fetchOverview = () => commands.overview();

export const fetchIncident = (id: string) => commands.incident(id);

/** Does something to an incident as the person at this desktop; resolves to the incident after. */
export const act = (id: string, action: IncidentAction) => commands.act(id, action);

/** Where the service desk's words (a journey, or an application id) lead; null for nowhere. */
export const deskRoute = (query: string) => commands.deskRoute(query);

/** Alerts no application claimed, and the applications to give them to. */
export const fetchUnrouted = () => commands.unrouted();

/** Gives an unrouted alert to an application as the person at this desktop. */
export const assignAlert = (form: AssignForm) => commands.assignAlert(form);

/** Opens an incident for an application as the person at this desktop. */
export const deskOpen = (application: string, title: string) =>
  commands.deskOpen(application, title);

/** Adds a customer's words, and the desk's reference for them, to an open incident. */
export const deskReport = (incident: string, words: string, reference: string) =>
  commands.deskReport(incident, words, reference);

export const fetchSources = () => commands.sources();

/** Sends a test page; resolves to what the engine knows of the notification server. */
export const testPage = () => commands.testPage();

export const fetchOnCall = () => commands.onCall();

/** Adds an override to a rota in the config; resolves to who is on call after it. */
export const addOverride = (form: OverrideForm) => commands.addOverride(form);

/** Removes an override from a rota in the config; resolves to who is on call after it. */
export const removeOverride = (form: RemoveOverrideForm) => commands.removeOverride(form);

export const fetchSettings = () => commands.settings();

/** Changes this desktop's settings; resolves to all of them after the change. */
export const saveSettings = (change: SettingsChange) => commands.saveSettings(change);

/** Opens an http(s) link in the person's browser; the app's window never navigates away. */
export const openLink = (url: string) => commands.openLink(url);

/** Joins a team hub (the engine restarts on the replica); answers the settings after. */
export const hubConnect = (form: HubConnectForm) => commands.hubConnect(form);

/** Leaves the team hub; `discardWaiting` leaves even with actions not yet on the hub. */
export const hubDisconnect = (discardWaiting: boolean) => commands.hubDisconnect(discardWaiting);

/** A report's period (RFC 3339; `null` for the default, the last four weeks) and team. */
export type ReportQuery = { from: string | null; to: string | null; team: string | null };

/** The operability report: costs, pay, availability, times, revenue insurance. */
export const fetchReport = (query: ReportQuery) =>
  commands.report(query.from, query.to, query.team);

/** The payroll table of the report as CSV, to copy. */
/** Writes the report as files (Markdown, or CSV one per table) into the documents folder. */
export const exportReport = (query: ReportQuery, format: ExportFormatText) =>
  commands.exportReport(query.from, query.to, query.team, format);

export const fetchPayrollCsv = (query: ReportQuery) =>
  commands.reportCsv(query.from, query.to, query.team);

/** Says who sits at this desktop. */
export const setMe = (person: string) => commands.setMe(person);

/** Calls `onChange` whenever the engine in this app changed the store (batched by the engine). */
export function onStoreChanged(onChange: () => void): Promise<UnlistenFn> {
  return listen(events.storeChanged, () => onChange());
}

/** Calls `onOpen` with an incident id when a notification's Open button asks for it. */
export function onOpenIncident(onOpen: (id: string) => void): Promise<UnlistenFn> {
  return listen<string>(events.openIncident, (event) => onOpen(event.payload));
}

/** The error code a failed invoke carries, if it is one of ours. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error) {
    return String((error as CommandError).code);
  }
  return undefined;
}

// An RFC 3339 time as the engine writes it into messages: `2026-12-02T20:18:57.104Z`.
const ISO_TIME = /\b\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)/g;

/** A readable message from whatever a failed invoke rejected with. The engine's messages carry
 *  times in UTC, as the command line prints them; here they read in this computer's zone, as
 *  every other time in the window does. */
export function errorMessage(error: unknown): string {
  const text =
    typeof error === "object" && error !== null && "message" in error
      ? String((error as CommandError).message)
      : String(error);
  return text.replace(ISO_TIME, (iso) => (Number.isNaN(Date.parse(iso)) ? iso : when(iso)));
}
