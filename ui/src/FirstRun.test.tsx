import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { FirstRun, loopbackOnly, receiverSnippet } from "./FirstRun";
import type { Overview } from "./bindings";

afterEach(() => {
  cleanup();
  clearMocks();
  window.localStorage.clear();
});

const overview = (overrides: Partial<Overview>): Overview => ({
  workspace: "Northwind",
  config_path: "/tmp/stopline.toml",
  notice: null,
  config_error: null,
  incidents: [],
  engine: { mode: "hosting", webhook: "http://127.0.0.1:9177", notifications: "notifications available" },
  me: null,
  people: [
    { id: "aisha", name: "Aisha Adeyemi" },
    { id: "ben", name: "Ben Berg" },
    { id: "carla", name: "Carla Castillo" },
  ],
  currency: "GBP",
  my_teams: [],
  stopped_teams: [],
  stopped_lines: [],
  locale: null,
  has_alerts: false,
  unrouted_alerts: 0,
  offline_sources: [],
  open_incident: null,
  hub: null,
  ...overrides,
});

const SOURCES = { sources: [], webhook: "http://127.0.0.1:9177", token: "s3cret-token", notifications: "ok" };

describe("the first-run card", () => {
  it("finds who sits here by name and says so to the engine", async () => {
    const chosen: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "sources") return SOURCES;
      if (cmd === "set_me") {
        chosen.push(args);
        return null;
      }
      throw new Error(`unexpected command ${cmd}`);
    });
    let reloaded = 0;
    render(<FirstRun overview={overview({})} onChosen={() => (reloaded += 1)} />);
    fireEvent.change(screen.getByRole("searchbox", { name: "Find yourself by name" }), { target: { value: "be" } });
    expect(screen.queryByRole("button", { name: /Aisha/ })).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: /Ben Berg/ }));
    await waitFor(() => expect(reloaded).toBe(1));
    expect(chosen).toEqual([{ person: "ben" }]);
  });

  it("shows the Alertmanager receiver with the token masked, and copies it whole", async () => {
    const copied: string[] = [];
    Object.defineProperty(navigator, "clipboard", {
      value: { writeText: (text: string) => (copied.push(text), Promise.resolve()) },
      configurable: true,
    });
    mockIPC((cmd) => {
      if (cmd === "sources") return SOURCES;
      throw new Error(`unexpected command ${cmd}`);
    });
    render(<FirstRun overview={overview({ me: "ben" })} onChosen={() => {}} />);
    const shown = await screen.findByLabelText("Alertmanager receiver");
    expect(shown.textContent).toContain("url: http://127.0.0.1:9177/v1/alertmanager");
    expect(shown.textContent).not.toContain("s3cret-token");
    expect(screen.queryByText("Who are you?")).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Copy the receiver" }));
    await screen.findByText("Copied.");
    expect(copied[0]).toBe(receiverSnippet("http://127.0.0.1:9177", "s3cret-token"));
    expect(copied[0]).toContain("credentials: s3cret-token");
    // Loopback only: the card says what to change for an Alertmanager elsewhere.
    expect(document.querySelector("[data-loopback]")!.textContent).toContain("[webhook] listen");
  });

  it("is not shown once someone sits here and alerts arrive, or once put away", () => {
    mockIPC(() => SOURCES);
    const { container } = render(<FirstRun overview={overview({ me: "ben", has_alerts: true })} onChosen={() => {}} />);
    expect(container.textContent).toBe("");
    cleanup();
    render(<FirstRun overview={overview({})} onChosen={() => {}} />);
    fireEvent.click(screen.getByRole("button", { name: "Not now" }));
    expect(screen.queryByText("Welcome to Stopline")).toBeNull();
    cleanup();
    render(<FirstRun overview={overview({})} onChosen={() => {}} />);
    expect(screen.queryByText("Welcome to Stopline")).toBeNull();
  });

  it("knows a loopback address", () => {
    expect(loopbackOnly("http://127.0.0.1:9177")).toBe(true);
    expect(loopbackOnly("http://[::1]:9177")).toBe(true);
    expect(loopbackOnly("http://10.0.0.5:9177")).toBe(false);
  });
});
