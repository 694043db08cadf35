import { useCallback, useEffect, useState } from "react";
import { act, errorCode, errorMessage, fetchIncident } from "./api";
import type { IncidentAction, IncidentView, StepView } from "./bindings";

type Load =
  | { kind: "loading" }
  | { kind: "failed"; message: string }
  | { kind: "loaded"; view: IncidentView };

/**
 * One incident: acknowledge or resolve it, work its Stop The Line checklist, add notes, and read
 * its timeline and alerts. Everything done here is recorded as the person at this desktop.
 * `version` changes when the store did, so the panel re-reads.
 */
export function IncidentPanel({
  id,
  version,
  onClose,
  onChanged,
}: {
  id: string;
  version: number;
  onClose: () => void;
  onChanged: () => void;
}) {
  const [load, setLoad] = useState<Load>({ kind: "loading" });
  const [problem, setProblem] = useState<{ message: string; canForce: boolean } | null>(null);
  const [note, setNote] = useState("");

  const refresh = useCallback(async () => {
    try {
      setLoad({ kind: "loaded", view: await fetchIncident(id) });
    } catch (error) {
      setLoad({ kind: "failed", message: errorMessage(error) });
    }
  }, [id]);

  useEffect(() => {
    void refresh();
  }, [refresh, version]);

  const run = async (action: IncidentAction) => {
    setProblem(null);
    try {
      const view = await act(id, action);
      setLoad({ kind: "loaded", view });
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
  const { view } = load;
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
          {incident.state}
          {incident.acknowledged_by && ` by ${incident.acknowledged_by}`}
        </span>{" "}
        {incident.team_name ?? incident.team ?? "unrouted"} ·{" "}
        {incident.application_name ?? incident.application ?? "no application"}
        {view.loss_per_hour && <> · est. loss {view.loss_per_hour}</>}
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
      <Checklist steps={view.checklist} run={run} />
      {view.roles.length > 0 && (
        <>
          <h3>Roles</h3>
          <ul className="roles">
            {view.roles.map((r) => (
              <li key={`${r.role}-${r.person}`}>
                {r.title}: {r.person}
              </li>
            ))}
          </ul>
        </>
      )}
      <h3>Timeline</h3>
      <ol className="timeline">
        {view.timeline.map((e, i) => (
          <li key={i} data-kind={e.kind}>
            <time dateTime={e.at}>{e.at.slice(11, 16)}</time> <strong>{e.who ?? "stopline"}</strong>{" "}
            {e.detail}
          </li>
        ))}
      </ol>
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
      {view.alerts.length > 0 && (
        <>
          <h3>Alerts</h3>
          <ul className="alerts">
            {view.alerts.map((a) => (
              <li key={`${a.source}/${a.fingerprint}`}>
                <strong>{a.labels.alertname ?? a.fingerprint}</strong> ({a.state}, {a.source}){" "}
                {Object.entries(a.labels)
                  .filter(([k]) => k !== "alertname")
                  .map(([k, v]) => `${k}=${v}`)
                  .join(" ")}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function Checklist({
  steps,
  run,
}: {
  steps: StepView[];
  run: (action: IncidentAction) => Promise<boolean>;
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
      <ol className="checklist">
        {steps.map((s) => (
          <li key={s.step} data-step={s.step} data-state={s.state}>
            <span className={`pill step-${s.state}`}>{s.state}</span> {s.title}
            {s.required && <span className="required"> (required)</span>}
            {/* Shown, not followed: the app's window never navigates away from Stopline. */}
            {s.runbook && (
              <span className="runbook">
                {" "}
                runbook <code>{s.runbook}</code>
              </span>
            )}
            {s.reason && <span className="reason"> — {s.reason}</span>}
            {s.changed_by && <span className="by"> · {s.changed_by}</span>}
            <span className="step-actions">
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
          </li>
        ))}
      </ol>
    </>
  );
}
