import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { HubActions, HubStatus, hubLine } from "./Hub";
import { Settings } from "./Settings";
import type { HubView, SettingsView } from "./bindings";

afterEach(() => {
  cleanup();
  clearMocks();
  vi.restoreAllMocks();
});

const hub: HubView = {
  url: "https://hub.example:9177",
  person: "ben",
  desktop_id: "ben-7f3a91c2",
  connected: true,
  since: "2026-12-03T10:00:00Z",
  error: null,
  waiting: 0,
  refused: [],
};

const settings: SettingsView = {
  me: "ben",
  people: [{ id: "ben", name: "Ben Berg" }],
  teammates: false,
  flood_threshold: 5,
  notifications_chosen_here: false,
  start_at_login: false,
  start_at_login_detail: "",
  version: "0.1.0 (commit 1a2b3c4d5e6f)",
  hub: null,
};

describe("the team hub", () => {
  it("says in the top bar whether the hub answers and how many actions wait", () => {
    expect(hubLine(hub)).toBe("hub: connected");
    expect(hubLine({ ...hub, waiting: 1 })).toBe("hub: connected · 1 action waiting");
    const offline = hubLine({ ...hub, connected: false, waiting: 3 });
    expect(offline).toMatch(/^hub: offline since .+ · 3 actions waiting$/);
    expect(hubLine({ ...hub, connected: null })).toBe("hub: not reached yet");
    render(<HubStatus hub={{ ...hub, connected: false, error: "cannot connect" }} />);
    const status = screen.getByRole("status");
    expect(status.dataset.hubState).toBe("offline");
    expect(status.title).toContain("cannot connect");
  });

  it("shows nothing in the top bar on a desktop working alone", () => {
    const { container } = render(<HubStatus hub={null} />);
    expect(container.textContent).toBe("");
  });

  it("lists an incident's pending and refused actions with the hub's reason", () => {
    render(
      <HubActions
        actions={[
          { action: "acknowledge", incident: "INC-1", at: "2026-12-03T10:02:00Z", status: "refused", reason: "INC-1 is already acknowledged (by aisha)" },
          { action: "note", incident: "INC-1", at: "2026-12-03T10:03:00Z", status: "pending", reason: null },
        ]}
      />,
    );
    expect(screen.getByText(/already acknowledged \(by aisha\)/)).toBeTruthy();
    expect(screen.getByText("pending")).toBeTruthy();
    expect(screen.getByText(/reaches the hub by itself/)).toBeTruthy();
  });

  it("joins a hub from the settings with the address and token, then shows it", async () => {
    const calls: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "settings") return settings;
      if (cmd === "hub_connect") {
        calls.push(args);
        return { ...settings, hub };
      }
      throw new Error(`unexpected command ${cmd}`);
    });
    render(<Settings version={0} onPersonChosen={() => Promise.resolve()} />);
    const join = await screen.findByRole("button", { name: "Join the hub" });
    expect((join as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(screen.getByLabelText(/Hub address/), { target: { value: " https://hub.example:9177 " } });
    fireEvent.change(screen.getByLabelText(/Your token/), { target: { value: "secret-token-0123456789" } });
    fireEvent.click(join);
    expect(await screen.findByText("https://hub.example:9177")).toBeTruthy();
    expect(calls).toEqual([
      { form: { url: "https://hub.example:9177", token: "secret-token-0123456789", insecure_plaintext: false } },
    ]);
    // The person is the token's: not chosen here any more.
    expect((screen.getByRole("combobox") as HTMLSelectElement).disabled).toBe(true);
  });

  it("says why joining failed and changes nothing", async () => {
    mockIPC((cmd) => {
      if (cmd === "settings") return settings;
      if (cmd === "hub_connect") {
        throw { code: "refused", message: "the hub refused (401): unknown or revoked person token (at headers.authorization)" };
      }
      throw new Error(`unexpected command ${cmd}`);
    });
    render(<Settings version={0} onPersonChosen={() => Promise.resolve()} />);
    fireEvent.change(await screen.findByLabelText(/Hub address/), { target: { value: "https://hub.example:9177" } });
    fireEvent.change(screen.getByLabelText(/Your token/), { target: { value: "wrong-token-0123456789" } });
    fireEvent.click(screen.getByRole("button", { name: "Join the hub" }));
    expect((await screen.findByRole("alert")).textContent).toContain("unknown or revoked person token");
    expect(screen.getByRole("button", { name: "Join the hub" })).toBeTruthy();
  });

  it("asks before leaving with actions still waiting, and leaves only when told", async () => {
    const joined = { ...settings, hub: { ...hub, waiting: 2 } };
    const left: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "settings") return joined;
      if (cmd === "hub_disconnect") {
        left.push(args);
        return settings;
      }
      throw new Error(`unexpected command ${cmd}`);
    });
    const confirm = vi.spyOn(window, "confirm").mockReturnValueOnce(false).mockReturnValueOnce(true);
    render(<Settings version={0} onPersonChosen={() => Promise.resolve()} />);
    fireEvent.click(await screen.findByRole("button", { name: "Leave the hub" }));
    expect(confirm).toHaveBeenCalledTimes(1);
    expect(left).toEqual([]);
    fireEvent.click(screen.getByRole("button", { name: "Leave the hub" }));
    expect(await screen.findByRole("button", { name: "Join the hub" })).toBeTruthy();
    expect(left).toEqual([{ discardWaiting: true }]);
  });
});
