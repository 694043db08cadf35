import { useEffect, useState } from "react";
import { errorMessage, fetchOnCall, fetchSources, testPage } from "./api";
import type { OnCallOverview, ShiftView, SourcesView } from "./bindings";

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

/** Who is on call now and next, per rota and layer; and my next four weeks. */
export function OnCall({ version }: { version: number }) {
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
      <p className="hint">
        To cover someone's shift, add an override to the rota in the config (
        <code>[[rotas.overrides]]</code>, docs/config.md); the engine picks it up within seconds.
      </p>
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
                  <span className={`pill source-${s.state}`}>{s.state}</span>
                  {s.failing_since && ` since ${when(s.failing_since)}`}
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
