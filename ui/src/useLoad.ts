import {
  useCallback,
  useEffect,
  useLayoutEffect,
  useRef,
  useState,
  type DependencyList,
} from "react";
import { errorMessage } from "./api";

/** Where a read from the Rust side stands. */
export type Load<T> =
  | { kind: "loading" }
  /** `last` is the value of the last read that did answer, for views that keep showing it. */
  | { kind: "failed"; message: string; last: T | null }
  | { kind: "loaded"; value: T };

export type Loader<T> = {
  state: Load<T>;
  /** Reads again; the view keeps what it shows until the answer arrives. */
  reload: () => void;
  /** Shows a value the view got otherwise (the answer to an action), as if it had been read. */
  set: (value: T) => void;
};

/** The value a load state holds, if any: the loaded one, or the last one before a failure. */
export function valueOf<T>(state: Load<T>): T | null {
  if (state.kind === "loaded") return state.value;
  if (state.kind === "failed") return state.last;
  return null;
}

/**
 * Reads with `load` when the view appears and again whenever `deps` change (as `useEffect` would
 * run), or when asked with `reload`.
 *
 * Reads overlap: the queue re-reads on a timer, on the engine's events and on a click, and a
 * slow answer can come after a quicker, newer one. Only the answer to the newest request is
 * shown; earlier ones are dropped, as are answers arriving after `set` or after the view is gone.
 */
export function useLoad<T>(load: () => Promise<T>, deps: DependencyList): Loader<T> {
  const [state, setState] = useState<Load<T>>({ kind: "loading" });
  // The number of the newest request: an answer to any other is stale.
  const latest = useRef(0);
  // Always the latest `load`, so `reload` reads with the current props yet never changes itself.
  const current = useRef(load);
  useLayoutEffect(() => {
    current.current = load;
  });

  const reload = useCallback(() => {
    const request = ++latest.current;
    // A promise, even when `load` throws before it returns one.
    new Promise<T>((resolve) => resolve(current.current())).then(
      (value) => {
        if (request === latest.current) setState({ kind: "loaded", value });
      },
      (error) => {
        if (request !== latest.current) return;
        setState((was) => ({ kind: "failed", message: errorMessage(error), last: valueOf(was) }));
      },
    );
  }, []);

  const set = useCallback((value: T) => {
    // Newer than whatever reads are still under way: their answers are stale now.
    latest.current += 1;
    setState({ kind: "loaded", value });
  }, []);

  // Re-read when the caller's deps change, as useEffect would; `load` is read from the ref above.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  useEffect(() => reload(), deps);
  // Once the view is gone, every answer still under way is stale.
  useEffect(
    () => () => {
      latest.current += 1;
    },
    [],
  );

  return { state, reload, set };
}
