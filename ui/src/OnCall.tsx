import { useRef, useState } from "react";
import { addOverride, errorMessage, fetchOnCall, removeOverride } from "./api";
import { CopyButton } from "./Copy";
import type { OnCallOverview, OverrideView, PersonOption, RotaTimelineView, ShiftView } from "./bindings";
import { locale, when } from "./time";
import { useLoad } from "./useLoad";

function shift(s: ShiftView | null): string {
  if (!s) return "nobody yet";
  return `${s.person_name}${s.is_override ? " (override)" : ""}, until ${when(s.until)}`;
}

/** What "Get cover" fills in the override form with: the shift to cover. */
type Cover = { rota: string; layer: string; from: string; to: string };

/** Who is on call now and next, per rota and layer; the next two weeks as a timeline, my teams'
 *  rotas first; my shifts with "Get cover"; covering a shift; my calendar feed. */
export function OnCall({ version, people, me = null }: { version: number; people: PersonOption[]; me?: string | null }) {
  const { state, set } = useLoad(fetchOnCall, [version]);
  // "Get cover" fills the form in; the key makes the form start afresh with it.
  const [cover, setCover] = useState<{ key: number; shift: Cover } | null>(null);
  const form = useRef<HTMLDivElement>(null);
  if (state.kind === "failed") {
    return (
      <p className="banner warning" role="alert">
        {state.message}
      </p>
    );
  }
  if (state.kind === "loading") return <p className="state">Loading the rotas…</p>;
  const data = state.value;
  const getCover = (bar: ShiftView) => {
    // The timeline cuts shifts to its two weeks; my shifts list has them whole.
    const s =
      data.my_shifts.find(
        (m) =>
          m.rota === bar.rota &&
          m.layer === bar.layer &&
          Date.parse(m.since) < Date.parse(bar.until) &&
          Date.parse(bar.since) < Date.parse(m.until),
      ) ?? bar;
    // A shift under way is covered from now.
    const from = new Date(Math.max(Date.parse(s.since), Date.now() + 60_000)).toISOString();
    setCover({ key: Date.now(), shift: { rota: s.rota, layer: s.layer, from, to: s.until } });
    window.setTimeout(() => {
      form.current?.scrollIntoView?.({ block: "nearest" });
      form.current?.querySelector<HTMLSelectElement>("select[data-field=person]")?.focus();
    }, 0);
  };
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
                  <td>{layer.next ? `${layer.next.person_name} from ${when(layer.next.since)}` : "—"}</td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      )}
      {data.timeline.length > 0 && (
        <ShiftTimeline data={data} me={me} editable={data.overrides_editable} onGetCover={getCover} onChanged={set} />
      )}
      <h2 className="section-title">My shifts, next four weeks</h2>
      {data.my_shifts.length === 0 ? (
        <p className="state">None: choose who you are (top right) if that is wrong.</p>
      ) : (
        <ul className="shifts">
          {data.my_shifts.map((s) => (
            <li key={`${s.rota}-${s.layer}-${s.since}`}>
              {s.layer} on {s.rota}: {when(s.since)} to {when(s.until)}
              {s.is_override && " (override)"}{" "}
              <button type="button" onClick={() => getCover(s)}>
                Get cover
              </button>
            </li>
          ))}
        </ul>
      )}
      {data.my_calendar_url && <CalendarFeed url={data.my_calendar_url} />}
      {data.rotas.length > 0 && (
        <div ref={form}>
          <OverrideAdder
            key={cover?.key ?? 0}
            rotas={data.rotas}
            people={people}
            prefill={cover?.shift ?? null}
            onAdded={set}
          />
        </div>
      )}
    </section>
  );
}

/** The address of my shifts' calendar feed, to paste into a calendar app. */
function CalendarFeed({ url }: { url: string }) {
  return (
    <div className="calendar-feed">
      <label htmlFor="calendar-url">My shifts in my calendar: subscribe to</label>
      <input id="calendar-url" readOnly value={url} onFocus={(e) => e.currentTarget.select()} />
      <CopyButton text={url} />
      <p className="hint">
        Served while Stopline runs here; it reaches 30 days back and 90 ahead, with overrides.
      </p>
    </div>
  );
}

const DAY_MS = 86_400_000;

/** Each rota's layers as bars over two weeks, overrides marked, my shifts with "Get cover",
 *  and each rota's overrides with "Remove". */
function ShiftTimeline({
  data,
  me,
  editable,
  onGetCover,
  onChanged,
}: {
  data: OnCallOverview;
  me: string | null;
  editable: boolean;
  onGetCover: (shift: ShiftView) => void;
  onChanged: (data: OnCallOverview) => void;
}) {
  const from = Date.parse(data.timeline_from);
  const to = Date.parse(data.timeline_to);
  const span = to - from;
  const at = (iso: string) => Math.min(100, Math.max(0, ((Date.parse(iso) - from) / span) * 100));
  const days: number[] = [];
  for (let day = from; day < to; day += DAY_MS) days.push(day);
  const now = Date.now();
  return (
    <section className="shift-timeline" aria-labelledby="timeline-title">
      <h2 id="timeline-title" className="section-title">
        The next two weeks
      </h2>
      <div className="timeline-grid">
        <div className="timeline-scale" aria-hidden="true">
          <span className="timeline-label" />
          <div className="timeline-track">
            {days.map((day) => (
              <span key={day} className="timeline-day" style={{ left: `${((day - from) / span) * 100}%` }}>
                {new Date(day).toLocaleDateString(locale(), { weekday: "short", day: "numeric" })}
              </span>
            ))}
          </div>
        </div>
        {data.timeline.map((rota) => (
          <RotaRows key={rota.id} rota={rota} me={me} at={at} now={now} from={from} to={to} onGetCover={onGetCover} />
        ))}
      </div>
      <Overrides timeline={data.timeline} editable={editable} onChanged={onChanged} />
    </section>
  );
}

function RotaRows({
  rota,
  me,
  at,
  now,
  from,
  to,
  onGetCover,
}: {
  rota: RotaTimelineView;
  me: string | null;
  at: (iso: string) => number;
  now: number;
  from: number;
  to: number;
  onGetCover: (shift: ShiftView) => void;
}) {
  return (
    <div className={rota.mine ? "timeline-rota mine" : "timeline-rota"} data-timeline-rota={rota.id}>
      <div className="timeline-rota-name">
        {rota.name}
        {rota.mine && <span className="pill">my team</span>} <span className="hint">{rota.teams.join(", ")}</span>
      </div>
      {rota.layers.map((layer) => (
        <div key={layer.layer} className="timeline-row">
          <span className="timeline-label">{layer.layer}</span>
          <div className="timeline-track" role="list" aria-label={`${rota.name}, ${layer.layer}`}>
            {now >= from && now < to && <span className="timeline-now" style={{ left: `${at(new Date(now).toISOString())}%` }} />}
            {layer.shifts.map((s) => {
              const mine = me !== null && s.person === me;
              const left = at(s.since);
              const width = Math.max(at(s.until) - left, 0.4);
              return (
                <div
                  key={`${s.person}-${s.since}`}
                  role="listitem"
                  className={["timeline-bar", s.is_override ? "override" : "", mine ? "mine" : ""].join(" ")}
                  style={{ left: `${left}%`, width: `${width}%` }}
                  title={`${s.person_name}${s.is_override ? " (override)" : ""}: ${when(s.since)} to ${when(s.until)}`}
                  data-person={s.person}
                >
                  <span className="timeline-bar-name">{s.person_name}</span>
                  {mine && (
                    <button
                      type="button"
                      className="timeline-cover"
                      aria-label={`Get cover for ${layer.layer} on ${rota.name} from ${when(s.since)}`}
                      onClick={() => onGetCover(s)}
                    >
                      Get cover
                    </button>
                  )}
                </div>
              );
            })}
          </div>
        </div>
      ))}
    </div>
  );
}

/** The overrides of each rota still to come or under way, with a way to remove each. */
function Overrides({
  timeline,
  editable,
  onChanged,
}: {
  timeline: RotaTimelineView[];
  editable: boolean;
  onChanged: (data: OnCallOverview) => void;
}) {
  const [problem, setProblem] = useState<string | null>(null);
  const all = timeline.flatMap((rota) => rota.overrides.map((o) => ({ rota, o })));
  if (all.length === 0) return null;
  const remove = (rota: RotaTimelineView, o: OverrideView) => {
    setProblem(null);
    removeOverride({ rota: rota.id, layer: o.layer, person: o.person, from: o.from, to: o.to }).then(
      onChanged,
      (error) => setProblem(errorMessage(error)),
    );
  };
  return (
    <>
      <h3>Overrides</h3>
      <ul className="overrides">
        {all.map(({ rota, o }) => (
          <li key={`${rota.id}-${o.layer}-${o.person}-${o.from}`} data-override={`${rota.id}/${o.person}`}>
            {o.person_name} covers {o.layer} on {rota.name}: {when(o.from)} to {when(o.to)}{" "}
            {editable && (
              <button type="button" onClick={() => remove(rota, o)}>
                Remove
              </button>
            )}
          </li>
        ))}
      </ul>
      {!editable && (
        <p className="hint">
          This desktop is joined to a hub, which keeps the organisation's overrides: they are removed in the hub's
          config.
        </p>
      )}
      {problem && (
        <p className="banner warning" role="alert">
          {problem}
        </p>
      )}
    </>
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
  prefill,
  onAdded,
}: {
  rotas: OnCallOverview["rotas"];
  people: PersonOption[];
  /** A shift to cover ("Get cover"): its rota, layer and times fill the form in. */
  prefill: Cover | null;
  onAdded: (data: OnCallOverview) => void;
}) {
  const [rota, setRota] = useState(prefill?.rota ?? rotas[0]?.id ?? "");
  const layers = rotas.find((r) => r.id === rota)?.layers ?? [];
  const [layer, setLayer] = useState(prefill?.layer ?? layers[0]?.layer ?? "");
  const [person, setPerson] = useState("");
  const [from, setFrom] = useState(() => localInput(prefill ? new Date(prefill.from) : new Date()));
  const [to, setTo] = useState(() =>
    localInput(prefill ? new Date(prefill.to) : new Date(Date.now() + 12 * 3600 * 1000)),
  );
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
        <select data-field="person" value={person} onChange={(e) => setPerson(e.target.value)}>
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
