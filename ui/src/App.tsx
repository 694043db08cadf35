import { Suspense, lazy, useEffect, useLayoutEffect, useRef, useState } from "react";
import { act, errorCode, errorMessage, fetchOverview, onOpenIncident, onStoreChanged, setMe } from "./api";
import { ServiceDesk } from "./Desk";
import { FirstRun } from "./FirstRun";
import { HubStatus } from "./Hub";
import { LineBanner } from "./Line";
import { IncidentPanel } from "./Incident";
import { OnCall } from "./OnCall";
import { Settings } from "./Settings";
import { Sources } from "./Sources";
import type { EngineMode, IncidentRow, Overview } from "./bindings";
import {
  CHIPS,
  type Chip,
  NO_FILTER,
  type QueueFilter,
  SORTS,
  type SortKey,
  filterQueue,
  lossNote,
  lossSoFar,
  money,
  myTeamsFirst,
  stateWithWho,
} from "./queue";
import { age, setLocale, when } from "./time";
import { useLoad } from "./useLoad";
import { useNow } from "./useNow";

/** Whether a key pressed on `target` belongs to it, not to the window's shortcuts: a field being
 *  typed in, and a button or link, whose Enter and Space press it. A shortcut acting then would
 *  act on the keyboard cursor's incident while the person pressed a button on another. */
function focusedOnControl(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (["INPUT", "TEXTAREA", "SELECT", "BUTTON", "SUMMARY"].includes(target.tagName)) return true;
  if (target.tagName === "A" && target.hasAttribute("href")) return true;
  const role = target.getAttribute("role");
  return role !== null && ["button", "link", "menuitem", "tab", "checkbox", "radio", "switch"].includes(role);
}

/**
 * How often the queue re-reads the store anyway: the engine's change events cover what it does,
 * this covers what others do (the CLI, another engine).
 */
export const REFRESH_MS = 5000;

// Reports bring the charting library: loaded when first opened, so the queue starts as fast.
const Reports = lazy(() => import("./Reports").then((m) => ({ default: m.Reports })));

/** The window's views, in the order of the navigation. */
const VIEWS = [
  ["queue", "Queue"],
  ["desk", "Service desk"],
  ["oncall", "On call"],
  ["sources", "Sources"],
  ["reports", "Reports"],
  ["settings", "Settings"],
] as const;
type View = (typeof VIEWS)[number][0];

export function App() {
  const [view, setView] = useState<View>("queue");
  const [selected, setSelected] = useState<string | null>(null);
  // The queue row the keyboard is on.
  const [cursor, setCursor] = useState(0);
  // What the filter bar over the queue keeps, and in which order.
  const [filter, setFilter] = useState<QueueFilter>(NO_FILTER);
  // What went wrong with the last action from the queue; `resolve` names an incident whose
  // resolve was refused for open steps, which may be resolved anyway from the banner. It belongs
  // to the view it happened in: changing view clears it.
  const [problem, setProblem] = useState<{ message: string; resolve?: string } | null>(null);
  // What another view did besides opening an incident ("the saved route also routed 5 alerts"),
  // said once in the queue it led to.
  const [notice, setNotice] = useState<string | null>(null);
  // The incident `r` asked to resolve, waiting for the person to confirm it.
  const [resolving, setResolving] = useState<{ id: string; title: string } | null>(null);
  // Bumped on every read of the queue, so the other views and an open incident re-read too.
  const [version, setVersion] = useState(0);
  // How often the queue was read, shown as `data-queue-reads`: how `make bench` and the storm
  // test see that an alert storm is a handful of updates.
  const queueReads = useRef(0);

  const { state: load, reload: refresh } = useLoad(async () => {
    const overview = await fetchOverview();
    // Dates and numbers as the workspace writes them, before anything shows them.
    setLocale(overview.locale);
    queueReads.current += 1;
    setVersion((v) => v + 1);
    // Only the first overview names one: the app was started from a notification's Open button.
    if (overview.open_incident) {
      setView("queue");
      setSelected(overview.open_incident);
    }
    return overview;
  }, []);

  useEffect(() => {
    const timer = window.setInterval(refresh, REFRESH_MS);
    const unlisten = onStoreChanged(refresh).catch(() => undefined);
    // A notification's Open button shows its incident.
    const unlistenOpen = onOpenIncident((id) => {
      setView("queue");
      setSelected(id);
    }).catch(() => undefined);
    return () => {
      window.clearInterval(timer);
      void unlisten.then((stop) => stop?.());
      void unlistenOpen.then((stop) => stop?.());
    };
  }, [refresh]);

  // The filter's loss sort reads the clock once per queue read: rows do not jump as it ticks.
  const ordered =
    load.kind === "loaded"
      ? filterQueue(myTeamsFirst(load.value.incidents, load.value.my_teams), filter, {
          me: load.value.me,
          myTeams: load.value.my_teams,
          stoppedTeams: load.value.stopped_teams,
          now: new Date(),
        })
      : [];

  /** Opens incident `id` in the panel with the queue's cursor on its row (when listed). */
  const selectWithCursor = (id: string) => {
    setSelected(id);
    const index = ordered.findIndex((incident) => incident.id === id);
    if (index >= 0) setCursor(index);
  };

  // What the keyboard acts on, current as of the last render: the listener below is added once
  // and reads it from here, so a key pressed right after an update never sees stale state.
  const latest = useRef({ ordered, cursor, selected, resolving });
  useLayoutEffect(() => {
    latest.current = { ordered, cursor, selected, resolving };
  });

  const resolveConfirmed = (id: string, force = false) => {
    setResolving(null);
    setProblem(null);
    act(id, { kind: "resolve", force }).then(refresh, (error) => {
      const refused = errorCode(error) === "refused" && !force;
      setProblem({ message: errorMessage(error), resolve: refused ? id : undefined });
      // Its checklist is where the open steps are finished: show it.
      if (refused) {
        setView("queue");
        setSelected(id);
      }
    });
  };

  const changeView = (next: View) => {
    setView(next);
    setProblem(null);
    setNotice(null);
  };

  // Keyboard first: j/k move, Enter or o opens, a acknowledges, r resolves, / searches, Escape
  // closes the incident.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const { ordered, cursor, selected, resolving } = latest.current;
      // While a resolve waits for its confirmation, only Escape (cancel) is a shortcut, and it
      // works from the question's own buttons, where the focus is.
      if (resolving) {
        if (event.key === "Escape") setResolving(null);
        return;
      }
      if (focusedOnControl(event.target)) return;
      const current = ordered[Math.min(cursor, ordered.length - 1)];
      const target = selected ?? current?.id;
      const run = (action: Parameters<typeof act>[1]) => {
        if (!target) return;
        setProblem(null);
        act(target, action).then(refresh, (error) => setProblem({ message: errorMessage(error) }));
      };
      switch (event.key) {
        case "j":
          setCursor(Math.min(cursor + 1, Math.max(ordered.length - 1, 0)));
          break;
        case "k":
          setCursor(Math.max(cursor - 1, 0));
          break;
        case "Enter":
        case "o":
          if (current) {
            setView("queue");
            setSelected(current.id);
          }
          break;
        case "a":
          run({ kind: "acknowledge" });
          break;
        case "r": {
          // Resolving cannot be undone: the keyboard asks first, naming the incident.
          if (!target) break;
          const title = ordered.find((incident) => incident.id === target)?.title ?? "";
          setResolving({ id: target, title });
          break;
        }
        case "/":
          // The queue's filter: the service desk has its own search field.
          event.preventDefault();
          setView("queue");
          window.setTimeout(() => document.getElementById("queue-filter")?.focus(), 0);
          break;
        case "Escape":
          setSelected(null);
          break;
        default:
          return;
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [refresh]);

  return (
    <div className="app" data-queue-reads={queueReads.current}>
      <header className="topbar">
        <h1>
          Stopline
          {load.kind === "loaded" && load.value.workspace && (
            <span className="workspace"> · {load.value.workspace}</span>
          )}
        </h1>
        {load.kind === "loaded" && <HubStatus hub={load.value.hub} />}
        {load.kind === "loaded" && (
          <PersonPicker overview={load.value} onChosen={refresh} />
        )}
        <button type="button" onClick={refresh} aria-label="Refresh incidents">
          Refresh
        </button>
      </header>
      <nav className="views" aria-label="Views">
        {VIEWS.map(([id, label]) => (
          <button
            key={id}
            type="button"
            aria-current={view === id ? "page" : undefined}
            onClick={() => changeView(id)}
          >
            {label}
          </button>
        ))}
      </nav>
      <main>
        {load.kind === "loading" && <p className="state">Loading incidents…</p>}
        {load.kind === "failed" && (
          <div className="state error" role="alert">
            <h2>Cannot read the incident store</h2>
            <p>{load.message}</p>
            <button type="button" onClick={refresh}>
              Try again
            </button>
          </div>
        )}
        {problem && (
          <div className="banner warning" role="alert">
            {problem.message}
            {problem.resolve && (
              <>
                {" "}
                <button type="button" onClick={() => resolveConfirmed(problem.resolve!, true)}>
                  Resolve anyway (recorded)
                </button>
              </>
            )}
          </div>
        )}
        {notice && view === "queue" && (
          <p className="banner notice" role="status">
            {notice}{" "}
            <button type="button" onClick={() => setNotice(null)}>
              Dismiss
            </button>
          </p>
        )}
        {resolving && (
          <div className="banner warning" role="alertdialog" aria-labelledby="resolve-question">
            <p id="resolve-question">
              Resolve {resolving.id}
              {resolving.title && <> “{resolving.title}”</>}? Its pages stop and it leaves the queue.
            </p>
            <button type="button" autoFocus onClick={() => resolveConfirmed(resolving.id)}>
              Resolve {resolving.id}
            </button>{" "}
            <button type="button" onClick={() => setResolving(null)}>
              Cancel
            </button>
          </div>
        )}
        {view === "queue" && (
          // The incident opens beside the queue on a wide window; on a narrow one it takes the
          // whole view, its Close button leading back (styles.css).
          <div className={selected ? "split with-incident" : "split"}>
            {load.kind === "loaded" && (
              <div className="queue-pane">
                <Queue
                  overview={load.value}
                  incidents={ordered}
                  cursor={cursor}
                  selected={selected}
                  filter={filter}
                  onFilter={(next) => {
                    setFilter(next);
                    setCursor(0);
                  }}
                  // Opened with the mouse: the keyboard cursor follows, so keys act on what is open.
                  onOpen={selectWithCursor}
                  onServiceDesk={() => setView("desk")}
                  onChanged={refresh}
                />
              </div>
            )}
            {selected && (
              <IncidentPanel
                // One panel per incident: what went wrong on one never shows on another.
                key={selected}
                id={selected}
                version={version}
                people={load.kind === "loaded" ? load.value.people : []}
                me={load.kind === "loaded" ? load.value.me : null}
                lines={load.kind === "loaded" ? load.value.stopped_lines : []}
                onClose={() => setSelected(null)}
                onChanged={refresh}
                // The queue lists the hub's number: select it, the cursor on it.
                onRenumbered={selectWithCursor}
              />
            )}
          </div>
        )}
        {load.kind === "loaded" && view === "desk" && (
          <ServiceDesk
            version={version}
            joined={load.value.hub !== null}
            onOpened={(id, said) => {
              setView("queue");
              setSelected(id);
              setNotice(said ?? null);
              refresh();
            }}
          />
        )}
        {load.kind === "loaded" && view === "oncall" && (
          <OnCall version={version} people={load.value.people} me={load.value.me} />
        )}
        {load.kind === "loaded" && view === "sources" && <Sources version={version} />}
        {load.kind === "loaded" && view === "reports" && (
          <Suspense fallback={<p className="state">Loading the reports…</p>}>
            <Reports version={version} />
          </Suspense>
        )}
        {load.kind === "loaded" && view === "settings" && (
          <Settings version={version} onPersonChosen={(person) => setMe(person).then(refresh)} />
        )}
      </main>
    </div>
  );
}

/** Whether this window's engine pages and receives alerts, in one line people can act on. */
export function EngineStatus({ engine, hubUrl = null }: { engine: EngineMode; hubUrl?: string | null }) {
  switch (engine.mode) {
    case "starting":
      return <p className="engine">Starting the engine…</p>;
    case "hosting":
      // Joined to a hub, alerts go to the hub; this desktop keeps its copy in step.
      return hubUrl ? (
        <p className="engine ok">
          Engine running, in step with the hub at <code>{hubUrl}</code> (alerts go to the hub),{" "}
          {engine.notifications}.
        </p>
      ) : (
        <p className="engine ok">
          Engine running: alerts to <code>{engine.webhook}</code>, {engine.notifications}.
        </p>
      );
    case "attached":
      return (
        <p className="banner notice engine" role="status">
          Another Stopline engine (<code>stopline serve</code>, pid {engine.pid}) runs on this data
          directory. This window shows its incidents; pages come from it, not from this window.
        </p>
      );
    case "failed":
      return (
        <div className="banner warning engine" role="alert">
          <strong>The engine is not running, so nothing is paged from here.</strong> Incidents are
          still listed.
          <pre>{engine.reason}</pre>
        </div>
      );
  }
}

/** Who sits at this desktop: what they do in the app is recorded as them. */
function PersonPicker({ overview, onChosen }: { overview: Overview; onChosen: () => void }) {
  const [problem, setProblem] = useState<string | null>(null);
  if (overview.people.length === 0) return null;
  if (overview.hub) {
    // A desktop joined to a hub acts as the person whose token it holds.
    const name = overview.people.find((p) => p.id === overview.hub!.person)?.name;
    return (
      <span className="me" data-me={overview.hub.person}>
        You are {name ?? overview.hub.person} (signed in to the hub)
      </span>
    );
  }
  return (
    <label className="me">
      You are{" "}
      <select
        value={overview.me ?? ""}
        onChange={(event) => {
          setProblem(null);
          setMe(event.target.value).then(onChosen, (error) => setProblem(errorMessage(error)));
        }}
      >
        {overview.me === null && <option value="">choose…</option>}
        {overview.people.map((p) => (
          <option key={p.id} value={p.id}>
            {p.name} ({p.id})
          </option>
        ))}
      </select>
      {problem && <span role="alert"> {problem}</span>}
    </label>
  );
}

function Queue({
  overview,
  incidents,
  cursor,
  selected,
  filter,
  onFilter,
  onOpen,
  onServiceDesk,
  onChanged,
}: {
  overview: Overview;
  /** The first-run card chose who sits here: read the queue again. */
  onChanged: () => void;
  /** The rows the filter kept, in its order. */
  incidents: IncidentRow[];
  cursor: number;
  selected: string | null;
  filter: QueueFilter;
  onFilter: (filter: QueueFilter) => void;
  onOpen: (id: string) => void;
  onServiceDesk: () => void;
}) {
  // The loss ticks: re-render every second.
  const now = useNow();
  const filtering = filter.text.trim() !== "" || filter.chips.length > 0;
  return (
    <>
      <FirstRun overview={overview} onChosen={onChanged} />
      <EngineStatus engine={overview.engine} hubUrl={overview.hub?.url ?? null} />
      {overview.notice && (
        <p className="banner notice" role="status">
          {overview.notice}
        </p>
      )}
      {overview.config_error && (
        <div className="banner warning" role="alert">
          <strong>The config at {overview.config_path} has problems.</strong> Incidents are still
          listed; fix it and run <code>stopline check</code>.
          <pre>{overview.config_error}</pre>
        </div>
      )}
      {overview.stopped_lines.map((line) => (
        <LineBanner key={line.team} line={line} />
      ))}
      {overview.offline_sources.length > 0 && (
        <div className="banner warning offline" role="status">
          {overview.offline_sources.map((line) => (
            <p key={line}>Alert source {line}.</p>
          ))}
          <p>
            Everything here keeps working; what waits reaches the source by itself when it is back.
          </p>
        </div>
      )}
      {overview.unrouted_alerts > 0 && (
        <p className="banner notice unrouted">
          {overview.unrouted_alerts === 1 ? "1 alert" : `${overview.unrouted_alerts} alerts`}{" "}
          matched no application.{" "}
          <button type="button" onClick={onServiceDesk}>
            Route them in the service desk
          </button>
        </p>
      )}
      <h2 className="section-title">
        Open incidents{" "}
        <span className="count" data-shown={incidents.length}>
          {filtering ? `${incidents.length} of ${overview.incidents.length}` : overview.incidents.length}
        </span>
        <span className="keys">j/k move · Enter open · a acknowledge · r resolve · / filter</span>
      </h2>
      {overview.incidents.length === 0 ? (
        <div className="state empty">
          <p>
            <strong>No open incidents.</strong> Every line is running.
          </p>
          <p>
            A customer reporting a problem?{" "}
            <button type="button" onClick={onServiceDesk}>
              Open an incident from the service desk
            </button>
          </p>
        </div>
      ) : (
        <>
          <FilterBar
            filter={filter}
            onFilter={onFilter}
            onOpenFirst={() => incidents[0] && onOpen(incidents[0].id)}
            canBeMine={overview.me !== null}
          />
          {incidents.length === 0 ? (
            <p className="state" role="status">
              No open incident matches the filter.{" "}
              <button type="button" onClick={() => onFilter(NO_FILTER)}>
                Clear the filter
              </button>
            </p>
          ) : (
            <IncidentTable
              incidents={incidents}
              now={now}
              onOpen={onOpen}
              cursor={cursor}
              selected={selected}
              currency={overview.currency}
              stoppedTeams={overview.stopped_teams}
              myTeams={overview.my_teams}
              people={overview.people}
            />
          )}
        </>
      )}
    </>
  );
}

/** Free text over title, application, team and labels; chips; an order. `/` comes here, and
 *  Enter opens the first row kept. */
function FilterBar({
  filter,
  onFilter,
  onOpenFirst,
  canBeMine,
}: {
  filter: QueueFilter;
  onFilter: (filter: QueueFilter) => void;
  onOpenFirst: () => void;
  /** "Mine" needs to know who sits here. */
  canBeMine: boolean;
}) {
  const toggle = (chip: Chip) =>
    onFilter({
      ...filter,
      chips: filter.chips.includes(chip) ? filter.chips.filter((c) => c !== chip) : [...filter.chips, chip],
    });
  return (
    <div className="filter-bar" role="search" aria-label="Filter the queue">
      <input
        id="queue-filter"
        type="search"
        value={filter.text}
        placeholder="Filter by title, application, team or label (/)"
        aria-label="Filter incidents by title, application, team or label"
        onChange={(event) => onFilter({ ...filter, text: event.target.value })}
        onKeyDown={(event) => {
          if (event.key === "Enter") {
            event.preventDefault();
            onOpenFirst();
          } else if (event.key === "Escape") {
            // Out of the field, the queue's keys work again; a second Escape closes the incident.
            event.currentTarget.blur();
          }
        }}
      />
      <span className="chips">
        {CHIPS.map(([chip, label]) => (
          <button
            key={chip}
            type="button"
            className="chip"
            aria-pressed={filter.chips.includes(chip)}
            disabled={chip === "mine" && !canBeMine}
            title={chip === "mine" && !canBeMine ? "Say who you are (top right) first" : undefined}
            onClick={() => toggle(chip)}
          >
            {label}
          </button>
        ))}
      </span>
      <label className="sort">
        Sort{" "}
        <select
          value={filter.sort}
          onChange={(event) => onFilter({ ...filter, sort: event.target.value as SortKey })}
        >
          {SORTS.map(([key, label]) => (
            <option key={key} value={key}>
              {label}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}

function IncidentTable({
  incidents,
  now,
  onOpen,
  cursor,
  selected,
  currency,
  stoppedTeams,
  myTeams,
  people,
}: {
  incidents: IncidentRow[];
  now: Date;
  onOpen: (id: string) => void;
  cursor: number;
  selected: string | null;
  currency: string | null;
  stoppedTeams: string[];
  myTeams: string[];
  people: { id: string; name: string }[];
}) {
  const body = useRef<HTMLTableSectionElement>(null);
  // The keyboard's row stays in view as j/k move it, also beside an open incident.
  useEffect(() => {
    const row = body.current?.querySelector<HTMLElement>("tr.cursor");
    row?.scrollIntoView?.({ block: "nearest" });
  }, [cursor]);
  return (
    <table className="incidents">
      <thead>
        <tr>
          <th scope="col">Incident</th>
          <th scope="col">Severity</th>
          <th scope="col">State</th>
          <th scope="col" className="beside-hidden">
            Team
          </th>
          <th scope="col" className="wide-only">
            Application
          </th>
          <th scope="col">Title</th>
          <th scope="col" className="beside-hidden">
            Alerts
          </th>
          <th scope="col">Age</th>
          <th scope="col">Est. loss so far</th>
          <th scope="col" className="wide-only">
            Line
          </th>
        </tr>
      </thead>
      <tbody ref={body}>
        {incidents.map((incident, index) => (
          <tr
            key={incident.id}
            data-incident={incident.id}
            aria-selected={index === cursor}
            aria-current={incident.id === selected ? "true" : undefined}
            className={[
              index === cursor ? "cursor" : "",
              incident.team !== null && myTeams.includes(incident.team) ? "mine" : "",
              incident.id === selected ? "open" : "",
            ].join(" ")}
          >
            <td className="id">
              <button type="button" className="link" onClick={() => onOpen(incident.id)}>
                {incident.id}
              </button>
            </td>
            <td>
              <span className={`pill severity-${incident.severity}`}>{incident.severity}</span>
            </td>
            <td>
              <span className={`pill state-${incident.state}`}>{stateWithWho(incident, people)}</span>
            </td>
            <td className="beside-hidden">{incident.team_name ?? incident.team ?? "unrouted"}</td>
            <td className="wide-only">{incident.application_name ?? incident.application ?? "unrouted"}</td>
            <td className="title">
              {/* Long alert names are cut to the column; the whole title shows on hover. */}
              <span className="title-text" title={incident.title}>
                {incident.title}
              </span>
              {incident.group_labels.length > 0 && (
                <span className="group-labels" aria-label="Grouped by">
                  {incident.group_labels.map(([name, value]) => (
                    <code key={name} className="label">
                      {name}={value}
                    </code>
                  ))}
                </span>
              )}
            </td>
            <td className="firing beside-hidden" title={`${incident.firing_alerts} of ${incident.alerts} alerts firing`}>
              {incident.alerts === 0 ? "—" : `${incident.firing_alerts} firing`}
            </td>
            <td>
              <time dateTime={incident.opened_at} title={`opened ${when(incident.opened_at)}`}>
                {age(incident.opened_at, now)}
              </time>
            </td>
            <td className="loss">
              {(() => {
                const loss = lossSoFar(incident, now);
                const note = lossNote(incident);
                if (loss === null) return "—";
                return (
                  <>
                    {money(loss, currency)}
                    {note && (
                      <small className="loss-note" title={note.long}>
                        {" "}
                        {note.short}
                      </small>
                    )}
                  </>
                );
              })()}
            </td>
            <td className="wide-only">
              {incident.team === null ? (
                "—"
              ) : stoppedTeams.includes(incident.team) ? (
                <span className="pill line-stopped">stopped</span>
              ) : (
                <span className="pill line-running">running</span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
