// Pure helpers for the queue: order, and the loss an open incident has cost so far.
import type { IncidentRow } from "./bindings";

/** My teams' incidents first; otherwise the order the store gave (newest first). */
export function myTeamsFirst(incidents: IncidentRow[], myTeams: string[]): IncidentRow[] {
  const mine = (i: IncidentRow) => (i.team !== null && myTeams.includes(i.team) ? 0 : 1);
  return incidents
    .map((incident, index) => ({ incident, index }))
    .sort((a, b) => mine(a.incident) - mine(b.incident) || a.index - b.index)
    .map(({ incident }) => incident);
}

/** Exposure × time since it opened, in whole currency units; `null` without an exposure. */
export function lossSoFar(incident: IncidentRow, now: Date): number | null {
  if (incident.exposure_per_hour === null) return null;
  const hours = Math.max(0, now.getTime() - Date.parse(incident.opened_at)) / 3_600_000;
  return Math.round(incident.exposure_per_hour * hours);
}

/** The state as a pill says it: "acknowledged by ben", "resolved by hiro", "triggered". The
 *  person is the one who made *this* state: who acknowledged an incident has nothing to do
 *  with who resolved it. */
export function stateWithWho(incident: IncidentRow): string {
  const by =
    incident.state === "resolved"
      ? incident.resolved_by
      : incident.state === "acknowledged"
        ? incident.acknowledged_by
        : null;
  return by ? `${incident.state} by ${by}` : incident.state;
}

/** `GBP 12,345`. */
export function money(amount: number, currency: string | null): string {
  const grouped = amount.toLocaleString("en-GB");
  return currency ? `${currency} ${grouped}` : grouped;
}
