import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { IncidentPanel, withNames } from "./Incident";
import type { AlertView, IncidentView, RoleView, StepView } from "./bindings";
import { clock } from "./time";

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
      resolved_by: null,
      exposure_per_hour: 780000,
      loss_entered: null,
      loss_stopped_at: null,
      firing_alerts: 1,
      alerts: 1,
      group_labels: [],
      labels: {},
      involved: [],
      ...overrides,
    },
    severity_reason: null,
    loss_per_hour: "GBP 780,000/h",
    currency: "GBP",
    timeline: [{ at: "2026-11-27T10:00:00Z", who: null, kind: "opened", detail: "opened by alert" }],
    hub_actions: [],
    situation: {
      as_of: "2026-11-27T10:10:00Z",
      target_percent: 99.9,
      budget_used_percent: 99.2,
      unavailable_seconds: 600,
      tolerable_seconds: 604.8,
      paged: [{ id: "ben", name: "Ben Okafor", at: "2026-11-27T10:00:05Z" }],
      acknowledged: null,
      next_page: { at: "2026-11-27T10:05:05Z", people: [{ id: "carla", name: "Carla Souza" }] },
      secondary: { id: "carla", name: "Carla Souza", rota: "payments-oncall", layer: "secondary" },
      first_alert: { name: "HighErrorRate", summary: "5xx above 5%", runbook: "https://runbooks.example/5xx", dashboard: null },
    },
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
  vi.unstubAllEnvs();
});

const PEOPLE = [
  { id: "aisha", name: "Aisha Adeyemi" },
  { id: "ben", name: "Ben Berg" },
];

function panel(onChanged = () => {}, me: string | null = "ben") {
  return render(
    <IncidentPanel
      id="INC-1"
      version={0}
      people={PEOPLE}
      me={me}
      onClose={() => {}}
      onChanged={onChanged}
    />,
  );
}

/** The actions the panel sent, in order. */
function actions(calls: Call[]) {
  return calls.filter((c) => c.cmd === "act").map((c) => c.args.action);
}

describe("the incident panel", () => {
  it("shows the incident with its money and timeline", async () => {
    serve(() => view({}), () => view({}));
    panel();
    expect(await screen.findByText(/INC-1 · Customers can't pay/)).toBeTruthy();
    const loss = document.querySelector("[data-figure=loss]")!;
    expect(loss.textContent).toMatch(/GBP [\d,]+ so far, GBP 780,000\/h/);
    expect(screen.getByText("opened by alert")).toBeTruthy();
    expect(screen.getByText(/checklist starts when the incident is acknowledged/)).toBeTruthy();
  });

  /** Opens the panel on `id` for an incident the store answers as INC-1; what it renumbered to. */
  async function renumberedFrom(id: string) {
    serve(() => view({}), () => view({}));
    const renumbered: string[] = [];
    render(
      <IncidentPanel
        id={id}
        version={0}
        people={PEOPLE}
        me="ben"
        onClose={() => {}}
        onChanged={() => {}}
        onRenumbered={(to) => renumbered.push(to)}
      />,
    );
    expect(await screen.findByText(/INC-1 · Customers can't pay/)).toBeTruthy();
    return renumbered;
  }

  it("follows a copy opened here to the hub's number once it folds into the hub's incident", async () => {
    expect(await renumberedFrom("INC-1000000001")).toEqual(["INC-1"]);
  });

  it("does not renumber an incident shown under its own number", async () => {
    expect(await renumberedFrom("INC-1")).toEqual([]);
  });

  it("shows the loss a person entered, not the exposure rate", async () => {
    serve(() => ({ ...view({ loss_entered: 120000, severity: "minor" }), severity_reason: "only refunds" }), () => view({}));
    panel();
    await screen.findByText(/INC-1 · /);
    const facts = document.querySelector("[data-figure=loss]")!;
    expect(facts.textContent).toMatch(/GBP 120,000 \(entered by hand\)/);
    expect(facts.textContent).not.toMatch(/780,000/);
  });

  it("says the loss stopped when the alerts cleared", async () => {
    serve(() => view({ state: "acknowledged", acknowledged_by: "ben", loss_stopped_at: "2026-11-27T10:30:00Z" }), () => view({}));
    panel();
    await screen.findByText(/INC-1 · /);
    const facts = document.querySelector("[data-figure=loss]")!;
    // Half an hour of GBP 780,000/h, however late it is now.
    expect(facts.textContent).toMatch(/GBP 390,000/);
    expect(facts.textContent).toContain(`stopped ${clock("2026-11-27T10:30:00Z")}`);
  });

  it("shows a resolved incident's checklist read-only", async () => {
    const steps = [step({ state: "done", changed_by: "ben" }), step({ step: "restore", title: "Restore availability" })];
    serve(() => view({ state: "resolved", acknowledged_by: "ben", resolved_by: "ben" }, steps), () => view({}));
    panel();
    const list = (await screen.findByText("Restore availability")).closest("ol")!;
    expect(list.querySelectorAll("button, select")).toHaveLength(0);
    expect(screen.getByText(/resolved: the checklist is as it was left/i)).toBeTruthy();
  });

  it("shows the timeline in this computer's zone, not in UTC", async () => {
    // India is 5:30 ahead of UTC all year: the entry at 10:00 UTC happened at 15:30 there.
    vi.stubEnv("TZ", "Asia/Kolkata");
    serve(() => view({}), () => view({}));
    panel();
    const entry = (await screen.findByText("opened by alert")).closest("li")!;
    const time = entry.querySelector("time")!;
    expect(time.textContent).toBe("15:30");
    expect(time.textContent).toBe(clock("2026-11-27T10:00:00Z"));
    expect(time.getAttribute("dateTime")).toBe("2026-11-27T10:00:00Z");
    expect(time.getAttribute("title")).toMatch(/27 Nov.*15:30/);
  });

  it("acknowledges as the person at this desk and shows the result", async () => {
    const onChanged = vi.fn();
    const calls = serve(
      () => view({}),
      () => view({ state: "acknowledged", acknowledged_by: "ben" }, [step({})]),
    );
    panel(onChanged);
    fireEvent.click(await screen.findByRole("button", { name: "Acknowledge" }));
    // People by name, not id.
    expect(await screen.findByText("acknowledged by Ben Berg")).toBeTruthy();
    expect(calls.find((c) => c.cmd === "act")?.args).toEqual({ id: "INC-1", action: { kind: "acknowledge" } });
    expect(onChanged).toHaveBeenCalled();
    expect(screen.getByText(/Stop The Line checklist/)).toBeTruthy();
    expect(screen.getByText("0 of 1 required done")).toBeTruthy();
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
    const prompt = vi.spyOn(window, "prompt");
    fireEvent.click(await screen.findByRole("button", { name: "Skip: Diagnose" }));
    // The reason is asked for in place, and a blank one cannot be sent.
    const reason = screen.getByRole("textbox", { name: "Why skip: Diagnose" });
    const send = screen.getByRole("button", { name: "Skip with this reason" }) as HTMLButtonElement;
    fireEvent.change(reason, { target: { value: "  " } });
    expect(send.disabled).toBe(true);
    expect(calls.some((c) => c.cmd === "act")).toBe(false);
    fireEvent.change(reason, { target: { value: "obvious " } });
    fireEvent.click(send);
    expect(await screen.findByText(/obvious/)).toBeTruthy();
    expect(prompt).not.toHaveBeenCalled();
    expect(calls.find((c) => c.cmd === "act")?.args.action).toEqual({
      kind: "step",
      step: "diagnose",
      state: "skipped",
      reason: "obvious",
    });
  });

  it("gives a step to a person", async () => {
    const calls = serve(
      () => view({ state: "acknowledged" }, [step({ step: "diagnose", title: "Diagnose" })]),
      () => view({ state: "acknowledged" }, [step({ step: "diagnose", title: "Diagnose", assignee: "aisha" })]),
    );
    panel();
    const who = await screen.findByRole("combobox", { name: "Who does: Diagnose" });
    fireEvent.change(who, { target: { value: "aisha" } });
    await screen.findByDisplayValue("Aisha Adeyemi");
    expect(actions(calls)).toEqual([{ kind: "assign", step: "diagnose", person: "aisha" }]);
  });

  it("names a commander, hands the role over, and joins the swarm", async () => {
    const role = (person: string): RoleView => ({ role: "commander", title: "Incident commander", person, since: "2026-11-27T10:01:00Z" });
    let roles: RoleView[] = [];
    const calls = serve(
      () => ({ ...view({ state: "acknowledged" }), roles }),
      (args) => {
        const action = args.action as { kind: string; person?: string };
        if (action.kind === "role") roles = [role(action.person ?? "")];
        if (action.kind === "join") roles = [...roles, { ...role("ben"), role: "responder", title: "Responder" }];
        return { ...view({ state: "acknowledged" }), roles };
      },
    );
    panel();
    const commander = await screen.findByRole("combobox", { name: "Incident commander: who" });
    fireEvent.change(commander, { target: { value: "aisha" } });
    fireEvent.click(screen.getAllByRole("button", { name: "Name" })[0]);
    await screen.findByText("Aisha Adeyemi", { selector: "td" });
    fireEvent.change(screen.getByRole("combobox", { name: "Incident commander: who" }), { target: { value: "ben" } });
    fireEvent.click(screen.getByRole("button", { name: "Hand over" }));
    fireEvent.click(await screen.findByRole("button", { name: "Join the swarm" }));
    expect(await screen.findByRole("button", { name: "Leave the swarm" })).toBeTruthy();
    expect(actions(calls)).toEqual([
      { kind: "role", role: "commander", person: "aisha", handover: false },
      { kind: "role", role: "commander", person: "ben", handover: true },
      { kind: "join" },
    ]);
  });

  it("changes the severity only with a reason", async () => {
    const calls = serve(
      () => view({ state: "acknowledged" }),
      () => view({ state: "acknowledged", severity: "minor" }),
    );
    panel();
    fireEvent.click(await screen.findByText("Change severity"));
    const button = screen.getByRole("button", { name: "Make it minor" }) as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    fireEvent.change(screen.getByLabelText("Why is this minor?"), { target: { value: "internal users only" } });
    fireEvent.click(button);
    expect(await screen.findByText("minor")).toBeTruthy();
    expect(actions(calls)).toEqual([{ kind: "severity", severity: "minor", reason: "internal users only", loss: null }]);
  });

  it("shows an alert's labels and annotations, and opens its links in the browser", async () => {
    const alert: AlertView = {
      source: "alertmanager",
      fingerprint: "abc123",
      state: "firing",
      labels: { alertname: "HighErrorRate", service: "payment-gateway" },
      annotations: { summary: "5% of payments fail", runbook_url: "https://runbooks.example/pay" },
      links: { source: "http://127.0.0.1:9090/graph?g0.expr=rate" },
    };
    const calls = serve(() => ({ ...view({}), alerts: [alert] }), () => view({}));
    mockIPC((cmd, args) => {
      calls.push({ cmd, args: args as Record<string, unknown> });
      if (cmd === "incident") return { ...view({}), alerts: [alert] };
      if (cmd === "open_link") return null;
      throw new Error(`unexpected command ${cmd}`);
    });
    panel();
    const labels = await screen.findByText("service=payment-gateway");
    expect(labels.closest("li")!.textContent).toContain("HighErrorRate");
    expect(screen.getByText("5% of payments fail")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "runbook" }));
    fireEvent.click(screen.getByRole("button", { name: "source" }));
    await Promise.resolve();
    expect(calls.filter((c) => c.cmd === "open_link").map((c) => c.args.url)).toEqual([
      "https://runbooks.example/pay",
      "http://127.0.0.1:9090/graph?g0.expr=rate",
    ]);
  });

  it("heads the incident with its situation: target, budget, paged, next page, secondary, first alert", async () => {
    const calls = serve(() => view({}), () => view({}));
    mockIPC((cmd, args) => {
      calls.push({ cmd, args: args as Record<string, unknown> });
      if (cmd === "incident") return view({});
      if (cmd === "open_link") return null;
      throw new Error(`unexpected command ${cmd}`);
    });
    panel();
    await screen.findByText(/INC-1 · /);
    const figure = (name: string) => document.querySelector(`[data-figure=${name}]`)!.textContent;
    expect(figure("budget")).toMatch(/Target 99.9 %/);
    expect(figure("budget")).toMatch(/99 % of this week's budget/);
    expect(figure("paged")).toContain(`Ben Okafor ${clock("2026-11-27T10:00:05Z")}`);
    expect(figure("acknowledged")).toMatch(/^Next page/);
    expect(figure("acknowledged")).toContain(`Carla Souza ${clock("2026-11-27T10:05:05Z")}`);
    expect(figure("secondary")).toContain("Carla Souza");
    expect(screen.getByText(/5xx above 5%/)).toBeTruthy();
    // The heading takes the focus, so the keyboard is in the incident.
    expect(document.activeElement?.id).toBe("incident-title");
    fireEvent.click(screen.getByRole("button", { name: "Runbook" }));
    await Promise.resolve();
    expect(calls.filter((c) => c.cmd === "open_link").map((c) => c.args.url)).toEqual([
      "https://runbooks.example/5xx",
    ]);
  });

  it("takes command in one click, as a handover when someone else commands", async () => {
    const commander: RoleView = { role: "commander", title: "Incident commander", person: "aisha", since: "2026-11-27T10:01:00Z" };
    const calls = serve(
      () => ({ ...view({ state: "acknowledged" }), roles: [commander] }),
      () => ({ ...view({ state: "acknowledged" }), roles: [{ ...commander, person: "ben" }] }),
    );
    panel();
    fireEvent.click(await screen.findByRole("button", { name: "Take command" }));
    await screen.findByText("Ben Berg", { selector: "td" });
    expect(actions(calls)).toEqual([{ kind: "role", role: "commander", person: "ben", handover: true }]);
    // Commanding already: nothing to take.
    expect(screen.queryByRole("button", { name: "Take command" })).toBeNull();
  });

  it("shows the stopped line and offers to restart it when that is the one required step left", async () => {
    const steps = (restart: StepView["state"]) => [
      step({ state: "done" }),
      step({ step: "diagnose", title: "Diagnose", required: false }),
      step({ step: "restart-the-line", title: "Restart the line", state: restart }),
    ];
    const calls = serve(
      () => view({ state: "acknowledged" }, steps("todo")),
      () => view({ state: "acknowledged" }, steps("done")),
    );
    render(
      <IncidentPanel
        id="INC-1"
        version={0}
        people={PEOPLE}
        me="ben"
        lines={[{ team: "payments", team_name: "Payments", since: "2026-11-27T10:02:00Z", incidents: ["INC-1"] }]}
        onClose={() => {}}
        onChanged={() => {}}
      />,
    );
    const banner = await screen.findByText(/Payments line STOPPED/);
    expect(banner.closest("p")!.textContent).toContain(`since ${clock("2026-11-27T10:02:00Z")} by INC-1`);
    expect(banner.closest("p")!.textContent).toContain("423");
    expect(screen.getByText("1 of 2 required done")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Restart the line" }));
    await screen.findByText("2 of 2 required done");
    expect(actions(calls)).toEqual([{ kind: "step", step: "restart-the-line", state: "done", reason: null }]);
  });

  it("copies a status update for stakeholders, with the latest note", async () => {
    const written: string[] = [];
    Object.defineProperty(navigator, "clipboard", {
      value: { writeText: (text: string) => (written.push(text), Promise.resolve()) },
      configurable: true,
    });
    serve(
      () => ({
        ...view({ state: "acknowledged", acknowledged_by: "ben" }),
        roles: [{ role: "commander", title: "Incident commander", person: "aisha", since: "2026-11-27T10:01:00Z" }],
        timeline: [
          { at: "2026-11-27T10:00:00Z", who: null, kind: "opened", detail: "opened by alert" },
          { at: "2026-11-27T10:20:00Z", who: "ben", kind: "note", detail: "Rolling back 1.42" },
        ],
      }),
      () => view({}),
    );
    panel();
    fireEvent.click(await screen.findByRole("button", { name: "Copy status update" }));
    expect(await screen.findByText("Status update copied.")).toBeTruthy();
    expect(written[0]).toContain("INC-1 Customers can't pay");
    expect(written[0]).toContain("Status: acknowledged by Ben Berg, major");
    expect(written[0]).toContain("Commander: Aisha Adeyemi.");
    expect(written[0]).toContain(`Latest: Rolling back 1.42 (Ben Berg, ${clock("2026-11-27T10:20:00Z")}).`);
    // A person's note reads differently from Stopline's own entries.
    expect(screen.getByText("Rolling back 1.42").closest("li")!.className).toContain("note-entry");
    expect(screen.getByText("opened by alert").closest("li")!.className).toContain("system-entry");
  });

  it("names people in Stopline's entries, and leaves a person's note as written", () => {
    expect(withNames("paged aisha (primary on payments-oncall)", PEOPLE)).toBe(
      "paged Aisha Adeyemi (primary on payments-oncall)",
    );
    expect(withNames("incident commander: handed over from aisha to ben", PEOPLE)).toBe(
      "incident commander: handed over from Aisha Adeyemi to Ben Berg",
    );
    // Only whole ids: "benchmark" and "payments-oncall" stay.
    expect(withNames("benchmark on payments-oncall", PEOPLE)).toBe("benchmark on payments-oncall");
  });
});
