import { useState } from "react";
import { errorMessage, fetchSources, testPage } from "./api";
import { CopyButton } from "./Copy";
import { ReceiverSnippet } from "./FirstRun";
import { when } from "./time";
import { useLoad } from "./useLoad";

/** Where alerts come from, how to send them here, and whether pages reach this desktop. */
export function Sources({ version }: { version: number }) {
  const { state } = useLoad(fetchSources, [version]);
  const [tokenShown, setTokenShown] = useState(false);
  const [tested, setTested] = useState<string | null>(null);
  if (state.kind === "failed") {
    return (
      <p className="banner warning" role="alert">
        {state.message}
      </p>
    );
  }
  if (state.kind === "loading") return <p className="state">Loading the sources…</p>;
  const data = state.value;
  return (
    <section aria-labelledby="sources-title">
      <h2 id="sources-title" className="section-title">
        Alert sources
      </h2>
      {data.sources.length === 0 ? (
        <p className="state">
          No source has sent anything yet. Connect Alertmanager with the receiver below; to have
          Stopline poll an Alertmanager as well (and silence what is acknowledged here), add it as a
          source in the config (<code>[[sources]]</code>).
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
          <code>{data.webhook}/v1/alertmanager</code> <CopyButton text={`${data.webhook}/v1/alertmanager`} />
        </dd>
        <dt>Grafana webhook URL</dt>
        <dd>
          <code>{data.webhook}/v1/grafana</code> <CopyButton text={`${data.webhook}/v1/grafana`} />
        </dd>
        <dt>Bearer token</dt>
        <dd>
          <code data-token>{tokenShown ? data.token : "•".repeat(12)}</code>{" "}
          <button type="button" onClick={() => setTokenShown((v) => !v)}>
            {tokenShown ? "Hide" : "Show"}
          </button>{" "}
          <CopyButton text={data.token} />
        </dd>
      </dl>
      <h3>Alertmanager receiver</h3>
      <ReceiverSnippet webhook={data.webhook} token={data.token} />
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
