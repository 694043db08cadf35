import { useEffect, useState } from "react";
import { act, errorCode, errorMessage, fetchIncident, openLink } from "./api";
import { lossNote, lossSoFar, money, stateWithWho } from "./queue";
import type {
  AlertView,
  IncidentAction,
  IncidentView,
  LeadRoleText,
  PersonOption,
  RoleView,
  SeverityText,
  StepView,
  TimelineEntry,
} from "./bindings";
import { HubActions } from "./Hub";
import { LabelList } from "./Labels";
import { clock, when } from "./time";
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
  return (
    <section className="panel" aria-labelledby="incident-title" data-incident-panel={incident.id}>
      <header className="panel-head">
        <h2 id="incident-title">
          {incident.id} · {incident.title}
        </h2>
        <button type="button" onClick={onClose} aria-label="Close the incident">
          Close
        </button>
      </header>
      <p className="facts">
        <span className={`pill severity-${incident.severity}`}>{incident.severity}</span>{" "}
        <span className={`pill state-${incident.state}`} data-state={incident.state}>
          {stateWithWho(incident)}
        </span>{" "}
        {incident.team_name ?? incident.team ?? "unrouted"} ·{" "}
        {incident.application_name ?? incident.application ?? "no application"}
        <LossFacts view={view} />
        {view.severity_reason && <> · severity set by hand: {view.severity_reason}</>}
      </p>
      <div className="actions">
        {incident.state === "triggered" && (
          <button type="button" onClick={() => void run({ kind: "acknowledge" })}>
            Acknowledge
          </button>
        )}
        {incident.state !== "resolved" && (
          <button type="button" onClick={() => void run({ kind: "resolve", force: false })}>
            Resolve
          </button>
        )}
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
      {incident.state !== "resolved" && <SeverityChange current={incident.severity} run={run} />}
      <Checklist steps={view.checklist} people={people} run={run} readOnly={incident.state === "resolved"} />
      <Roles roles={view.roles} people={people} me={me} open={incident.state !== "resolved"} run={run} />
      <Timeline entries={view.timeline} />
      <form
        className="note"
        onSubmit={(event) => {
          event.preventDefault();
          void run({ kind: "note", text: note }).then((ok) => ok && setNote(""));
        }}
      >
        <label htmlFor="note">Add a note</label>
        <textarea id="note" value={note} onChange={(e) => setNote(e.target.value)} rows={2} />
        <button type="submit" disabled={note.trim() === ""}>
          Add note
        </button>
      </form>
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

/** What happened, oldest first, at this computer's time of day; the whole date on hovering. */
/** The loss so far, ticking while it counts: " · est. loss GBP 45,000 so far (GBP 780,000/h)";
 *  a person's figure or a loss that stopped counting says so. */
function LossFacts({ view }: { view: IncidentView }) {
  const incident = view.incident;
  const counting =
    incident.loss_entered === null && incident.loss_stopped_at === null && incident.exposure_per_hour !== null;
  const now = useNow(counting);
  const loss = lossSoFar(incident, now);
  if (loss === null) return null;
  const figure = money(loss, view.currency);
  const rate = view.loss_per_hour ? ` (${view.loss_per_hour})` : "";
  const note = lossNote(incident);
  const text =
    incident.loss_entered !== null
      ? `${figure}, entered by hand`
      : note === null
        ? `${figure} so far${rate}`
        : `${figure}${rate}, ${note.long.charAt(0).toLowerCase()}${note.long.slice(1)}`;
  return <span className="loss-facts"> · est. loss {text}</span>;
}

function Timeline({ entries }: { entries: TimelineEntry[] }) {
  return (
    <>
      <h3>Timeline</h3>
      <ol className="timeline">
        {entries.map((e, i) => (
          <li key={i} data-kind={e.kind}>
            <time dateTime={e.at} title={when(e.at)}>
              {clock(e.at)}
            </time>{" "}
            <strong>{e.who ?? "stopline"}</strong> {e.detail}
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
  return (
    <>
      <h3>Roles</h3>
      <table className="roles">
        <tbody>
          {LEAD_ROLES.map(([role, title]) => {
            const holder = roles.find((r) => r.role === role)?.person ?? null;
            return (
              <tr key={role} data-role={role}>
                <th scope="row">{title}</th>
                <td data-holder>{holder ?? "nobody yet"}</td>
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
            <td>{responders.length === 0 ? "nobody yet" : responders.map((r) => r.person).join(", ")}</td>
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
  const skip = (step: StepView) => {
    const reason = window.prompt(`Why skip "${step.title}"?`);
    if (reason && reason.trim() !== "") {
      void run({ kind: "step", step: step.step, state: "skipped", reason });
    }
  };
  return (
    <>
      <h3>Stop The Line checklist</h3>
      {readOnly && <p className="state-note">Resolved: the checklist is as it was left.</p>}
      <ol className="checklist">
        {steps.map((s) => (
          <li key={s.step} data-step={s.step} data-state={s.state}>
            <span className={`pill step-${s.state}`}>{s.state}</span> {s.title}
            {s.required && <span className="required"> (required)</span>}
            {s.runbook && (
              <span className="runbook">
                {" "}
                <WebLink url={s.runbook} label="runbook" />
              </span>
            )}
            {s.reason && <span className="reason"> — {s.reason}</span>}
            {s.changed_by && <span className="by"> · {s.changed_by}</span>}
            {readOnly && s.assignee && <span className="by"> · given to {s.assignee}</span>}
            {!readOnly && (
              <span className="step-actions">
                <select
                  aria-label={`Who does: ${s.title}`}
                  value={s.assignee ?? ""}
                  onChange={(e) =>
                    e.target.value !== "" &&
                    void run({ kind: "assign", step: s.step, person: e.target.value })
                  }
                >
                  {s.assignee === null && <option value="">unassigned</option>}
                  {people.map((p) => (
                    <option key={p.id} value={p.id}>
                      {p.name}
                    </option>
                  ))}
                </select>
                {s.state !== "doing" && s.state !== "done" && (
                  <button
                    type="button"
                    onClick={() => void run({ kind: "step", step: s.step, state: "doing", reason: null })}
                    aria-label={`Start: ${s.title}`}
                  >
                    Start
                  </button>
                )}
                {s.state !== "done" && (
                  <button
                    type="button"
                    onClick={() => void run({ kind: "step", step: s.step, state: "done", reason: null })}
                    aria-label={`Done: ${s.title}`}
                  >
                    Done
                  </button>
                )}
                {s.state !== "skipped" && s.state !== "done" && (
                  <button type="button" onClick={() => skip(s)} aria-label={`Skip: ${s.title}`}>
                    Skip
                  </button>
                )}
              </span>
            )}
          </li>
        ))}
      </ol>
    </>
  );
}
