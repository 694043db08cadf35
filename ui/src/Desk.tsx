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
  joined = false,
}: {
  version: number;
  /** Joined to a hub: routes are not saved from here, so "route all" routes each alert. */
  joined?: boolean;
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
      <Unrouted version={version} onOpened={onOpened} joined={joined} />
    </section>
  );
}

/** Unrouted alerts with the same routing label (`service=…`): a route saved from one routes
 *  them all. `key` is `name=value`, or null for the alerts with no routing label. */
type UnroutedGroupData = { key: string | null; alerts: UnroutedAlert[] };

/** Groups alerts by their routing label, biggest group first; alerts without one come last,
 *  each on its own. */
export function groupUnrouted(alerts: UnroutedAlert[]): UnroutedGroupData[] {
  const groups = new Map<string, UnroutedAlert[]>();
  const loose: UnroutedAlert[] = [];
  for (const alert of alerts) {
    if (alert.route_by === null) {
      loose.push(alert);
      continue;
    }
    const key = `${alert.route_by[0]}=${alert.route_by[1]}`;
    groups.set(key, [...(groups.get(key) ?? []), alert]);
  }
  return [
    ...[...groups.entries()]
      .sort(([a, x], [b, y]) => y.length - x.length || a.localeCompare(b))
      .map(([key, grouped]) => ({ key, alerts: grouped })),
    ...loose.map((alert) => ({ key: null, alerts: [alert] })),
  ];
}

/** How many of the unrouted alerts each view lists before "show more". */
const SHOWN_AT_ONCE = 50;

/** Alerts no application claimed, grouped by the label that would route them: give a group (or
 *  an alert) to its application, and save the route if wanted. */
function Unrouted({
  version,
  onOpened,
  joined,
}: {
  version: number;
  onOpened: (id: string, notice?: string) => void;
  joined: boolean;
}) {
  const { state, reload } = useLoad(fetchUnrouted, [version]);
  const [notice, setNotice] = useState<string | null>(null);
  const [shown, setShown] = useState(SHOWN_AT_ONCE);
  if (state.kind === "failed") {
    return (
      <p className="banner warning" role="alert">
        {state.message}
      </p>
    );
  }
  if (state.kind === "loading") return <p className="state">Loading unrouted alerts…</p>;
  const data = state.value;
  const groups = groupUnrouted(data.alerts);
  const done = (incident: string | null, said: string | undefined) => {
    // What was routed left the queue: read it again.
    reload();
    if (incident) onOpened(incident, said);
    else setNotice(said ?? null);
  };
  return (
    <>
      <h2 id="unrouted-title" className="section-title">
        Unrouted alerts <span className="count">{data.alerts.length}</span>
        {groups.length > 0 && groups.length < data.alerts.length && (
          <span className="keys">in {groups.length} groups by the label that would route them</span>
        )}
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
          {groups.slice(0, shown).map((group) =>
            group.alerts.length === 1 ? (
              <UnroutedRow
                key={`${group.alerts[0].source}/${group.alerts[0].fingerprint}`}
                alert={group.alerts[0]}
                applications={data.applications}
                joined={joined}
                onAssigned={(assigned, application) => {
                  const others = assigned.also_routed;
                  const said =
                    others > 0
                      ? `The saved route also routed ${others} waiting alert${others === 1 ? "" : "s"} like it to ${application}.`
                      : undefined;
                  done(assigned.incident, said);
                }}
              />
            ) : (
              <UnroutedGroup
                key={group.key}
                group={group}
                applications={data.applications}
                joined={joined}
                onRouted={done}
              />
            ),
          )}
        </ul>
      )}
      {groups.length > shown && (
        <button type="button" onClick={() => setShown(shown + SHOWN_AT_ONCE)}>
          Show {Math.min(SHOWN_AT_ONCE, groups.length - shown)} more
        </button>
      )}
    </>
  );
}

/** A group of alerts with the same routing label, routed at once: a route saved from the first
 *  routes the rest (on a joined desktop, where routes are saved in the hub's config, each is
 *  routed in turn). */
function UnroutedGroup({
  group,
  applications,
  joined,
  onRouted,
}: {
  group: UnroutedGroupData;
  applications: UnroutedView["applications"];
  joined: boolean;
  onRouted: (incident: string | null, said: string) => void;
}) {
  const [application, setApplication] = useState("");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const count = group.alerts.length;
  const firing = group.alerts.filter((a) => a.state === "firing").length;
  const names = [...new Set(group.alerts.map((a) => a.labels.alertname ?? a.fingerprint))];
  const routeAll = async () => {
    setProblem(null);
    setBusy(true);
    const name = applications.find((a) => a.id === application)?.name ?? application;
    try {
      const [first, ...rest] = group.alerts;
      const assigned = await assignAlert({
        source: first.source,
        fingerprint: first.fingerprint,
        application,
        save: !joined,
      });
      let incident = assigned.incident;
      let routed = 1 + assigned.also_routed;
      if (joined) {
        for (const alert of rest) {
          const next = await assignAlert({ source: alert.source, fingerprint: alert.fingerprint, application, save: false });
          incident = incident ?? next.incident;
          routed += 1;
        }
      }
      onRouted(
        incident,
        `Routed ${routed} alert${routed === 1 ? "" : "s"} with ${group.key} to ${name}` +
          (joined ? "." : "; the saved route sends the next ones there too."),
      );
    } catch (error) {
      setProblem(errorMessage(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <li className="unrouted-group" data-unrouted-group={group.key ?? ""}>
      <strong>
        <code>{group.key}</code>
      </strong>{" "}
      · {count} alerts ({firing} firing) · {names.slice(0, 3).join(", ")}
      {names.length > 3 && ` and ${names.length - 3} more`}
      <form
        className="inline"
        onSubmit={(event) => {
          event.preventDefault();
          void routeAll();
        }}
      >
        <ApplicationSelect
          label={`Application for ${group.key}`}
          applications={applications}
          value={application}
          onChange={setApplication}
        />{" "}
        <button type="submit" disabled={application === "" || busy}>
          {busy ? "Routing…" : `Route all ${count} like this`}
        </button>
      </form>
      <details>
        <summary>The alerts</summary>
        <ul>
          {group.alerts.slice(0, 20).map((alert) => (
            <li key={`${alert.source}/${alert.fingerprint}`}>
              {alert.labels.alertname ?? alert.fingerprint} ({alert.state}, {alert.source})
              {alert.summary && <> · {alert.summary}</>}
              <LabelList labels={alert.labels} />
            </li>
          ))}
        </ul>
        {count > 20 && <p className="hint">and {count - 20} more like them</p>}
      </details>
      {problem && <p role="alert">{problem}</p>}
    </li>
  );
}

/** Which application unrouted alerts belong to, with its team. */
function ApplicationSelect({
  label,
  applications,
  value,
  onChange,
}: {
  label: string;
  applications: UnroutedView["applications"];
  value: string;
  onChange: (application: string) => void;
}) {
  return (
    <select aria-label={label} value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">belongs to…</option>
      {applications.map((a) => (
        <option key={a.id} value={a.id}>
          {a.name} ({a.team_name})
        </option>
      ))}
    </select>
  );
}

function UnroutedRow({
  alert,
  applications,
  joined,
  onAssigned,
}: {
  alert: UnroutedAlert;
  applications: UnroutedView["applications"];
  joined: boolean;
  /** `application` is the name of the application it went to. */
  onAssigned: (assigned: AssignedView, application: string) => void;
}) {
  const [application, setApplication] = useState("");
  // Routes are saved from a desktop of its own; a joined one's routes live in the hub's config.
  const [save, setSave] = useState(!joined);
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
        <ApplicationSelect
          label={`Application for ${name}`}
          applications={applications}
          value={application}
          onChange={setApplication}
        />{" "}
        {!joined && (
          <label>
            <input type="checkbox" checked={save} onChange={(e) => setSave(e.target.checked)} /> and
            route such alerts there from now on
          </label>
        )}{" "}
        <button type="submit" disabled={application === ""}>
          Route it
        </button>
      </form>
      {problem && <p role="alert">{problem}</p>}
    </li>
  );
}
