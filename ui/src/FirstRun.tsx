import { useState } from "react";
import { errorMessage, fetchSources, setMe } from "./api";
import type { Overview, PersonOption } from "./bindings";
import { CopyButton } from "./Copy";
import { useLoad } from "./useLoad";

/** Where "the first-run card was put away" is kept, per desktop. */
const DISMISSED = "stopline.firstRunDismissed";

/** Whether the webhook's address is reachable from this computer only. */
export function loopbackOnly(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === "localhost" || host === "[::1]" || host.startsWith("127.");
  } catch {
    return false;
  }
}

/** The receiver an `alertmanager.yml` needs to send alerts here. `token` is what it carries; the
 *  snippet shown on screen carries a mask instead. */
export function receiverSnippet(webhook: string, token: string): string {
  return [
    "receivers:",
    "  - name: stopline",
    "    webhook_configs:",
    `      - url: ${webhook}/v1/alertmanager`,
    "        send_resolved: true",
    "        http_config:",
    "          authorization:",
    "            type: Bearer",
    `            credentials: ${token}`,
  ].join("\n");
}

/** "Connect Alertmanager": the receiver to paste into its config, copied whole with the token,
 *  and what to change when Alertmanager runs on another machine. */
export function ReceiverSnippet({ webhook, token }: { webhook: string; token: string }) {
  return (
    <div className="receiver">
      <pre aria-label="Alertmanager receiver">{receiverSnippet(webhook, "•".repeat(12) + " (copied with the token)")}</pre>
      <CopyButton text={receiverSnippet(webhook, token)} label="Copy the receiver" />{" "}
      <CopyButton text={`${webhook}/v1/alertmanager`} label="Copy the URL" />{" "}
      <CopyButton text={token} label="Copy the token" />
      <p className="hint">
        Add it to <code>alertmanager.yml</code> and route alerts to <code>stopline</code>. Grafana posts to{" "}
        <code>{webhook}/v1/grafana</code> with the same token.
      </p>
      {loopbackOnly(webhook) && (
        <p className="hint" data-loopback>
          This address answers on this computer only: an Alertmanager running elsewhere cannot reach it. To
          receive from another machine, set <code>[webhook] listen</code> to an address it can reach, and its
          name in <code>allowed_hosts</code> (Settings shows the config file).
        </p>
      )}
    </div>
  );
}

/**
 * The card a new desktop starts with: who sits here (searchable), and how to connect
 * Alertmanager, until both are done or it is put away.
 */
export function FirstRun({ overview, onChosen }: { overview: Overview; onChosen: () => void }) {
  const [dismissed, setDismissed] = useState(() => window.localStorage.getItem(DISMISSED) === "yes");
  const needsPerson = overview.me === null && overview.hub === null && overview.people.length > 0;
  const needsAlerts = !overview.has_alerts && overview.hub === null;
  if (dismissed || (!needsPerson && !needsAlerts)) return null;
  return (
    <section className="first-run" aria-labelledby="first-run-title">
      <header className="panel-head">
        <h2 id="first-run-title">Welcome to Stopline</h2>
        <button
          type="button"
          onClick={() => {
            window.localStorage.setItem(DISMISSED, "yes");
            setDismissed(true);
          }}
        >
          Not now
        </button>
      </header>
      {needsPerson && <WhoAreYou people={overview.people} onChosen={onChosen} />}
      {needsAlerts && <ConnectAlertmanager />}
    </section>
  );
}

/** A searchable list of the people in the config: choosing one is who sits here. */
function WhoAreYou({ people, onChosen }: { people: PersonOption[]; onChosen: () => void }) {
  const [query, setQuery] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const words = query.trim().toLowerCase();
  const found = people.filter(
    (p) => words === "" || p.name.toLowerCase().includes(words) || p.id.toLowerCase().includes(words),
  );
  return (
    <div className="who-are-you">
      <h3>Who are you?</h3>
      <p className="hint">What you do here (acknowledging, notes, roles) is recorded as you, and your pages show here.</p>
      <input
        type="search"
        aria-label="Find yourself by name"
        placeholder="Your name"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
      />
      <ul className="people-choices">
        {found.slice(0, 8).map((p) => (
          <li key={p.id}>
            <button
              type="button"
              onClick={() => {
                setProblem(null);
                setMe(p.id).then(onChosen, (error) => setProblem(errorMessage(error)));
              }}
            >
              {p.name} <span className="hint">({p.id})</span>
            </button>
          </li>
        ))}
      </ul>
      {found.length === 0 && <p className="state">Nobody in the config is called that.</p>}
      {found.length > 8 && <p className="hint">and {found.length - 8} more: type more of the name.</p>}
      {problem && <p role="alert">{problem}</p>}
    </div>
  );
}

function ConnectAlertmanager() {
  const { state } = useLoad(fetchSources, []);
  return (
    <div className="connect-alertmanager">
      <h3>Connect Alertmanager</h3>
      <p className="hint">No alert has reached this desktop yet. Alertmanager sends them here with this receiver:</p>
      {state.kind === "loaded" && <ReceiverSnippet webhook={state.value.webhook} token={state.value.token} />}
      {state.kind === "failed" && <p role="alert">{state.message}</p>}
    </div>
  );
}
