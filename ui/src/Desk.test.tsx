import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { ServiceDesk } from "./Desk";
import type { DeskRoute, IncidentRow, UnroutedView } from "./bindings";

const NOTHING_UNROUTED: UnroutedView = { alerts: [], applications: [] };

const route: DeskRoute = {
  application: "payment-gateway",
  application_name: "Payment Gateway",
  target: "99.9%",
  team: "payments",
  team_name: "Payments",
  on_call: [{ rota: "payments-oncall", layer: "primary", person: "carla" }],
  open_incidents: [],
};

const OPEN_INC_1: IncidentRow = {
  id: "INC-1",
  title: "Payment Gateway 5xx",
  state: "acknowledged",
  severity: "major",
  application: "payment-gateway",
  application_name: "Payment Gateway",
  team: "payments",
  team_name: "Payments",
  opened_at: "2026-11-27T10:00:00Z",
  acknowledged_by: "carla",
  resolved_by: null,
  exposure_per_hour: 780000,
  loss_entered: null,
  loss_stopped_at: null,
  firing_alerts: 1,
  alerts: 1,
  group_labels: [],
  labels: {},
  involved: [],
};

afterEach(() => {
  cleanup();
  clearMocks();
});

describe("the service desk", () => {
  it("finds the owner and who is on call, then opens the incident", async () => {
    const calls: { cmd: string; args: unknown }[] = [];
    mockIPC((cmd, args) => {
      calls.push({ cmd, args });
      if (cmd === "desk_route") return route;
      if (cmd === "desk_open") return { id: "INC-7" };
      if (cmd === "unrouted") return NOTHING_UNROUTED;
      throw new Error(`unexpected command ${cmd}`);
    });
    const onOpened = vi.fn();
    render(<ServiceDesk version={0} onOpened={onOpened} />);
    fireEvent.change(screen.getByLabelText(/customer's words/), { target: { value: "Customers can't pay" } });
    fireEvent.click(screen.getByRole("button", { name: "Find the owner" }));
    expect(await screen.findByText("Payments")).toBeTruthy();
    expect(screen.getByText("primary on payments-oncall: carla")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Open incident" }));
    await vi.waitFor(() => expect(onOpened).toHaveBeenCalledWith("INC-7"));
    expect(calls.map((c) => c.cmd).filter((c) => c !== "unrouted")).toEqual(["desk_route", "desk_open"]);
    expect(calls.find((c) => c.cmd === "desk_open")?.args).toEqual({ application: "payment-gateway", title: "Customers can't pay" });
  });

  it("adds the customer's report to the application's open incident instead of opening another", async () => {
    const calls: { cmd: string; args: unknown }[] = [];
    mockIPC((cmd, args) => {
      calls.push({ cmd, args });
      if (cmd === "desk_route") return { ...route, open_incidents: [{ ...OPEN_INC_1, opened_at: new Date().toISOString() }] };
      if (cmd === "desk_report") return OPEN_INC_1;
      if (cmd === "desk_open") return { id: "INC-2" };
      if (cmd === "unrouted") return NOTHING_UNROUTED;
      throw new Error(`unexpected command ${cmd}`);
    });
    const onOpened = vi.fn();
    render(<ServiceDesk version={0} onOpened={onOpened} />);
    fireEvent.change(screen.getByLabelText(/customer's words/), { target: { value: "I can't pay" } });
    fireEvent.click(screen.getByRole("button", { name: "Find the owner" }));
    // The open incident comes first, and adding to it is the default.
    const addTo = (await screen.findByRole("radio", { name: /Add this customer report to INC-1/ })) as HTMLInputElement;
    expect(addTo.checked).toBe(true);
    expect(addTo.closest("label")!.textContent).toMatch(/opened just now\)$/);
    expect(screen.queryByRole("button", { name: "Open incident" })).toBeNull();
    fireEvent.change(screen.getByLabelText(/Reference/), { target: { value: "CS-4411" } });
    fireEvent.click(screen.getByRole("button", { name: "Add to INC-1" }));
    await vi.waitFor(() => expect(onOpened).toHaveBeenCalledWith("INC-1", "Customer report added to INC-1."));
    expect(calls.find((c) => c.cmd === "desk_report")?.args).toEqual({
      incident: "INC-1",
      words: "I can't pay",
      reference: "CS-4411",
    });
    expect(calls.some((c) => c.cmd === "desk_open")).toBe(false);
  });

  it("still opens a new incident when the person chooses to", async () => {
    const calls: { cmd: string; args: unknown }[] = [];
    mockIPC((cmd, args) => {
      calls.push({ cmd, args });
      if (cmd === "desk_route") return { ...route, open_incidents: [OPEN_INC_1] };
      if (cmd === "desk_open") return { id: "INC-2" };
      if (cmd === "unrouted") return NOTHING_UNROUTED;
      throw new Error(`unexpected command ${cmd}`);
    });
    const onOpened = vi.fn();
    render(<ServiceDesk version={0} onOpened={onOpened} />);
    fireEvent.change(screen.getByLabelText(/customer's words/), { target: { value: "Refunds fail" } });
    fireEvent.click(screen.getByRole("button", { name: "Find the owner" }));
    fireEvent.click(await screen.findByRole("radio", { name: /Open a new incident/ }));
    fireEvent.click(screen.getByRole("button", { name: "Open incident" }));
    await vi.waitFor(() => expect(onOpened).toHaveBeenCalledWith("INC-2"));
    expect(calls.some((c) => c.cmd === "desk_report")).toBe(false);
  });

  it("says plainly when nothing matches", async () => {
    mockIPC((cmd) => {
      if (cmd === "desk_route") return null;
      if (cmd === "unrouted") return NOTHING_UNROUTED;
      throw new Error(`unexpected command ${cmd}`);
    });
    render(<ServiceDesk version={0} onOpened={() => {}} />);
    fireEvent.change(screen.getByLabelText(/customer's words/), { target: { value: "teleporter" } });
    fireEvent.click(screen.getByRole("button", { name: "Find the owner" }));
    expect((await screen.findByRole("status")).textContent).toMatch(/Nothing matches “teleporter”/);
  });

  it("routes an unrouted alert to its application and saves the route", async () => {
    const unrouted: UnroutedView = {
      alerts: [
        {
          source: "alertmanager",
          fingerprint: "f00d",
          state: "firing",
          labels: { alertname: "DiskFull", job: "ledger" },
          summary: "disk 95% full",
          last_seen: "2026-11-27T10:00:00Z",
          route_by: ["job", "ledger"],
        },
      ],
      applications: [{ id: "ledger", name: "Ledger", team_name: "Finance" }],
    };
    const forms: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "unrouted") return forms.length === 0 ? unrouted : NOTHING_UNROUTED;
      if (cmd === "assign_alert") {
        forms.push((args as { form: unknown }).form);
        return { incident: "INC-9", saved_route: "[[routes]]", also_routed: 0 };
      }
      throw new Error(`unexpected command ${cmd}`);
    });
    const onOpened = vi.fn();
    render(<ServiceDesk version={0} onOpened={onOpened} />);
    expect(await screen.findByText("DiskFull")).toBeTruthy();
    expect(screen.getByText("job=ledger")).toBeTruthy();
    const route = screen.getByRole("button", { name: "Route it" }) as HTMLButtonElement;
    expect(route.disabled).toBe(true);
    fireEvent.change(screen.getByLabelText("Application for DiskFull"), { target: { value: "ledger" } });
    fireEvent.click(route);
    await vi.waitFor(() => expect(onOpened).toHaveBeenCalledWith("INC-9", undefined));
    expect(forms).toEqual([{ source: "alertmanager", fingerprint: "f00d", application: "ledger", save: true }]);
    expect(await screen.findByText("Every alert found its application.")).toBeTruthy();
  });

  const settlement = (fingerprint: string, shard: string) => ({
    source: "alertmanager",
    fingerprint,
    state: "firing" as const,
    labels: { alertname: "SettlementLate", job: "nightly-settlement", shard },
    summary: null,
    last_seen: "2026-11-27T02:00:00Z",
    route_by: ["job", "nightly-settlement"] as [string, string],
  });

  it("groups alerts by the label that would route them and routes a group at once", async () => {
    let alerts = [
      ...[1, 2, 3, 4, 5, 6].map((n) => settlement(`f${n}`, String(n))),
      { ...settlement("odd", "0"), labels: { alertname: "NoLabels" }, route_by: null },
    ];
    const forms: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "unrouted") return { alerts, applications: [{ id: "payment-reports", name: "Payment Reports", team_name: "Payments" }] };
      if (cmd === "assign_alert") {
        forms.push((args as { form: unknown }).form);
        alerts = alerts.filter((a) => a.route_by === null);
        return { incident: "INC-3", saved_route: "[[routes]]", also_routed: 5 };
      }
      throw new Error(`unexpected command ${cmd}`);
    });
    const onOpened = vi.fn();
    render(<ServiceDesk version={0} onOpened={onOpened} />);
    const group = await screen.findByText("job=nightly-settlement", { selector: "strong code" });
    expect(group.closest("li")!.textContent).toContain("6 alerts (6 firing) · SettlementLate");
    // The alert with no routing label is routed on its own.
    expect(screen.getByRole("button", { name: "Route it" })).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Application for job=nightly-settlement"), { target: { value: "payment-reports" } });
    fireEvent.click(screen.getByRole("button", { name: "Route all 6 like this" }));
    await vi.waitFor(() =>
      expect(onOpened).toHaveBeenCalledWith(
        "INC-3",
        "Routed 6 alerts with job=nightly-settlement to Payment Reports; the saved route sends the next ones there too.",
      ),
    );
    // One assign, its route saved: the route routes the rest.
    expect(forms).toEqual([{ source: "alertmanager", fingerprint: "f1", application: "payment-reports", save: true }]);
    await vi.waitFor(() => expect(screen.queryByText("job=nightly-settlement", { selector: "strong code" })).toBeNull());
  });

  it("on a joined desktop routes each alert of a group, saving no route", async () => {
    let alerts = [1, 2, 3].map((n) => settlement(`f${n}`, String(n)));
    const forms: { fingerprint: string; save: boolean }[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "unrouted") return { alerts, applications: [{ id: "payment-reports", name: "Payment Reports", team_name: "Payments" }] };
      if (cmd === "assign_alert") {
        const form = (args as { form: { fingerprint: string; save: boolean } }).form;
        forms.push(form);
        alerts = alerts.filter((a) => a.fingerprint !== form.fingerprint);
        return { incident: "INC-1000000001", saved_route: null, also_routed: 0 };
      }
      throw new Error(`unexpected command ${cmd}`);
    });
    const onOpened = vi.fn();
    render(<ServiceDesk version={0} onOpened={onOpened} joined />);
    fireEvent.change(await screen.findByLabelText("Application for job=nightly-settlement"), { target: { value: "payment-reports" } });
    fireEvent.click(screen.getByRole("button", { name: "Route all 3 like this" }));
    await vi.waitFor(() =>
      expect(onOpened).toHaveBeenCalledWith("INC-1000000001", "Routed 3 alerts with job=nightly-settlement to Payment Reports."),
    );
    expect(forms.map((f) => [f.fingerprint, f.save])).toEqual([
      ["f1", false],
      ["f2", false],
      ["f3", false],
    ]);
  });
});
