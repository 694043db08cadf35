import { useState } from "react";
import { addOverride, errorMessage, fetchOnCall } from "./api";
import type { OnCallOverview, PersonOption, ShiftView } from "./bindings";
import { when } from "./time";
import { useLoad } from "./useLoad";

function shift(s: ShiftView | null): string {
  if (!s) return "nobody yet";
  return `${s.person}${s.is_override ? " (override)" : ""}, until ${when(s.until)}`;
}

/** Who is on call now and next, per rota and layer; my next four weeks; covering a shift. */
export function OnCall({ version, people }: { version: number; people: PersonOption[] }) {
  const { state, set } = useLoad(fetchOnCall, [version]);
  if (state.kind === "failed") {
    return (
      <p className="banner warning" role="alert">
        {state.message}
      </p>
    );
  }
  if (state.kind === "loading") return <p className="state">Loading the rotas…</p>;
  const data = state.value;
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
        <OverrideAdder rotas={data.rotas} people={people} onAdded={set} />
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
