import { useEffect, useState } from "react";
import {
  addOverride,
  errorMessage,
  fetchOnCall,
  fetchSettings,
  fetchSources,
  saveSettings,
  testPage,
} from "./api";
import type {
  OnCallOverview,
  PersonOption,
  SettingsChange,
  SettingsView,
  ShiftView,
  SourcesView,
} from "./bindings";
import { applyTheme, savedTheme, type Theme } from "./theme";

/** A time as people read it, in this computer's zone: `Mon 30 Nov, 09:00`. */
function when(iso: string): string {
  return new Date(iso).toLocaleString("en-GB", {
    weekday: "short",
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
  });
}

function shift(s: ShiftView | null): string {
  if (!s) return "nobody yet";
  return `${s.person}${s.is_override ? " (override)" : ""}, until ${when(s.until)}`;
}

/** Who is on call now and next, per rota and layer; my next four weeks; covering a shift. */
export function OnCall({ version, people }: { version: number; people: PersonOption[] }) {
  const [data, setData] = useState<OnCallOverview | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    fetchOnCall().then(setData, (error) => setProblem(errorMessage(error)));
  }, [version]);
  if (problem) return <p className="banner warning" role="alert">{problem}</p>;
  if (!data) return <p className="state">Loading the rotas…</p>;
  return (
    <section aria-labelledby="oncall-title">
      <h2 id="oncall-title" className="section-title">
        On call now
      </h2>
      {data.rotas.length === 0 ? (
        <p className="state">
          No rotas yet: add <code>[[rotas]]</code> to the config (docs/config.md).
        </p>
      ) : (
        <table className="incidents">
          <thead>
            <tr>
              <th scope="col">Rota</th>
              <th scope="col">Teams</th>
              <th scope="col">Layer</th>
              <th scope="col">Now</th>
              <th scope="col">Next</th>
            </tr>
          </thead>
          <tbody>
            {data.rotas.flatMap((rota) =>
              rota.layers.map((layer) => (
                <tr key={`${rota.id}-${layer.layer}`} data-rota={rota.id}>
                  <td>
                    {rota.name} {rota.kind === "domain" && <span className="pill">domain</span>}
                  </td>
                  <td>{rota.teams.join(", ")}</td>
                  <td>{layer.layer}</td>
                  <td>{shift(layer.now)}</td>
                  <td>{layer.next ? `${layer.next.person} from ${when(layer.next.since)}` : "—"}</td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      )}
      <h2 className="section-title">My shifts, next four weeks</h2>
      {data.my_shifts.length === 0 ? (
        <p className="state">None: choose who you are (top right) if that is wrong.</p>
      ) : (
        <ul className="shifts">
          {data.my_shifts.map((s) => (
            <li key={`${s.rota}-${s.layer}-${s.since}`}>
              {s.layer} on {s.rota}: {when(s.since)} to {when(s.until)}
              {s.is_override && " (override)"}
            </li>
          ))}
        </ul>
      )}
      {data.rotas.length > 0 && (
        <OverrideAdder rotas={data.rotas} people={people} onAdded={setData} />
      )}
    </section>
  );
}

/** `2026-11-27T17:00` (what a datetime-local field holds) for a moment, in this computer's zone. */
export function localInput(at: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

/**
 * Someone covers a layer for a while: written as an override beside the rota in the config,
 * which the engine picks up within seconds. Times are entered in this computer's zone.
 */
function OverrideAdder({
  rotas,
  people,
  onAdded,
}: {
  rotas: OnCallOverview["rotas"];
  people: PersonOption[];
  onAdded: (data: OnCallOverview) => void;
}) {
  const [rota, setRota] = useState(rotas[0]?.id ?? "");
  const layers = rotas.find((r) => r.id === rota)?.layers ?? [];
  const [layer, setLayer] = useState(layers[0]?.layer ?? "");
  const [person, setPerson] = useState("");
  const [from, setFrom] = useState(() => localInput(new Date()));
  const [to, setTo] = useState(() => localInput(new Date(Date.now() + 12 * 3600 * 1000)));
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | null>(null);
  const valid = (text: string) => text !== "" && !Number.isNaN(new Date(text).getTime());
  return (
    <form
      className="override"
      aria-labelledby="override-title"
      onSubmit={(event) => {
        event.preventDefault();
        setOutcome(null);
        const form = {
          rota,
          layer,
          person,
          from: new Date(from).toISOString(),
          to: new Date(to).toISOString(),
        };
        addOverride(form).then(
          (data) => {
            onAdded(data);
            setOutcome({ ok: true, text: `Added: ${person} covers ${layer} of ${rota}.` });
          },
          (error) => setOutcome({ ok: false, text: errorMessage(error) }),
        );
      }}
    >
      <h2 id="override-title" className="section-title">
        Cover a shift
      </h2>
      <label>
        Rota{" "}
        <select
          value={rota}
          onChange={(e) => {
            setRota(e.target.value);
            setLayer(rotas.find((r) => r.id === e.target.value)?.layers[0]?.layer ?? "");
          }}
        >
          {rotas.map((r) => (
            <option key={r.id} value={r.id}>
              {r.name}
            </option>
          ))}
        </select>
      </label>{" "}
      <label>
        Layer{" "}
        <select value={layer} onChange={(e) => setLayer(e.target.value)}>
          {layers.map((l) => (
            <option key={l.layer} value={l.layer}>
              {l.layer}
            </option>
          ))}
        </select>
      </label>{" "}
      <label>
        Who covers{" "}
        <select value={person} onChange={(e) => setPerson(e.target.value)}>
          <option value="">choose…</option>
          {people.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
      </label>{" "}
      <label>
        From <input type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} />
      </label>{" "}
      <label>
        To <input type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} />
      </label>{" "}
      <button type="submit" disabled={person === "" || layer === "" || !valid(from) || !valid(to)}>
        Add the override
      </button>
      {outcome && (
        <p className={outcome.ok ? "banner notice" : "banner warning"} role={outcome.ok ? "status" : "alert"}>
          {outcome.text}
        </p>
      )}
      <p className="hint">
        Written to the rota in the config as <code>[[rotas.overrides]]</code> with your name, so the
        whole team sees it; the engine picks it up within seconds.
      </p>
    </form>
  );
}

const NO_CHANGE: SettingsChange = {
  teammates: null,
  flood_threshold: null,
  start_at_login: null,
  reset_notifications: false,
};

/** Who sits here, how pages show on this desktop, starting at login, and the theme. */
export function Settings({
  version,
  onPersonChosen,
}: {
  version: number;
  onPersonChosen: (person: string) => Promise<void>;
}) {
  const [data, setData] = useState<SettingsView | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [theme, setTheme] = useState<Theme>(savedTheme);
  const [threshold, setThreshold] = useState("");
  useEffect(() => {
    fetchSettings().then(
      (view) => {
        setData(view);
        setThreshold(String(view.flood_threshold));
      },
      (error) => setProblem(errorMessage(error)),
    );
  }, [version]);
  const save = (change: Partial<SettingsChange>) => {
    setProblem(null);
    saveSettings({ ...NO_CHANGE, ...change }).then(
      (view) => {
        setData(view);
        setThreshold(String(view.flood_threshold));
      },
      (error) => setProblem(errorMessage(error)),
    );
  };
  if (!data) {
    return problem ? (
      <p className="banner warning" role="alert">
        {problem}
      </p>
    ) : (
      <p className="state">Loading the settings…</p>
    );
  }
  return (
    <section aria-labelledby="settings-title" className="settings">
      <h2 id="settings-title" className="section-title">
        Settings of this desktop
      </h2>
      {problem && (
        <p className="banner warning" role="alert">
          {problem}
        </p>
      )}
      <fieldset>
        <legend>Who sits here</legend>
        <label>
          Person{" "}
          <select
            value={data.me ?? ""}
            onChange={(e) =>
              onPersonChosen(e.target.value).then(
                () => fetchSettings().then(setData),
                (error) => setProblem(errorMessage(error)),
              )
            }
          >
            {data.me === null && <option value="">choose…</option>}
            {data.people.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name} ({p.id})
              </option>
            ))}
          </select>
        </label>
        <p className="hint">
          Their pages show here as critical notifications, and what is done in this window is
          recorded as them.
        </p>
      </fieldset>
      <fieldset>
        <legend>Notifications</legend>
        <label>
          <input
            type="checkbox"
            checked={data.teammates}
            onChange={(e) => save({ teammates: e.target.checked })}
          />{" "}
          Also show my teammates' pages (as ordinary notifications)
        </label>
        <form
          className="inline"
          onSubmit={(event) => {
            event.preventDefault();
            save({ flood_threshold: Number(threshold) });
          }}
        >
          <label>
            Pages a minute before they become one summary{" "}
            <input
              type="number"
              min={1}
              value={threshold}
              onChange={(e) => setThreshold(e.target.value)}
            />
          </label>{" "}
          <button
            type="submit"
            disabled={!/^[1-9][0-9]*$/.test(threshold) || Number(threshold) === data.flood_threshold}
          >
            Save
          </button>
        </form>
        <p className="hint" data-notifications-source>
          {data.notifications_chosen_here
            ? "Chosen on this desktop."
            : "As the config's [notifications] says."}{" "}
          {data.notifications_chosen_here && (
            <button type="button" onClick={() => save({ reset_notifications: true })}>
              Use the config's
            </button>
          )}
        </p>
      </fieldset>
      <fieldset>
        <legend>Starting</legend>
        <label>
          <input
            type="checkbox"
            checked={data.start_at_login}
            onChange={(e) => save({ start_at_login: e.target.checked })}
          />{" "}
          Start Stopline in the tray when I log in
        </label>
        <p className="hint">{data.start_at_login_detail}</p>
      </fieldset>
      <fieldset>
        <legend>Theme</legend>
        {(["system", "light", "dark"] as const).map((t) => (
          <label key={t}>
            <input
              type="radio"
              name="theme"
              value={t}
              checked={theme === t}
              onChange={() => {
                setTheme(t);
                applyTheme(t);
              }}
            />{" "}
            {t === "system" ? "As the system" : t === "light" ? "Light" : "Dark"}
          </label>
        ))}
      </fieldset>
    </section>
  );
}

/** Where alerts come from, how to send them here, and whether pages reach this desktop. */
export function Sources({ version }: { version: number }) {
  const [data, setData] = useState<SourcesView | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [tokenShown, setTokenShown] = useState(false);
  const [tested, setTested] = useState<string | null>(null);
  useEffect(() => {
    fetchSources().then(setData, (error) => setProblem(errorMessage(error)));
  }, [version]);
  if (problem) return <p className="banner warning" role="alert">{problem}</p>;
  if (!data) return <p className="state">Loading the sources…</p>;
  return (
    <section aria-labelledby="sources-title">
      <h2 id="sources-title" className="section-title">
        Alert sources
      </h2>
      {data.sources.length === 0 ? (
        <p className="state">
          No source is polled, and none has shown its heartbeat yet. Alertmanager and Grafana can post
          to the webhook below; configure <code>[[sources]]</code> to poll an Alertmanager and see its
          health here.
        </p>
      ) : (
        <table className="incidents">
          <thead>
            <tr>
              <th scope="col">Source</th>
              <th scope="col">Kind</th>
              <th scope="col">State</th>
              <th scope="col">Last success</th>
              <th scope="col">Last error</th>
            </tr>
          </thead>
          <tbody>
            {data.sources.map((s) => (
              <tr key={s.name} data-source={s.name}>
                <td>{s.name}</td>
                <td>{s.kind}</td>
                <td>
                  <span className={`pill source-${s.state}`}>
                    {s.failing_since ? "offline" : s.state}
                  </span>
                  {s.failing_since && ` since ${when(s.failing_since)}`}
                  {s.waiting > 0 && (
                    <span className="waiting">
                      , {s.waiting === 1 ? "1 action" : `${s.waiting} actions`} waiting
                    </span>
                  )}
                  {s.abandoned > 0 && <span className="abandoned">, {s.abandoned} refused</span>}
                </td>
                <td>{s.last_success ? when(s.last_success) : "—"}</td>
                <td>{s.last_error ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2 className="section-title">Send alerts here</h2>
      <dl className="webhook">
        <dt>Alertmanager webhook URL</dt>
        <dd>
          <code>{data.webhook}/v1/alertmanager</code>
        </dd>
        <dt>Grafana webhook URL</dt>
        <dd>
          <code>{data.webhook}/v1/grafana</code>
        </dd>
        <dt>Bearer token</dt>
        <dd>
          <code data-token>{tokenShown ? data.token : "•".repeat(12)}</code>{" "}
          <button type="button" onClick={() => setTokenShown((v) => !v)}>
            {tokenShown ? "Hide" : "Show"}
          </button>
        </dd>
      </dl>
      <h2 className="section-title">Notifications</h2>
      <p data-notifications>{data.notifications}</p>
      <button
        type="button"
        onClick={() =>
          testPage().then(
            (status) => setTested(`Test page sent: ${status}.`),
            (error) => setTested(`No test page: ${errorMessage(error)}`),
          )
        }
      >
        Send a test page
      </button>
      {tested && <p role="status">{tested}</p>}
    </section>
  );
}
