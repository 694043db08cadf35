// Generated from src-tauri/src/dto.rs by `make bindings`. Do not edit by hand.

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
engine: EngineMode, };

export type EngineMode = { "mode": "starting" } | { "mode": "hosting", webhook: string, notifications: string, } | { "mode": "attached", pid: string, } | { "mode": "failed", reason: string, };

export type IncidentRow = { 
/**
 * `INC-42`.
 */
id: string, title: string, state: IncidentStateText, severity: SeverityText, application: string | null, application_name: string | null, team: string | null, team_name: string | null, 
/**
 * RFC 3339, UTC.
 */
opened_at: string, acknowledged_by: string | null, };

export type IncidentStateText = "triggered" | "acknowledged" | "resolved";

export type SeverityText = "major" | "minor";

export type CommandError = { code: ErrorCode, message: string, };

export type ErrorCode = "store";
