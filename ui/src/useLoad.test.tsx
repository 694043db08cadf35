import { afterEach, describe, expect, it, vi } from "vitest";
import { act, cleanup, renderHook, waitFor } from "@testing-library/react";
import { useLoad, valueOf } from "./useLoad";

afterEach(() => cleanup());

/** A promise the test settles when it chooses: how answers are made to arrive out of order. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

/** A `load` whose every call waits for the test to answer it, in any order. */
function answeredByHand<T>() {
  const calls: ReturnType<typeof deferred<T>>[] = [];
  const load = vi.fn(() => {
    const call = deferred<T>();
    calls.push(call);
    return call.promise;
  });
  return { load, calls };
}

/** Lets the answers settled so far reach the hook. */
async function settle() {
  await act(async () => {
    await new Promise((resolve) => setTimeout(resolve, 0));
  });
}

describe("useLoad", () => {
  it("reads once at first, shows loading until the answer, then the value", async () => {
    const { load, calls } = answeredByHand<string>();
    const { result } = renderHook(() => useLoad(load, []));
    expect(result.current.state).toEqual({ kind: "loading" });
    expect(load).toHaveBeenCalledTimes(1);
    calls[0].resolve("first");
    await settle();
    expect(result.current.state).toEqual({ kind: "loaded", value: "first" });
  });

  it("says why a read failed, with the command's message", async () => {
    const load = () => Promise.reject({ code: "store", message: "disk I/O error" });
    const { result } = renderHook(() => useLoad(load, []));
    await waitFor(() => expect(result.current.state.kind).toBe("failed"));
    expect(result.current.state).toEqual({ kind: "failed", message: "disk I/O error", last: null });
  });

  it("fails like any read when `load` throws before it returns a promise", async () => {
    const load = (): Promise<string> => {
      throw new Error("no such command");
    };
    const { result } = renderHook(() => useLoad(load, []));
    await waitFor(() => expect(result.current.state.kind).toBe("failed"));
    expect(result.current.state).toMatchObject({ message: "no such command" });
  });

  it("re-reads when its deps change, with the current `load`", async () => {
    const load = vi.fn((id: string) => Promise.resolve(`incident ${id}`));
    const { result, rerender } = renderHook(({ id }) => useLoad(() => load(id), [id]), {
      initialProps: { id: "INC-1" },
    });
    await waitFor(() => expect(valueOf(result.current.state)).toBe("incident INC-1"));
    rerender({ id: "INC-1" });
    expect(load).toHaveBeenCalledTimes(1);
    rerender({ id: "INC-2" });
    await waitFor(() => expect(valueOf(result.current.state)).toBe("incident INC-2"));
    expect(load.mock.calls).toEqual([["INC-1"], ["INC-2"]]);
  });

  it("keeps showing the value while it re-reads", async () => {
    const { load, calls } = answeredByHand<number>();
    const { result } = renderHook(() => useLoad(load, []));
    calls[0].resolve(1);
    await settle();
    act(() => result.current.reload());
    expect(calls).toHaveLength(2);
    expect(result.current.state).toEqual({ kind: "loaded", value: 1 });
    calls[1].resolve(2);
    await settle();
    expect(result.current.state).toEqual({ kind: "loaded", value: 2 });
  });

  it("drops a slower answer to an earlier read when a newer read answered first", async () => {
    const { load, calls } = answeredByHand<string>();
    const { result } = renderHook(() => useLoad(load, []));
    act(() => result.current.reload());
    expect(calls).toHaveLength(2);
    // The newer read answers first; the older one, slower, answers after it.
    calls[1].resolve("newer");
    await settle();
    calls[0].resolve("older");
    await settle();
    expect(result.current.state).toEqual({ kind: "loaded", value: "newer" });
    // Nor does an older read's failure replace the newer value.
    act(() => result.current.reload());
    act(() => result.current.reload());
    calls[3].resolve("newest");
    calls[2].reject({ code: "store", message: "too late" });
    await settle();
    expect(result.current.state).toEqual({ kind: "loaded", value: "newest" });
  });

  it("drops answers still under way when a value is set, as from an action's answer", async () => {
    const { load, calls } = answeredByHand<string>();
    const { result } = renderHook(() => useLoad(load, []));
    act(() => result.current.set("after the action"));
    expect(result.current.state).toEqual({ kind: "loaded", value: "after the action" });
    calls[0].resolve("before the action");
    await settle();
    expect(result.current.state).toEqual({ kind: "loaded", value: "after the action" });
  });

  it("keeps the last value beside a failure, for views that show both", async () => {
    const { load, calls } = answeredByHand<string>();
    const { result } = renderHook(() => useLoad(load, []));
    calls[0].resolve("good");
    await settle();
    act(() => result.current.reload());
    calls[1].reject({ code: "config", message: "bad config" });
    await settle();
    expect(result.current.state).toEqual({ kind: "failed", message: "bad config", last: "good" });
    expect(valueOf(result.current.state)).toBe("good");
  });

  it("keeps reload and set the same across renders, so effects using them run once", async () => {
    const { load } = answeredByHand<string>();
    const { result, rerender } = renderHook(() => useLoad(load, []));
    const { reload, set } = result.current;
    rerender();
    expect(result.current.reload).toBe(reload);
    expect(result.current.set).toBe(set);
  });
});
