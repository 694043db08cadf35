// Pure helpers for the queue: order, and the loss an open incident has cost so far.
import type { IncidentRow } from "./bindings";
import { clock } from "./time";

/** My teams' incidents first; otherwise the order the store gave (newest first). */
export function myTeamsFirst(incidents: IncidentRow[], myTeams: string[]): IncidentRow[] {
  const mine = (i: IncidentRow) => (i.team !== null && myTeams.includes(i.team) ? 0 : 1);
  return incidents
    .map((incident, index) => ({ incident, index }))
    .sort((a, b) => mine(a.incident) - mine(b.incident) || a.index - b.index)
    .map(({ incident }) => incident);
}

/** What it has cost, in whole currency units: the figure a person entered, else exposure × the
 *  time from opening until the loss stopped (its alerts cleared, or it resolved) or `now`;
 *  `null` without either. The engine's rule, ticking between refreshes. */
export function lossSoFar(incident: IncidentRow, now: Date): number | null {
  if (incident.loss_entered !== null) return incident.loss_entered;
  if (incident.exposure_per_hour === null) return null;
  // Counted to the whole second, so two views reading the clock a few ms apart agree.
  const end =
    incident.loss_stopped_at === null
      ? Math.floor(now.getTime() / 1000) * 1000
      : Date.parse(incident.loss_stopped_at);
  const hours = Math.max(0, end - Date.parse(incident.opened_at)) / 3_600_000;
  return Math.round(incident.exposure_per_hour * hours);
}

/** Why the loss is not exposure × time so far, said beside it (`short`) and in full (`long`);
 *  `null` while it counts. An open incident stops counting only when its alerts cleared. */
export function lossNote(incident: IncidentRow): { short: string; long: string } | null {
  if (incident.loss_entered !== null) {
    return { short: "entered", long: "Entered by hand with the severity: it replaces exposure × duration" };
  }
  if (incident.loss_stopped_at === null) return null;
  const at = clock(incident.loss_stopped_at);
  return incident.state === "resolved"
    ? { short: `stopped ${at}`, long: `Stopped counting at ${at}` }
    : { short: `stopped ${at}`, long: `Stopped counting: its alerts cleared at ${at}` };
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

/** `GBP 795.40`: always two decimals, for pay, where pence count and a column must read alike. */
export function moneyToThePenny(amount: number, currency: string | null): string {
  const grouped = amount.toLocaleString("en-GB", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return currency ? `${currency} ${grouped}` : grouped;
}
