import { useState } from "react";
import { assignAlert, deskOpen, deskReport, deskRoute, errorMessage, fetchUnrouted } from "./api";
import type { AssignedView, DeskRoute, UnroutedAlert, UnroutedView } from "./bindings";
import { LabelList } from "./Labels";
import { stateWithWho } from "./queue";
import { age } from "./time";
import { useLoad } from "./useLoad";

/** "just now", or "4m ago". */
function ago(since: string): string {
  const said = age(since, new Date());
  return said === "just now" ? said : `${said} ago`;
}

/**
 * The service desk opens an incident in two steps: say what is broken in the customer's words
 * (or name the application) and see where it goes, who owns it and who is on call; then open it.
 */
export function ServiceDesk({
  version,
  onOpened,
}: {
  version: number;
  /** Show incident `id`; `notice` says what else happened, for the window to show beside it. */
  onOpened: (id: string, notice?: string) => void;
}) {
  const [query, setQuery] = useState("");
  const [route, setRoute] = useState<DeskRoute | null | undefined>(undefined);
  const [title, setTitle] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  // Where the report goes: an open incident's id (the default when the application has one),
  // or "new".
  const [choice, setChoice] = useState<string>("new");
  const [words, setWords] = useState("");
  const [reference, setReference] = useState("");

  const find = async () => {
    setProblem(null);
    try {
      const found = await deskRoute(query);
      setRoute(found);
      setChoice(found?.open_incidents[0]?.id ?? "new");
      // A customer's words, not a search by labels (service=…), are what the report keeps.
      setWords(query.includes("=") ? "" : query.trim());
      if (found && title.trim() === "") setTitle(query.trim());
    } catch (error) {
      setProblem(errorMessage(error));
    }
  };

  // Done with this customer: the form starts afresh.
  const clear = () => {
    setRoute(undefined);
    setQuery("");
    setTitle("");
    setReference("");
  };

  const report = async (incident: string) => {
    setProblem(null);
    try {
      await deskReport(incident, words, reference);
      clear();
      onOpened(incident, `Customer report added to ${incident}.`);
    } catch (error) {
      setProblem(errorMessage(error));
    }
  };

  const open = async () => {
    if (!route) return;
    setProblem(null);
    try {
      const incident = await deskOpen(route.application, title);
      clear();
      onOpened(incident.id);
    } catch (error) {
      setProblem(errorMessage(error));
    }
  };

  return (
    <section className="desk" aria-labelledby="desk-title">
      <h2 id="desk-title" className="section-title">
        Service desk
      </h2>
      <form
        className="desk-search"
        onSubmit={(event) => {
          event.preventDefault();
          void find();
        }}
      >
        <label htmlFor="desk-query">
          What is broken, in the customer's words? Or which application, or an alert's labels
          (service=payment-gateway)?
        </label>
        <input
          id="desk-query"
          value={query}
          onChange={(event) => setQuery(event.target.value)}
          placeholder="Customers can't pay"
        />
        <button type="submit" disabled={query.trim() === ""}>
          Find the owner
        </button>
      </form>
      {route === null && (
        <p className="state" role="status">
          Nothing matches “{query}”. Try another word the customer used, or the application's id.
        </p>
      )}
      {route && (
        <div className="desk-route" data-route={route.application}>
          <p>
            <strong>{route.application_name}</strong> ({route.application}, target {route.target}) is
            owned by <strong data-team={route.team}>{route.team_name}</strong>.
          </p>
          {route.on_call.length > 0 ? (
            <ul className="on-call">
              {route.on_call.map((o) => (
                <li key={`${o.rota}-${o.layer}`}>
                  {o.layer} on {o.rota}: {o.person ?? "nobody yet"}
                </li>
              ))}
            </ul>
          ) : (
            <p>The team has no rota: everyone in it is paged.</p>
          )}
          {route.open_incidents.length > 0 && (
            <fieldset className="desk-choice">
              <legend>
                {route.application_name} already has {route.open_incidents.length} open incident
                {route.open_incidents.length === 1 ? "" : "s"}: most likely this is the same problem.
              </legend>
              {route.open_incidents.map((incident) => (
                <label key={incident.id} className="desk-option">
                  <input
                    type="radio"
                    name="desk-choice"
                    value={incident.id}
                    checked={choice === incident.id}
                    onChange={() => setChoice(incident.id)}
                  />{" "}
                  Add this customer report to {incident.id} “{incident.title}” ({stateWithWho(incident)},
                  opened {ago(incident.opened_at)})
                </label>
              ))}
              <label className="desk-option">
                <input
                  type="radio"
                  name="desk-choice"
                  value="new"
                  checked={choice === "new"}
                  onChange={() => setChoice("new")}
                />{" "}
                Open a new incident (pages {route.team_name} again)
              </label>
            </fieldset>
          )}
          {choice === "new" ? (
            <form
              className="desk-open"
              onSubmit={(event) => {
                event.preventDefault();
                void open();
              }}
            >
              <label htmlFor="desk-title-input">Title</label>
              <input id="desk-title-input" value={title} onChange={(event) => setTitle(event.target.value)} />
              <button type="submit" disabled={title.trim() === ""}>
                Open incident
              </button>
            </form>
          ) : (
            <form
              className="desk-open"
              onSubmit={(event) => {
                event.preventDefault();
                void report(choice);
              }}
            >
              <label htmlFor="desk-words-input">The customer's report, in their words</label>
              <textarea id="desk-words-input" rows={2} value={words} onChange={(event) => setWords(event.target.value)} />
              <label htmlFor="desk-reference-input">Reference (your ticket or call number, optional)</label>
              <input
                id="desk-reference-input"
                value={reference}
                maxLength={100}
                onChange={(event) => setReference(event.target.value)}
              />
              <button type="submit" disabled={words.trim() === ""}>
                {`Add to ${choice}`}
              </button>
            </form>
          )}
        </div>
      )}
      {problem && (
        <p className="banner warning" role="alert">
          {problem}
        </p>
      )}
      <Unrouted version={version} onOpened={onOpened} />
    </section>
  );
}

/** Alerts no application claimed: give each to its application, and save the route if wanted. */
function Unrouted({
  version,
  onOpened,
}: {
  version: number;
  onOpened: (id: string, notice?: string) => void;
}) {
  const { state, set, reload } = useLoad(fetchUnrouted, [version]);
  const [notice, setNotice] = useState<string | null>(null);
  if (state.kind === "failed") {
    return (
      <p className="banner warning" role="alert">
        {state.message}
      </p>
    );
  }
  if (state.kind === "loading") return <p className="state">Loading unrouted alerts…</p>;
  const data = state.value;
  return (
    <>
      <h2 id="unrouted-title" className="section-title">
        Unrouted alerts <span className="count">{data.alerts.length}</span>
      </h2>
      {notice && (
        <p className="banner notice" role="status">
          {notice}
        </p>
      )}
      {data.alerts.length === 0 ? (
        <p className="state">Every alert found its application.</p>
      ) : (
        <ul className="unrouted" aria-labelledby="unrouted-title">
          {data.alerts.map((alert) => (
            <UnroutedRow
              key={`${alert.source}/${alert.fingerprint}`}
              alert={alert}
              applications={data.applications}
              onAssigned={(assigned, application) => {
                set({ ...data, alerts: data.alerts.filter((a) => a !== alert) });
                const others = assigned.also_routed;
                const said =
                  others > 0
                    ? `The saved route also routed ${others} waiting alert${others === 1 ? "" : "s"} like it to ${application}.`
                    : undefined;
                // The others left the queue too: read it again.
                if (others > 0) reload();
                if (assigned.incident) onOpened(assigned.incident, said);
                else setNotice(said ?? null);
              }}
            />
          ))}
        </ul>
      )}
    </>
  );
}

function UnroutedRow({
  alert,
  applications,
  onAssigned,
}: {
  alert: UnroutedAlert;
  applications: UnroutedView["applications"];
  /** `application` is the name of the application it went to. */
  onAssigned: (assigned: AssignedView, application: string) => void;
}) {
  const [application, setApplication] = useState("");
  const [save, setSave] = useState(true);
  const [problem, setProblem] = useState<string | null>(null);
  const name = alert.labels.alertname ?? alert.fingerprint;
  return (
    <li data-unrouted={alert.fingerprint}>
      <strong>{name}</strong> ({alert.state}, {alert.source}){alert.summary && <> · {alert.summary}</>}
      <LabelList labels={alert.labels} />
      <form
        className="inline"
        onSubmit={(event) => {
          event.preventDefault();
          setProblem(null);
          assignAlert({ source: alert.source, fingerprint: alert.fingerprint, application, save }).then(
            (assigned) =>
              onAssigned(assigned, applications.find((a) => a.id === application)?.name ?? application),
            (error) => setProblem(errorMessage(error)),
          );
        }}
      >
        <select
          aria-label={`Application for ${name}`}
          value={application}
          onChange={(e) => setApplication(e.target.value)}
        >
          <option value="">belongs to…</option>
          {applications.map((a) => (
            <option key={a.id} value={a.id}>
              {a.name} ({a.team_name})
            </option>
          ))}
        </select>{" "}
        <label>
          <input type="checkbox" checked={save} onChange={(e) => setSave(e.target.checked)} /> and
          route such alerts there from now on
        </label>{" "}
        <button type="submit" disabled={application === ""}>
          Route it
        </button>
      </form>
      {problem && <p role="alert">{problem}</p>}
    </li>
  );
}
