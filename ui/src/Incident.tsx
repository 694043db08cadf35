import { useEffect, useRef, useState } from "react";
import { act, errorCode, errorMessage, fetchIncident, openLink } from "./api";
import { LineBanner } from "./Line";
import { lossNote, lossSoFar, money, nameOf, stateWithWho } from "./queue";
import type {
  AlertView,
  IncidentAction,
  IncidentView,
  LeadRoleText,
  PersonOption,
  RoleView,
  SeverityText,
  SituationView,
  StepView,
  StoppedLine,
  TimelineEntry,
} from "./bindings";
import { HubActions } from "./Hub";
import { LabelList } from "./Labels";
import { age, clock, when } from "./time";
import { useLoad } from "./useLoad";
import { useNow } from "./useNow";

/**
 * One incident: acknowledge or resolve it, work its Stop The Line checklist, add notes, and read
 * its timeline and alerts. Everything done here is recorded as the person at this desktop.
 * `version` changes when the store did, so the panel re-reads.
 */
export function IncidentPanel({
  id,
  version,
  people,
  me,
  lines = [],
  onClose,
  onChanged,
  onRenumbered,
}: {
  id: string;
  version: number;
  /** Everyone in the config: who steps are given to and roles go to. */
  people: PersonOption[];
  /** Who sits at this desktop. */
  me: string | null;
  /** The lines stopped now: this incident's team's, if it holds it, is shown at the top. */
  lines?: StoppedLine[];
  onClose: () => void;
  onChanged: () => void;
  /**
   * The incident answered under another number: a copy this desktop opened (or routed an alert
   * to) before the hub had it, since folded into the hub's incident, which `id` now leads to.
   */
  onRenumbered?: (id: string) => void;
}) {
  const { state: load, set } = useLoad(() => fetchIncident(id), [id, version]);
  const shownId = load.kind === "loaded" ? load.value.incident.id : null;
  useEffect(() => {
    if (shownId !== null && shownId !== id) onRenumbered?.(shownId);
  }, [shownId, id, onRenumbered]);
  const [problem, setProblem] = useState<{ message: string; canForce: boolean } | null>(null);
  const [note, setNote] = useState("");
  // Opening an incident moves the focus into it (its title), once, when it has loaded.
  const heading = useRef<HTMLHeadingElement>(null);
  const loaded = load.kind === "loaded";
  useEffect(() => {
    if (loaded) heading.current?.focus();
  }, [loaded]);

  const run = async (action: IncidentAction) => {
    setProblem(null);
    try {
      set(await act(id, action));
      onChanged();
      return true;
    } catch (error) {
      const refusedResolve = action.kind === "resolve" && errorCode(error) === "refused";
      setProblem({ message: errorMessage(error), canForce: refusedResolve && !action.force });
      return false;
    }
  };

  if (load.kind === "loading") return <section className="panel">Loading {id}…</section>;
  if (load.kind === "failed") {
    return (
      <section className="panel" role="alert">
        <p>Cannot read {id}: {load.message}</p>
        <button type="button" onClick={onClose}>
          Back to the queue
        </button>
      </section>
    );
  }
  const view = load.value;
  const incident = view.incident;
  const open = incident.state !== "resolved";
  const line = lines.find((l) => l.incidents.includes(incident.id));
  const restart = view.checklist.find((step) => step.step === RESTART_THE_LINE);
  // "Restart the line" is offered where it matters: when its step is the one required step left.
  const onlyRestartLeft =
    restart !== undefined &&
    restart.state !== "done" &&
    view.checklist.every((step) => step === restart || !step.required || isClosed(step));
  return (
    <section className="panel" aria-labelledby="incident-title" data-incident-panel={incident.id}>
      <header className="panel-head">
        <h2 id="incident-title" ref={heading} tabIndex={-1}>
          {incident.id} · {incident.title}
        </h2>
        <button type="button" className="close" onClick={onClose} aria-label="Close the incident">
          <span className="narrow-only">← Queue</span>
          <span className="wide-only">Close</span>
        </button>
      </header>
      <p className="facts">
        <span className={`pill severity-${incident.severity}`}>{incident.severity}</span>{" "}
        <span className={`pill state-${incident.state}`} data-state={incident.state}>
          {stateWithWho(incident, people)}
        </span>{" "}
        {incident.team_name ?? incident.team ?? "unrouted"} ·{" "}
        {incident.application_name ?? incident.application ?? "no application"}
        {view.severity_reason && <> · severity set by hand: {view.severity_reason}</>}
      </p>
      {line && (
        <LineBanner line={line}>
          {open && onlyRestartLeft && (
            <>
              {" "}
              <button
                type="button"
                onClick={() => void run({ kind: "step", step: RESTART_THE_LINE, state: "done", reason: null })}
              >
                Restart the line
              </button>
            </>
          )}
        </LineBanner>
      )}
      <Situation view={view} />
      <div className="actions">
        {incident.state === "triggered" && (
          <button type="button" className="primary" onClick={() => void run({ kind: "acknowledge" })}>
            Acknowledge
          </button>
        )}
        {open && (
          <button type="button" onClick={() => void run({ kind: "resolve", force: false })}>
            Resolve
          </button>
        )}
        <CopyStatus view={view} people={people} line={line} />
      </div>
      <HubActions actions={view.hub_actions} />
      {problem && (
        <div className="banner warning" role="alert">
          {problem.message}
          {problem.canForce && (
            <button type="button" onClick={() => void run({ kind: "resolve", force: true })}>
              Resolve anyway (recorded)
            </button>
          )}
        </div>
      )}
      <Roles roles={view.roles} people={people} me={me} open={open} run={run} />
      <Checklist steps={view.checklist} people={people} run={run} readOnly={!open} />
      {open && <SeverityChange current={incident.severity} run={run} />}
      <form
        className="note"
        onSubmit={(event) => {
          event.preventDefault();
          void run({ kind: "note", text: note }).then((ok) => ok && setNote(""));
        }}
      >
        <label htmlFor="note">Add a note or a status update</label>
        <textarea id="note" value={note} onChange={(e) => setNote(e.target.value)} rows={2} />
        <button type="submit" disabled={note.trim() === ""}>
          Add note
        </button>
      </form>
      <Timeline entries={view.timeline} people={people} />
      <h3>Alerts</h3>
      {view.alerts.length === 0 ? (
        <p className="state">No alerts: the service desk opened this incident.</p>
      ) : (
        <ul className="alerts">
          {view.alerts.map((a) => (
            <Alert key={`${a.source}/${a.fingerprint}`} alert={a} />
          ))}
        </ul>
      )}
    </section>
  );
}

/** The step whose "done" restarts the team's line (the built-in checklist's id). */
export const RESTART_THE_LINE = "restart-the-line";

/** Done or skipped: nothing more to do on it. */
function isClosed(step: StepView): boolean {
  return step.state === "done" || step.state === "skipped";
}

/** "2.1 %" with one decimal below 10, whole above. */
function percent(value: number): string {
  return value < 10 ? `${value.toFixed(1)} %` : `${Math.round(value)} %`;
}

/** In how long `at` comes: "in 3m", "now" once due. */
function inHowLong(at: string, now: Date): string {
  const minutes = Math.ceil((Date.parse(at) - now.getTime()) / 60000);
  if (minutes <= 0) return "now";
  if (minutes < 60) return `in ${minutes}m`;
  return `in ${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

/**
 * What a commander reads first: how long, how bad (the target, this week's budget, the loss),
 * who was paged and who has it, what escalation does next, who backs up, and the first alert's
 * summary with its runbook and dashboard. The figures are `stopline incident show --json`'s
 * `situation`; age and loss tick here between reads.
 */
function Situation({ view }: { view: IncidentView }) {
  const incident = view.incident;
  const s: SituationView = view.situation;
  const open = incident.state !== "resolved";
  const now = useNow(open);
  const first = s.first_alert;
  return (
    <section className="situation" aria-label="The situation">
      <dl className="figures">
        <div data-figure="age">
          <dt>Open for</dt>
          <dd>
            <time dateTime={incident.opened_at} title={`opened ${when(incident.opened_at)}`}>
              {open ? age(incident.opened_at, now) : age(incident.opened_at, new Date(s.as_of))}
            </time>
          </dd>
        </div>
        {s.target_percent !== null && (
          <div data-figure="budget">
            <dt>Target {s.target_percent} %</dt>
            <dd>
              {s.budget_used_percent === null ? (
                "—"
              ) : (
                <>
                  <span data-budget-used={s.budget_used_percent.toFixed(1)}>
                    {percent(s.budget_used_percent)}
                  </span>{" "}
                  of this week's budget
                  <meter
                    min={0}
                    max={100}
                    low={50}
                    high={90}
                    optimum={0}
                    value={Math.min(s.budget_used_percent, 100)}
                    aria-label="Share of this week's unavailability budget used"
                  />
                </>
              )}
            </dd>
          </div>
        )}
        <LossFigure view={view} />
        <div data-figure="paged">
          <dt>Paged</dt>
          <dd>
            {s.paged.length === 0
              ? "nobody yet"
              : s.paged.map((p, i) => (
                  <span key={p.id} data-person={p.id}>
                    {i > 0 && ", "}
                    {p.name} <time dateTime={p.at} title={when(p.at)}>{clock(p.at)}</time>
                  </span>
                ))}
          </dd>
        </div>
        <div data-figure="acknowledged">
          <dt>{s.acknowledged ? "Acknowledged" : "Next page"}</dt>
          <dd>
            {s.acknowledged ? (
              <span data-person={s.acknowledged.id}>
                {s.acknowledged.name}{" "}
                <time dateTime={s.acknowledged.at} title={when(s.acknowledged.at)}>
                  {clock(s.acknowledged.at)}
                </time>
              </span>
            ) : s.next_page ? (
              <span data-next-page={s.next_page.at}>
                {s.next_page.people.length === 0
                  ? "nobody on the next layer"
                  : s.next_page.people.map((p) => p.name).join(", ")}{" "}
                <time dateTime={s.next_page.at} title={when(s.next_page.at)}>
                  {clock(s.next_page.at)}
                </time>{" "}
                ({inHowLong(s.next_page.at, now)})
              </span>
            ) : open ? (
              "no more pages: every step paged"
            ) : (
              "—"
            )}
          </dd>
        </div>
        <div data-figure="secondary">
          <dt>Secondary</dt>
          <dd>
            {s.secondary ? (
              <span data-person={s.secondary.id} title={`${s.secondary.layer} on ${s.secondary.rota}`}>
                {s.secondary.name}
              </span>
            ) : (
              "none"
            )}
          </dd>
        </div>
      </dl>
      {first && (
        <div className="first-alert">
          <p>
            <strong>{first.name}</strong>
            {first.summary && <>: {first.summary}</>}
          </p>
          {(first.runbook || first.dashboard) && (
            <p className="links">
              {first.runbook && <LinkButton url={first.runbook} label="Runbook" />}
              {first.dashboard && <LinkButton url={first.dashboard} label="Dashboard" />}
            </p>
          )}
        </div>
      )}
    </section>
  );
}

/** A button that opens a web link in the person's browser. */
function LinkButton({ url, label }: { url: string; label: string }) {
  const [problem, setProblem] = useState<string | null>(null);
  return (
    <>
      <button type="button" title={url} onClick={() => openLink(url).catch((e) => setProblem(errorMessage(e)))}>
        {label}
      </button>
      {problem && <span role="alert"> {problem}</span>}
    </>
  );
}

/** The loss so far and per hour, ticking while it counts. */
function LossFigure({ view }: { view: IncidentView }) {
  const incident = view.incident;
  const counting =
    incident.loss_entered === null && incident.loss_stopped_at === null && incident.exposure_per_hour !== null;
  const now = useNow(counting);
  const loss = lossSoFar(incident, now);
  if (loss === null) return null;
  const note = lossNote(incident);
  return (
    <div data-figure="loss">
      <dt>Est. loss</dt>
      <dd>
        <span className="loss-facts">{money(loss, view.currency)}</span>
        {incident.loss_entered !== null
          ? " (entered by hand)"
          : note
            ? ` (${note.short})`
            : view.loss_per_hour
              ? ` so far, ${view.loss_per_hour}`
              : " so far"}
      </dd>
    </div>
  );
}

/** The status update stakeholders get: state, impact, who leads, the line, the last note. */
export function statusUpdate(view: IncidentView, people: PersonOption[], line: StoppedLine | undefined, now: Date): string {
  const incident = view.incident;
  const name = (id: string | null) => nameOf(people, id);
  const commander = view.roles.find((r) => r.role === "commander");
  const loss = lossSoFar(incident, now);
  const lastNote = [...view.timeline].reverse().find((e) => e.kind === "note");
  const lines = [
    `${incident.id} ${incident.title}`,
    `Status: ${stateWithWho(incident, people)}, ${incident.severity}, open ${age(incident.opened_at, now)}` +
      ` (since ${clock(incident.opened_at)}).`,
    `Affected: ${incident.application_name ?? incident.application ?? "unknown"} (${incident.team_name ?? incident.team ?? "unrouted"}).`,
  ];
  if (loss !== null) {
    lines.push(`Estimated loss so far: ${money(loss, view.currency)}${view.loss_per_hour ? ` (${view.loss_per_hour})` : ""}.`);
  }
  lines.push(`Commander: ${commander ? name(commander.person) : "not named yet"}.`);
  if (line) lines.push(`The ${line.team_name} line is stopped: feature deploys wait.`);
  if (lastNote) lines.push(`Latest: ${lastNote.detail} (${name(lastNote.who)}, ${clock(lastNote.at)}).`);
  return lines.join("\n");
}

/** Copies the status update for stakeholders; shows it to copy by hand when the clipboard
 *  cannot be written. */
function CopyStatus({ view, people, line }: { view: IncidentView; people: PersonOption[]; line: StoppedLine | undefined }) {
  const [said, setSaid] = useState<string | null>(null);
  const [text, setText] = useState<string | null>(null);
  const copy = () => {
    const update = statusUpdate(view, people, line, new Date());
    setText(null);
    const clipboard = navigator.clipboard;
    if (!clipboard) {
      setText(update);
      return;
    }
    clipboard.writeText(update).then(
      () => setSaid("Status update copied."),
      () => setText(update),
    );
  };
  return (
    <>
      <button type="button" onClick={copy}>
        Copy status update
      </button>
      {said && (
        <span role="status" className="hint">
          {said}
        </span>
      )}
      {text !== null && (
        <textarea className="status-update" readOnly rows={6} value={text} aria-label="Status update" autoFocus />
      )}
    </>
  );
}

/** A system entry's words with each person's id, as a whole word, written as their name
 *  ("paged dmitri (primary on payments-oncall)" reads "paged Dmitri Dubois (…)"). A person's
 *  note is left exactly as they wrote it. */
export function withNames(detail: string, people: PersonOption[]): string {
  if (people.length === 0) return detail;
  const byId = new Map(people.map((p) => [p.id, p.name]));
  // Ids are slugs: letters, digits, hyphens and underscores; a word boundary is anything else.
  return detail.replace(/[A-Za-z0-9_-]+/g, (word) => byId.get(word) ?? word);
}

/** What happened, oldest first: people's notes stand out from Stopline's own entries. */
function Timeline({ entries, people }: { entries: TimelineEntry[]; people: PersonOption[] }) {
  return (
    <>
      <h3>Timeline</h3>
      <ol className="timeline">
        {entries.map((e, i) => (
          <li key={i} data-kind={e.kind} className={e.kind === "note" ? "entry note-entry" : "entry system-entry"}>
            <time dateTime={e.at} title={when(e.at)}>
              {clock(e.at)}
            </time>{" "}
            <strong>{e.who === null ? "Stopline" : nameOf(people, e.who)}</strong>{" "}
            <span className="detail">{e.kind === "note" ? e.detail : withNames(e.detail, people)}</span>
          </li>
        ))}
      </ol>
    </>
  );
}

/** Whether a text is a web link the app may hand to the browser. */
export function isWebLink(text: string): boolean {
  return /^https?:\/\/\S+$/.test(text.trim());
}

/** A link opened in the person's browser; the app's own window never navigates away. */
function WebLink({ url, label }: { url: string; label: string }) {
  const [problem, setProblem] = useState<string | null>(null);
  if (!isWebLink(url)) return <code>{url}</code>;
  return (
    <>
      <button
        type="button"
        className="link"
        title={url}
        onClick={() => openLink(url).catch((error) => setProblem(errorMessage(error)))}
      >
        {label}
      </button>
      {problem && <span role="alert"> {problem}</span>}
    </>
  );
}

/** Annotations that hold links: Prometheus rules commonly carry these. */
const LINK_ANNOTATIONS = ["runbook_url", "dashboard_url", "runbook", "dashboard"];

function Alert({ alert }: { alert: AlertView }) {
  const links: [string, string][] = [
    ...Object.entries(alert.links),
    ...Object.entries(alert.annotations).filter(
      ([k, v]) => LINK_ANNOTATIONS.includes(k) && isWebLink(v),
    ),
  ];
  const notes = Object.entries(alert.annotations).filter(([k]) => !LINK_ANNOTATIONS.includes(k));
  return (
    <li data-alert={alert.fingerprint}>
      <strong>{alert.labels.alertname ?? alert.fingerprint}</strong> ({alert.state}, {alert.source})
      <LabelList labels={alert.labels} />
      {notes.length > 0 && (
        <dl className="annotations">
          {notes.map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>{v}</dd>
            </div>
          ))}
        </dl>
      )}
      {links.length > 0 && (
        <p className="links">
          {links.map(([k, v]) => (
            <span key={k}>
              <WebLink url={v} label={k.replace(/_url$/, "")} />{" "}
            </span>
          ))}
        </p>
      )}
    </li>
  );
}

/** Sets the severity by hand: the reason is required, and money no longer revises it after. */
function SeverityChange({
  current,
  run,
}: {
  current: SeverityText;
  run: (action: IncidentAction) => Promise<boolean>;
}) {
  const other = current === "major" ? "minor" : "major";
  const [reason, setReason] = useState("");
  const [loss, setLoss] = useState("");
  const lossValid = loss === "" || /^[0-9]+$/.test(loss);
  return (
    <details className="severity-change">
      <summary>Change severity</summary>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          const figure = loss === "" ? null : Number(loss);
          void run({ kind: "severity", severity: other, reason, loss: figure }).then(
            (ok) => ok && (setReason(""), setLoss("")),
          );
        }}
      >
        <label htmlFor="severity-reason">Why is this {other}?</label>
        <input
          id="severity-reason"
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          placeholder="Only internal users are affected"
        />
        <label htmlFor="severity-loss">Estimated loss (optional)</label>
        <input
          id="severity-loss"
          inputMode="numeric"
          value={loss}
          onChange={(e) => setLoss(e.target.value.trim())}
          placeholder="reports use exposure × duration"
          aria-invalid={!lossValid}
        />
        <button type="submit" disabled={reason.trim() === "" || !lossValid}>
          Make it {other}
        </button>
      </form>
    </details>
  );
}

const LEAD_ROLES: [LeadRoleText, string][] = [
  ["commander", "Incident commander"],
  ["comms", "Communications lead"],
  ["scribe", "Scribe"],
];

/** Who leads the swarm, who else is in it, and joining or leaving it. */
function Roles({
  roles,
  people,
  me,
  open,
  run,
}: {
  roles: RoleView[];
  people: PersonOption[];
  me: string | null;
  open: boolean;
  run: (action: IncidentAction) => Promise<boolean>;
}) {
  const responders = roles.filter((r) => r.role === "responder");
  const joined = me !== null && responders.some((r) => r.person === me);
  const commander = roles.find((r) => r.role === "commander")?.person ?? null;
  return (
    <>
      <h3 className="with-action">
        Roles
        {open && me !== null && commander !== me && (
          <button
            type="button"
            className="primary"
            // One click: a handover when someone else commands now.
            onClick={() => void run({ kind: "role", role: "commander", person: me, handover: commander !== null })}
          >
            Take command
          </button>
        )}
      </h3>
      <table className="roles">
        <tbody>
          {LEAD_ROLES.map(([role, title]) => {
            const holder = roles.find((r) => r.role === role)?.person ?? null;
            return (
              <tr key={role} data-role={role}>
                <th scope="row">{title}</th>
                <td data-holder={holder ?? ""}>{holder === null ? "nobody yet" : nameOf(people, holder)}</td>
                <td>
                  {open && (
                    <RolePicker role={role} title={title} holder={holder} people={people} run={run} />
                  )}
                </td>
              </tr>
            );
          })}
          <tr data-role="responder">
            <th scope="row">Responders</th>
            <td>
              {responders.length === 0
                ? "nobody yet"
                : responders.map((r) => nameOf(people, r.person)).join(", ")}
            </td>
            <td>
              {open && me !== null && (
                <button type="button" onClick={() => void run({ kind: joined ? "leave" : "join" })}>
                  {joined ? "Leave the swarm" : "Join the swarm"}
                </button>
              )}
            </td>
          </tr>
        </tbody>
      </table>
    </>
  );
}

function RolePicker({
  role,
  title,
  holder,
  people,
  run,
}: {
  role: LeadRoleText;
  title: string;
  holder: string | null;
  people: PersonOption[];
  run: (action: IncidentAction) => Promise<boolean>;
}) {
  const [person, setPerson] = useState("");
  return (
    <form
      className="inline"
      onSubmit={(event) => {
        event.preventDefault();
        // Naming someone while another holds the role is a handover, recorded as one.
        void run({ kind: "role", role, person, handover: holder !== null }).then(
          (ok) => ok && setPerson(""),
        );
      }}
    >
      <select
        aria-label={`${title}: who`}
        value={person}
        onChange={(e) => setPerson(e.target.value)}
      >
        <option value="">choose…</option>
        {people
          .filter((p) => p.id !== holder)
          .map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
      </select>{" "}
      <button type="submit" disabled={person === ""}>
        {holder === null ? "Name" : "Hand over"}
      </button>
    </form>
  );
}

function Checklist({
  steps,
  people,
  run,
  readOnly,
}: {
  steps: StepView[];
  people: PersonOption[];
  run: (action: IncidentAction) => Promise<boolean>;
  /** A resolved incident's checklist is its record: shown, not changed. */
  readOnly: boolean;
}) {
  if (steps.length === 0) {
    return (
      <p className="state">
        The Stop The Line checklist starts when the incident is acknowledged.
      </p>
    );
  }
  const required = steps.filter((s) => s.required);
  const done = required.filter((s) => s.state === "done").length;
  const skipped = required.filter((s) => s.state === "skipped").length;
  return (
    <>
      <h3 className="with-action">
        Stop The Line checklist{" "}
        <span className="progress" data-progress={`${done}/${required.length}`}>
          {done} of {required.length} required done{skipped > 0 && `, ${skipped} skipped`}
        </span>
        <progress max={required.length} value={done + skipped} aria-label="Required steps closed" />
      </h3>
      {readOnly && <p className="state-note">Resolved: the checklist is as it was left.</p>}
      <ol className="checklist">
        {steps.map((s) => (
          <ChecklistStep key={s.step} step={s} people={people} run={run} readOnly={readOnly} />
        ))}
      </ol>
    </>
  );
}

const STEP_STATE_WORDS: Record<StepView["state"], string> = {
  todo: "to do",
  doing: "doing",
  done: "done",
  skipped: "skipped",
};

/** One step: its state in colour, what it is, who does it, and its actions in one column. A
 *  skip asks for its reason in place. */
function ChecklistStep({
  step: s,
  people,
  run,
  readOnly,
}: {
  step: StepView;
  people: PersonOption[];
  run: (action: IncidentAction) => Promise<boolean>;
  readOnly: boolean;
}) {
  const [skipping, setSkipping] = useState(false);
  const [reason, setReason] = useState("");
  return (
    <li data-step={s.step} data-state={s.state} className={`step step-row-${s.state}`}>
      <span className={`pill step-${s.state}`}>{STEP_STATE_WORDS[s.state]}</span>
      <span className="step-text">
        {s.title}
        {s.required && <span className="required"> (required)</span>}
        {s.runbook && (
          <span className="runbook">
            {" "}
            <WebLink url={s.runbook} label="runbook" />
          </span>
        )}
        {s.reason && <span className="reason"> — {s.reason}</span>}
        {s.changed_by && <span className="by"> · {nameOf(people, s.changed_by)}</span>}
        {readOnly && s.assignee && <span className="by"> · given to {nameOf(people, s.assignee)}</span>}
      </span>
      {!readOnly && (
        <span className="step-actions">
          <select
            aria-label={`Who does: ${s.title}`}
            value={s.assignee ?? ""}
            onChange={(e) =>
              e.target.value !== "" && void run({ kind: "assign", step: s.step, person: e.target.value })
            }
          >
            {s.assignee === null && <option value="">unassigned</option>}
            {people.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
          {/* Each action keeps its column, an empty slot where it does not apply: Done is
              under Done on every row. */}
          {s.state !== "doing" && s.state !== "done" ? (
            <button
              type="button"
              onClick={() => void run({ kind: "step", step: s.step, state: "doing", reason: null })}
              aria-label={`Start: ${s.title}`}
            >
              Start
            </button>
          ) : (
            <span className="slot" />
          )}
          {s.state !== "done" ? (
            <button
              type="button"
              onClick={() => void run({ kind: "step", step: s.step, state: "done", reason: null })}
              aria-label={`Done: ${s.title}`}
            >
              Done
            </button>
          ) : (
            <span className="slot" />
          )}
          {s.state !== "skipped" && s.state !== "done" ? (
            <button
              type="button"
              aria-expanded={skipping}
              onClick={() => setSkipping(!skipping)}
              aria-label={`Skip: ${s.title}`}
            >
              Skip
            </button>
          ) : (
            <span className="slot" />
          )}
        </span>
      )}
      {skipping && !readOnly && (
        <form
          className="skip-reason"
          onSubmit={(event) => {
            event.preventDefault();
            void run({ kind: "step", step: s.step, state: "skipped", reason: reason.trim() }).then(
              (ok) => ok && (setSkipping(false), setReason("")),
            );
          }}
        >
          <input
            autoFocus
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            aria-label={`Why skip: ${s.title}`}
            placeholder="Why skip it? (required)"
            onKeyDown={(e) => e.key === "Escape" && setSkipping(false)}
          />
          <button type="submit" disabled={reason.trim() === ""}>
            Skip with this reason
          </button>
          <button type="button" onClick={() => setSkipping(false)}>
            Cancel
          </button>
        </form>
      )}
    </li>
  );
}
