import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { OnCall, Settings, Sources, localInput } from "./Views";
import type { OnCallOverview, SettingsView, SourcesView } from "./bindings";

afterEach(() => {
  cleanup();
  clearMocks();
});

const shift = {
  rota: "payments-oncall",
  layer: "primary",
  person: "carla",
  since: "2026-11-23T09:00:00Z",
  until: "2026-11-30T09:00:00Z",
  is_override: false,
};

describe("the on-call view", () => {
  it("shows who is on each layer now and next, and my shifts", async () => {
    const data: OnCallOverview = {
      rotas: [
        {
          id: "payments-oncall",
          name: "Payments on call",
          kind: "team",
          teams: ["payments"],
          layers: [{ layer: "primary", now: shift, next: { ...shift, person: "dmitri" } }],
        },
      ],
      my_shifts: [shift],
    };
    mockIPC((cmd) => {
      if (cmd === "on_call") return data;
      throw new Error(`unexpected command ${cmd}`);
    });
    render(<OnCall version={0} people={[]} />);
    expect(await screen.findByText(/carla, until/)).toBeTruthy();
    expect(screen.getByText(/dmitri from/)).toBeTruthy();
    expect(screen.getByText(/primary on payments-oncall:/)).toBeTruthy();
  });
});

describe("the sources view", () => {
  it("shows each source's health and waiting actions, the webhook and a masked token, and sends a test page", async () => {
    const data: SourcesView = {
      sources: [
        {
          name: "alertmanager",
          kind: "alertmanager",
          url: "http://127.0.0.1:9093",
          state: "failing",
          last_success: null,
          last_error: "connection refused",
          failing_since: "2026-11-27T10:00:00Z",
          waiting: 3,
          waiting_since: "2026-11-27T10:01:00Z",
          abandoned: 0,
        },
      ],
      webhook: "http://127.0.0.1:9177",
      token: "s3cret-token",
      notifications: "notifications available (dunst 1.9.0, with actions)",
    };
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      if (cmd === "sources") return data;
      if (cmd === "test_page") return "notifications available (dunst 1.9.0, with actions)";
      throw new Error(`unexpected command ${cmd}`);
    });
    render(<Sources version={0} />);
    expect(await screen.findByText("offline")).toBeTruthy();
    expect(screen.getByText(/3 actions waiting/)).toBeTruthy();
    expect(screen.getByText("connection refused")).toBeTruthy();
    expect(screen.getByText("http://127.0.0.1:9177/v1/alertmanager")).toBeTruthy();
    expect(screen.queryByText("s3cret-token")).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Show" }));
    expect(screen.getByText("s3cret-token")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Send a test page" }));
    expect((await screen.findByRole("status")).textContent).toMatch(/Test page sent/);
    expect(calls).toEqual(["sources", "test_page"]);
  });
});

describe("covering a shift", () => {
  it("adds an override as the person at this desk and shows who is on call after", async () => {
    const before: OnCallOverview = {
      rotas: [
        {
          id: "payments-oncall",
          name: "Payments on call",
          kind: "team",
          teams: ["payments"],
          layers: [{ layer: "primary", now: shift, next: null }],
        },
      ],
      my_shifts: [],
    };
    const after: OnCallOverview = {
      ...before,
      rotas: [{ ...before.rotas[0], layers: [{ layer: "primary", now: { ...shift, person: "ben", is_override: true }, next: null }] }],
    };
    const forms: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "on_call") return before;
      if (cmd === "add_override") {
        const form = (args as { form: { person: string } }).form;
        forms.push(form);
        if (form.person === "zed") throw { code: "bad_input", message: "cannot add the override: unknown person" };
        return after;
      }
      throw new Error(`unexpected command ${cmd}`);
    });
    render(<OnCall version={0} people={[{ id: "ben", name: "Ben Berg" }, { id: "zed", name: "Zed" }]} />);
    const add = (await screen.findByRole("button", { name: "Add the override" })) as HTMLButtonElement;
    expect(add.disabled).toBe(true);
    fireEvent.change(screen.getByLabelText("Who covers"), { target: { value: "zed" } });
    fireEvent.change(screen.getByLabelText("From"), { target: { value: "2026-12-24T17:00" } });
    fireEvent.change(screen.getByLabelText("To"), { target: { value: "2026-12-26T09:00" } });
    fireEvent.click(add);
    expect((await screen.findByRole("alert")).textContent).toMatch(/unknown person/);
    fireEvent.change(screen.getByLabelText("Who covers"), { target: { value: "ben" } });
    fireEvent.click(add);
    expect(await screen.findByText(/ben \(override\), until/)).toBeTruthy();
    expect(forms[1]).toEqual({
      rota: "payments-oncall",
      layer: "primary",
      person: "ben",
      from: new Date("2026-12-24T17:00").toISOString(),
      to: new Date("2026-12-26T09:00").toISOString(),
    });
  });

  it("fills the form with local times", () => {
    expect(localInput(new Date(2026, 11, 4, 7, 5))).toBe("2026-12-04T07:05");
  });
});

describe("the settings view", () => {
  const settings: SettingsView = {
    me: "ben",
    people: [{ id: "ben", name: "Ben Berg" }],
    teammates: false,
    flood_threshold: 5,
    notifications_chosen_here: false,
    start_at_login: false,
    start_at_login_detail: "/home/ben/.config/autostart/stopline.desktop",
  };

  it("changes this desktop's notifications and start at login, and hands back to the config", async () => {
    const changes: unknown[] = [];
    let current = settings;
    mockIPC((cmd, args) => {
      if (cmd === "settings") return current;
      if (cmd === "save_settings") {
        const change = (args as { change: Record<string, unknown> }).change;
        changes.push(change);
        current = {
          ...current,
          teammates: (change.teammates as boolean | null) ?? current.teammates,
          start_at_login: (change.start_at_login as boolean | null) ?? current.start_at_login,
          flood_threshold: (change.flood_threshold as number | null) ?? current.flood_threshold,
          notifications_chosen_here: !change.reset_notifications,
        };
        return current;
      }
      throw new Error(`unexpected command ${cmd}`);
    });
    render(<Settings version={0} onPersonChosen={() => Promise.resolve()} />);
    fireEvent.click(await screen.findByLabelText(/Also show my teammates' pages/));
    expect(await screen.findByText("Chosen on this desktop.")).toBeTruthy();
    fireEvent.change(screen.getByLabelText(/Pages a minute/), { target: { value: "0" } });
    expect((screen.getByRole("button", { name: "Save" }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(screen.getByLabelText(/Pages a minute/), { target: { value: "9" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    fireEvent.click(screen.getByLabelText(/Start Stopline in the tray/));
    await screen.findByDisplayValue("9");
    fireEvent.click(screen.getByRole("button", { name: "Use the config's" }));
    expect(await screen.findByText("As the config's [notifications] says.")).toBeTruthy();
    const none = { teammates: null, flood_threshold: null, start_at_login: null, reset_notifications: false };
    expect(changes).toEqual([
      { ...none, teammates: true },
      { ...none, flood_threshold: 9 },
      { ...none, start_at_login: true },
      { ...none, reset_notifications: true },
    ]);
  });

  it("switches the theme at once and remembers it", async () => {
    mockIPC((cmd) => {
      if (cmd === "settings") return settings;
      throw new Error(`unexpected command ${cmd}`);
    });
    render(<Settings version={0} onPersonChosen={() => Promise.resolve()} />);
    fireEvent.click(await screen.findByLabelText("Dark"));
    expect(document.documentElement.dataset.theme).toBe("dark");
    expect(window.localStorage.getItem("stopline.theme")).toBe("dark");
    fireEvent.click(screen.getByLabelText("Light"));
    expect(document.documentElement.dataset.theme).toBe("light");
    fireEvent.click(screen.getByLabelText("As the system"));
    expect(window.localStorage.getItem("stopline.theme")).toBeNull();
  });
});
