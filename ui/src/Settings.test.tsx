import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { Settings } from "./Settings";
import type { SettingsView } from "./bindings";

afterEach(() => {
  cleanup();
  clearMocks();
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
    version: "0.1.0 (commit 1a2b3c4d5e6f)",
    hub: null,
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
    // Which build this is, and the commit it came from.
    expect(await screen.findByText("Stopline 0.1.0 (commit 1a2b3c4d5e6f)")).toBeTruthy();
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
