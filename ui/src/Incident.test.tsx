import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { IncidentPanel } from "./Incident";
import type { IncidentView, StepView } from "./bindings";

function step(overrides: Partial<StepView>): StepView {
  return {
    step: "stop-the-line",
    title: "Stop the line: halt feature work and tell the team",
    required: true,
    runbook: null,
    state: "todo",
    assignee: null,
    reason: null,
    changed_by: null,
    changed_at: null,
    ...overrides,
  };
}

function view(overrides: Partial<IncidentView["incident"]>, steps: StepView[] = []): IncidentView {
  return {
    incident: {
      id: "INC-1",
      title: "Customers can't pay",
      state: "triggered",
      severity: "major",
      application: "payment-gateway",
      application_name: "Payment Gateway",
      team: "payments",
      team_name: "Payments",
      opened_at: "2026-11-27T10:00:00Z",
      acknowledged_by: null,
      exposure_per_hour: 780000,
      ...overrides,
    },
    severity_reason: null,
    loss_per_hour: "GBP 780,000/h",
    timeline: [{ at: "2026-11-27T10:00:00Z", who: null, kind: "opened", detail: "opened by alert" }],
    checklist: steps,
    roles: [],
    alerts: [],
  };
}

type Call = { cmd: string; args: Record<string, unknown> };

/** Answers `incident` with `current()` and `act` with `onAct`; records every call. */
function serve(current: () => IncidentView, onAct: (args: Record<string, unknown>) => IncidentView) {
  const calls: Call[] = [];
  mockIPC((cmd, args) => {
    calls.push({ cmd, args: args as Record<string, unknown> });
    if (cmd === "incident") return current();
    if (cmd === "act") return onAct(args as Record<string, unknown>);
    throw new Error(`unexpected command ${cmd}`);
  });
  return calls;
}

afterEach(() => {
  cleanup();
  clearMocks();
  vi.restoreAllMocks();
});

function panel(onChanged = () => {}) {
  return render(<IncidentPanel id="INC-1" version={0} onClose={() => {}} onChanged={onChanged} />);
}

describe("the incident panel", () => {
  it("shows the incident with its money and timeline", async () => {
    serve(() => view({}), () => view({}));
    panel();
    expect(await screen.findByText(/INC-1 · Customers can't pay/)).toBeTruthy();
    expect(screen.getByText(/est. loss GBP 780,000\/h/)).toBeTruthy();
    expect(screen.getByText("opened by alert")).toBeTruthy();
    expect(screen.getByText(/checklist starts when the incident is acknowledged/)).toBeTruthy();
  });

  it("acknowledges as the person at this desk and shows the result", async () => {
    const onChanged = vi.fn();
    const calls = serve(
      () => view({}),
      () => view({ state: "acknowledged", acknowledged_by: "ben" }, [step({})]),
    );
    panel(onChanged);
    fireEvent.click(await screen.findByRole("button", { name: "Acknowledge" }));
    expect(await screen.findByText("acknowledged by ben")).toBeTruthy();
    expect(calls.find((c) => c.cmd === "act")?.args).toEqual({ id: "INC-1", action: { kind: "acknowledge" } });
    expect(onChanged).toHaveBeenCalled();
    expect(screen.getByText("Stop The Line checklist")).toBeTruthy();
  });

  it("offers to resolve anyway when required steps are open", async () => {
    const calls = serve(
      () => view({ state: "acknowledged" }, [step({})]),
      (args) => {
        const action = args.action as { kind: string; force?: boolean };
        if (action.kind === "resolve" && !action.force) {
          throw { code: "refused", message: "INC-1 has required checklist steps still open: stop-the-line" };
        }
        return view({ state: "resolved" }, [step({})]);
      },
    );
    panel();
    fireEvent.click(await screen.findByRole("button", { name: "Resolve" }));
    expect(await screen.findByText(/required checklist steps still open/)).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Resolve anyway (recorded)" }));
    expect(await screen.findByText("resolved")).toBeTruthy();
    const forced = calls.filter((c) => c.cmd === "act").map((c) => c.args.action);
    expect(forced).toEqual([
      { kind: "resolve", force: false },
      { kind: "resolve", force: true },
    ]);
  });

  it("skips a step only with a reason", async () => {
    const calls = serve(
      () => view({ state: "acknowledged" }, [step({ step: "diagnose", title: "Diagnose", required: false })]),
      () => view({ state: "acknowledged" }, [step({ step: "diagnose", title: "Diagnose", state: "skipped", reason: "obvious" })]),
    );
    panel();
    const prompt = vi.spyOn(window, "prompt").mockReturnValueOnce("  ").mockReturnValueOnce("obvious");
    fireEvent.click(await screen.findByRole("button", { name: "Skip: Diagnose" }));
    expect(calls.some((c) => c.cmd === "act")).toBe(false);
    fireEvent.click(screen.getByRole("button", { name: "Skip: Diagnose" }));
    expect(await screen.findByText(/obvious/)).toBeTruthy();
    expect(prompt).toHaveBeenCalledTimes(2);
    expect(calls.find((c) => c.cmd === "act")?.args.action).toEqual({
      kind: "step",
      step: "diagnose",
      state: "skipped",
      reason: "obvious",
    });
  });
});
