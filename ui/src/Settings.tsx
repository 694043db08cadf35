import { useState } from "react";
import { errorMessage, fetchSettings, saveSettings } from "./api";
import type { SettingsChange } from "./bindings";
import { TeamHubSettings } from "./Hub";
import { applyTheme, savedTheme, type Theme } from "./theme";
import { useLoad, valueOf } from "./useLoad";

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
  const { state, reload, set } = useLoad(fetchSettings, [version]);
  // What saving or choosing the person ran into; a failed read is in `state`.
  const [saveProblem, setSaveProblem] = useState<string | null>(null);
  const [theme, setTheme] = useState<Theme>(savedTheme);
  // The threshold as typed, not saved yet; `null` shows the saved one.
  const [typed, setTyped] = useState<string | null>(null);
  const save = (change: Partial<SettingsChange>) => {
    setSaveProblem(null);
    saveSettings({ ...NO_CHANGE, ...change }).then(
      (view) => {
        set(view);
        setTyped(null);
      },
      (error) => setSaveProblem(errorMessage(error)),
    );
  };
  // A failed re-read keeps the settings on screen, with the reason above them.
  const data = valueOf(state);
  const problem = saveProblem ?? (state.kind === "failed" ? state.message : null);
  if (!data) {
    return problem ? (
      <p className="banner warning" role="alert">
        {problem}
      </p>
    ) : (
      <p className="state">Loading the settings…</p>
    );
  }
  const threshold = typed ?? String(data.flood_threshold);
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
            disabled={data.hub !== null}
            onChange={(e) =>
              onPersonChosen(e.target.value).then(reload, (error) =>
                setSaveProblem(errorMessage(error)),
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
          {data.hub && " Joined to a team hub, this desktop is the person whose token it holds."}
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
              onChange={(e) => setTyped(e.target.value)}
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
      <TeamHubSettings settings={data} onChanged={set} />
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
      <p className="hint version">Stopline {data.version}</p>
    </section>
  );
}
