// Pure helpers for the queue: order, and the loss an open incident has cost so far.
import type { IncidentRow } from "./bindings";
import { clock, locale } from "./time";

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
export function stateWithWho(
  incident: IncidentRow,
  people: { id: string; name: string }[] = [],
): string {
  const by =
    incident.state === "resolved"
      ? incident.resolved_by
      : incident.state === "acknowledged"
        ? incident.acknowledged_by
        : null;
  return by ? `${incident.state} by ${nameOf(people, by)}` : incident.state;
}

/** `GBP 12,345`. */
export function money(amount: number, currency: string | null): string {
  const grouped = amount.toLocaleString(locale(), { maximumFractionDigits: 0 });
  return currency ? `${currency} ${grouped}` : grouped;
}

/** `GBP 795.40`: always two decimals, for pay, where pence count and a column must read alike. */
export function moneyToThePenny(amount: number, currency: string | null): string {
  const grouped = amount.toLocaleString(locale(), { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return currency ? `${currency} ${grouped}` : grouped;
}

/** The queue's quick filters, each a chip that narrows the list. */
export const CHIPS = [
  ["mine", "Mine"],
  ["my_teams", "My teams"],
  ["triggered", "Triggered"],
  ["major", "Major"],
  ["stopped", "Line stopped"],
] as const;
export type Chip = (typeof CHIPS)[number][0];

/** How the queue may be ordered besides its own order (my teams first, newest first). */
export const SORTS = [
  ["", "My teams first, newest"],
  ["severity", "Severity"],
  ["loss", "Loss so far"],
  ["age", "Oldest first"],
] as const;
export type SortKey = (typeof SORTS)[number][0];

export type QueueFilter = { text: string; chips: Chip[]; sort: SortKey };
export const NO_FILTER: QueueFilter = { text: "", chips: [], sort: "" };

/** What a filter is judged against, beside the rows. */
export type FilterContext = {
  me: string | null;
  myTeams: string[];
  stoppedTeams: string[];
  now: Date;
};

/** The words a row is found by: id, title, application and team (ids and names), its labels as
 *  `name=value` and the values alone. Lower case. */
function haystack(incident: IncidentRow): string[] {
  const words = [
    incident.id,
    incident.title,
    incident.application,
    incident.application_name,
    incident.team,
    incident.team_name,
    ...Object.entries(incident.labels).flatMap(([k, v]) => [`${k}=${v}`, v]),
  ];
  return words.filter((w): w is string => w !== null).map((w) => w.toLowerCase());
}

/** Whether a row passes the filter's text: every word typed is in one of its fields. */
export function matchesText(incident: IncidentRow, text: string): boolean {
  const terms = text.toLowerCase().split(/\s+/).filter((t) => t !== "");
  if (terms.length === 0) return true;
  const fields = haystack(incident);
  return terms.every((term) => fields.some((field) => field.includes(term)));
}

function passesChip(incident: IncidentRow, chip: Chip, context: FilterContext): boolean {
  switch (chip) {
    case "mine":
      return (
        context.me !== null &&
        (incident.involved.includes(context.me) || incident.acknowledged_by === context.me)
      );
    case "my_teams":
      return incident.team !== null && context.myTeams.includes(incident.team);
    case "triggered":
      return incident.state === "triggered";
    case "major":
      return incident.severity === "major";
    case "stopped":
      return incident.team !== null && context.stoppedTeams.includes(incident.team);
  }
}

/** The rows the filter keeps, in the order it asks for (stable: ties keep the queue's order). */
export function filterQueue(
  incidents: IncidentRow[],
  filter: QueueFilter,
  context: FilterContext,
): IncidentRow[] {
  const kept = incidents.filter(
    (incident) =>
      matchesText(incident, filter.text) &&
      filter.chips.every((chip) => passesChip(incident, chip, context)),
  );
  const by = (key: (incident: IncidentRow) => number) =>
    kept
      .map((incident, index) => ({ incident, index, key: key(incident) }))
      .sort((a, b) => b.key - a.key || a.index - b.index)
      .map(({ incident }) => incident);
  switch (filter.sort) {
    case "":
      return kept;
    case "severity":
      // Major before minor; within each, triggered before acknowledged.
      return by((i) => (i.severity === "major" ? 2 : 0) + (i.state === "triggered" ? 1 : 0));
    case "loss":
      return by((i) => lossSoFar(i, context.now) ?? -1);
    case "age":
      return by((i) => -Date.parse(i.opened_at));
  }
}

/** A person's name from the config, or the id when the config does not name them. */
export function nameOf(people: { id: string; name: string }[], id: string | null): string | null {
  if (id === null) return null;
  return people.find((p) => p.id === id)?.name ?? id;
}
