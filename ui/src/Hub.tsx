import { useState } from "react";
import { errorMessage, hubConnect, hubDisconnect } from "./api";
import type { HubActionRow, HubView, SettingsView } from "./bindings";
import { when } from "./time";

/** The hub's state in a few words, for the top bar: connected, or offline since when. */
export function hubLine(hub: HubView): string {
  const waiting =
    hub.waiting === 0 ? "" : ` · ${hub.waiting} action${hub.waiting === 1 ? "" : "s"} waiting`;
  if (hub.connected === null) return `hub: not reached yet${waiting}`;
  if (hub.connected) return `hub: connected${waiting}`;
  return `hub: offline since ${hub.since ? when(hub.since) : "now"}${waiting}`;
}

/** The top bar's word on the team hub this desktop joined (nothing when it works alone). */
export function HubStatus({ hub }: { hub: HubView | null }) {
  if (!hub) return null;
  const state = hub.connected === null ? "unknown" : hub.connected ? "connected" : "offline";
  return (
    <span
      className={`hub-state ${state}`}
      data-hub-state={state}
      role="status"
      title={hub.error ? `${hub.url}: ${hub.error}` : `${hub.url} as ${hub.person}`}
    >
      {hubLine(hub)}
    </span>
  );
}

/** The incident's actions of this person the hub has not confirmed, or refused, with why. */
export function HubActions({ actions }: { actions: HubActionRow[] }) {
  if (actions.length === 0) return null;
  return (
    <div className="hub-actions" aria-label="Your actions and the hub">
      <h3>Your actions and the hub</h3>
      <ul>
        {actions.map((a) => (
          <li key={`${a.at}-${a.action}`} className={`hub-action ${a.status}`} data-hub-action={a.status}>
            <span className="when">{when(a.at)}</span> {a.action}:{" "}
            {a.status === "pending" ? (
              <strong>pending</strong>
            ) : (
              <>
                <strong>not applied</strong>
                {a.reason && <>: {a.reason}</>}
              </>
            )}
          </li>
        ))}
      </ul>
      {actions.some((a) => a.status === "pending") && (
        <p className="hint">
          Saved on this desktop; it reaches the hub by itself, in order, as soon as the hub answers.
        </p>
      )}
    </div>
  );
}

/** Settings' "Team hub": join a hub with a person's token, or see the one joined and leave it. */
export function TeamHubSettings({
  settings,
  onChanged,
}: {
  settings: SettingsView;
  onChanged: (view: SettingsView) => void;
}) {
  const [url, setUrl] = useState("");
  const [token, setToken] = useState("");
  const [plaintext, setPlaintext] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const hub = settings.hub;
  const run = (work: () => Promise<SettingsView>) => {
    setBusy(true);
    setProblem(null);
    work().then(
      (view) => {
        setBusy(false);
        setToken("");
        onChanged(view);
      },
      (error) => {
        setBusy(false);
        setProblem(errorMessage(error));
      },
    );
  };
  return (
    <fieldset className="team-hub">
      <legend>Team hub</legend>
      {problem && (
        <p className="banner warning" role="alert">
          {problem}
        </p>
      )}
      {hub ? (
        <>
          <p data-hub-url>
            Joined <code>{hub.url}</code> as <strong>{hub.person}</strong> (this desktop is{" "}
            <code>{hub.desktop_id}</code>).
          </p>
          <p>
            <HubStatus hub={hub} />
            {hub.error && !hub.connected && <span className="hint"> {hub.error}</span>}
          </p>
          {hub.refused.length > 0 && (
            <ul className="refused">
              {hub.refused.map((a) => (
                <li key={`${a.at}-${a.action}`}>
                  Not applied: your {a.action}
                  {a.incident && <> on {a.incident}</>} ({when(a.at)}): {a.reason}
                </li>
              ))}
            </ul>
          )}
          <button
            type="button"
            disabled={busy}
            onClick={() => {
              const discard =
                hub.waiting > 0 &&
                window.confirm(
                  `${hub.waiting} of your actions have not reached the hub. Leave anyway? They stay in the replica set aside, not on the hub.`,
                );
              if (hub.waiting > 0 && !discard) return;
              run(() => hubDisconnect(discard));
            }}
          >
            Leave the hub
          </button>
          <p className="hint">
            Leaving keeps this desktop's copy aside and goes back to its own incidents.
          </p>
        </>
      ) : (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            run(() => hubConnect({ url: url.trim(), token, insecure_plaintext: plaintext }));
          }}
        >
          <p className="hint">
            Join your organisation's hub to share incidents with your team. Your administrator
            gives you a token (<code>stopline hub token create --person you</code>); it is kept in
            the system keyring.
          </p>
          <label>
            Hub address{" "}
            <input
              type="url"
              placeholder="https://hub.example:9177"
              value={url}
              onChange={(e) => setUrl(e.target.value)}
              required
            />
          </label>
          <label>
            Your token{" "}
            <input
              type="password"
              autoComplete="off"
              value={token}
              onChange={(e) => setToken(e.target.value)}
              required
            />
          </label>
          <label>
            <input
              type="checkbox"
              checked={plaintext}
              onChange={(e) => setPlaintext(e.target.checked)}
            />{" "}
            Allow plain http beyond this computer (the token travels in the clear)
          </label>
          <button type="submit" disabled={busy || url.trim() === "" || token.trim() === ""}>
            {busy ? "Joining…" : "Join the hub"}
          </button>
        </form>
      )}
    </fieldset>
  );
}
