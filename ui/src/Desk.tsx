import { useState } from "react";
import { deskOpen, deskRoute, errorMessage } from "./api";
import type { DeskRoute } from "./bindings";

/**
 * The service desk opens an incident in two steps: say what is broken in the customer's words
 * (or name the application) and see where it goes, who owns it and who is on call; then open it.
 */
export function ServiceDesk({ onOpened }: { onOpened: (id: string) => void }) {
  const [query, setQuery] = useState("");
  const [route, setRoute] = useState<DeskRoute | null | undefined>(undefined);
  const [title, setTitle] = useState("");
  const [problem, setProblem] = useState<string | null>(null);

  const find = async () => {
    setProblem(null);
    try {
      const found = await deskRoute(query);
      setRoute(found);
      if (found && title.trim() === "") setTitle(query.trim());
    } catch (error) {
      setProblem(errorMessage(error));
    }
  };

  const open = async () => {
    if (!route) return;
    setProblem(null);
    try {
      const incident = await deskOpen(route.application, title);
      setRoute(undefined);
      setQuery("");
      setTitle("");
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
        <label htmlFor="desk-query">What is broken, in the customer's words, or which application?</label>
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
        </div>
      )}
      {problem && (
        <p className="banner warning" role="alert">
          {problem}
        </p>
      )}
    </section>
  );
}
