// Calls into the Rust side. Types come from bindings.ts, generated from src-tauri/src/dto.rs.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type {
  AssignForm,
  AssignedView,
  CommandError,
  DeskRoute,
  IncidentAction,
  IncidentRow,
  IncidentView,
  OnCallOverview,
  OverrideForm,
  Overview,
  ReportView,
  SettingsChange,
  SettingsView,
  SourcesView,
  UnroutedView,
} from "./bindings";

export function fetchOverview(): Promise<Overview> {
  return invoke<Overview>("overview");
}

export function fetchIncident(id: string): Promise<IncidentView> {
  return invoke<IncidentView>("incident", { id });
}

/** Does something to an incident as the person at this desktop; resolves to the incident after. */
export function act(id: string, action: IncidentAction): Promise<IncidentView> {
  return invoke<IncidentView>("act", { id, action });
}

/** Where the service desk's words (a journey, or an application id) lead; null for nowhere. */
export function deskRoute(query: string): Promise<DeskRoute | null> {
  return invoke<DeskRoute | null>("desk_route", { query });
}

/** Alerts no application claimed, and the applications to give them to. */
export function fetchUnrouted(): Promise<UnroutedView> {
  return invoke<UnroutedView>("unrouted");
}

/** Gives an unrouted alert to an application as the person at this desktop. */
export function assignAlert(form: AssignForm): Promise<AssignedView> {
  return invoke<AssignedView>("assign_alert", { form });
}

/** Opens an incident for an application as the person at this desktop. */
export function deskOpen(application: string, title: string): Promise<IncidentRow> {
  return invoke<IncidentRow>("desk_open", { application, title });
}

export function fetchSources(): Promise<SourcesView> {
  return invoke<SourcesView>("sources");
}

/** Sends a test page; resolves to what the engine knows of the notification server. */
export function testPage(): Promise<string> {
  return invoke<string>("test_page");
}

export function fetchOnCall(): Promise<OnCallOverview> {
  return invoke<OnCallOverview>("on_call");
}

/** Adds an override to a rota in the config; resolves to who is on call after it. */
export function addOverride(form: OverrideForm): Promise<OnCallOverview> {
  return invoke<OnCallOverview>("add_override", { form });
}

export function fetchSettings(): Promise<SettingsView> {
  return invoke<SettingsView>("settings");
}

/** Changes this desktop's settings; resolves to all of them after the change. */
export function saveSettings(change: SettingsChange): Promise<SettingsView> {
  return invoke<SettingsView>("save_settings", { change });
}

/** Opens an http(s) link in the person's browser; the app's window never navigates away. */
export function openLink(url: string): Promise<void> {
  return invoke<void>("open_link", { url });
}

/** A report's period (RFC 3339; `null` for the default, the last four weeks) and team. */
export type ReportQuery = { from: string | null; to: string | null; team: string | null };

/** The operability report: costs, pay, availability, times, revenue insurance. */
export function fetchReport(query: ReportQuery): Promise<ReportView> {
  return invoke<ReportView>("report", query);
}

/** The payroll table of the report as CSV, to copy. */
export function fetchPayrollCsv(query: ReportQuery): Promise<string> {
  return invoke<string>("report_csv", query);
}

/** Says who sits at this desktop. */
export function setMe(person: string): Promise<void> {
  return invoke<void>("set_me", { person });
}

/** The error code a failed invoke carries, if it is one of ours. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error) {
    return String((error as CommandError).code);
  }
  return undefined;
}

/** Calls `onChange` whenever the engine in this app changed the store (batched by the engine). */
export function onStoreChanged(onChange: () => void): Promise<UnlistenFn> {
  return listen("store-changed", () => onChange());
}

/** Calls `onOpen` with an incident id when a notification's Open button asks for it. */
export function onOpenIncident(onOpen: (id: string) => void): Promise<UnlistenFn> {
  return listen<string>("open-incident", (event) => onOpen(event.payload));
}

/** A readable message from whatever a failed invoke rejected with. */
export function errorMessage(error: unknown): string {
  if (typeof error === "object" && error !== null && "message" in error) {
    return String((error as CommandError).message);
  }
  return String(error);
}
