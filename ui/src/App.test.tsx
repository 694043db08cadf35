import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { emit } from "@tauri-apps/api/event";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { App } from "./App";
import type { IncidentRow, Overview } from "./bindings";
import { age } from "./time";

function incident(overrides: Partial<IncidentRow>): IncidentRow {
  return {
    id: "INC-1",
    title: "Customers can't pay",
    state: "triggered",
    severity: "major",
    application: "checkout-web",
    application_name: "Checkout Web",
    team: "checkout",
    team_name: "Checkout",
    opened_at: new Date(Date.now() - 5 * 60000).toISOString(),
    acknowledged_by: null,
    resolved_by: null,
    exposure_per_hour: 650000,
    loss_entered: null,
    loss_stopped_at: null,
    firing_alerts: 1,
    alerts: 1,
    group_labels: [],
    labels: {},
    involved: [],
    ...overrides,
  };
}

function overview(overrides: Partial<Overview>): Overview {
  return {
    workspace: "Northwind Retail",
    config_path: "/home/alice/.config/stopline/stopline.toml",
    notice: null,
    config_error: null,
    incidents: [],
    engine: { mode: "hosting", webhook: "http://127.0.0.1:9177", notifications: "notifications available (dunst 1.9.0, with actions)" },
    me: "ben",
    currency: "GBP",
    my_teams: [],
    stopped_teams: [],
    stopped_lines: [],
    locale: null,
    has_alerts: true,
    unrouted_alerts: 0,
    offline_sources: [],
    open_incident: null,
    hub: null,
    people: [
      { id: "aisha", name: "Aisha Adeyemi" },
      { id: "ben", name: "Ben Berg" },
    ],
    ...overrides,
  };
}

/** Answers the `overview` command with `answer`; anything else is a test failure. */
function serve(answer: () => Overview) {
  const calls: string[] = [];
  mockIPC(
    (cmd) => {
      calls.push(cmd);
      if (cmd === "overview") return answer();
      throw new Error(`unexpected command ${cmd}`);
    },
    { shouldMockEvents: true },
  );
  return calls;
}

afterEach(async () => {
  vi.useRealTimers();
  cleanup();
  // Unmounting stops listening asynchronously: let it finish before the mocks go.
  await new Promise((resolve) => setTimeout(resolve, 0));
  clearMocks();
});

/** A window whose queue lists `incidents`, whose actions succeed, and whose incident panel cannot
 *  read (not what these tests look at); returns every command it was sent, with its arguments. */
function queueOf(incidents: IncidentRow[]): { cmd: string; args: unknown }[] {
  const calls: { cmd: string; args: unknown }[] = [];
  mockIPC((cmd, args) => {
    calls.push({ cmd, args });
    if (cmd === "overview") return overview({ incidents });
    if (cmd === "act") return {};
    if (cmd === "incident") throw { code: "store", message: "not in this test" };
    throw new Error(`unexpected command ${cmd}`);
  });
  return calls;
}

describe("the incident queue", () => {
  it("lists open incidents with team, application, severity and age", async () => {
    serve(() =>
      overview({
        incidents: [
          incident({}),
          incident({
            id: "INC-2",
            title: "Slow search",
            severity: "minor",
            state: "acknowledged",
            acknowledged_by: "ben",
            team: "search",
            team_name: "Search",
            application: "search-api",
            application_name: "Search API",
          }),
        ],
      }),
    );
    render(<App />);
    const first = await screen.findByText("Customers can't pay");
    const row = first.closest("tr")!;
    expect(within(row).getByText("INC-1")).toBeTruthy();
    expect(within(row).getByText("Checkout")).toBeTruthy();
    expect(within(row).getByText("Checkout Web")).toBeTruthy();
    expect(within(row).getByText("major")).toBeTruthy();
    expect(within(row).getByText("5m")).toBeTruthy();
    const second = screen.getByText("Slow search").closest("tr")!;
    expect(within(second).getByText("acknowledged by Ben Berg")).toBeTruthy();
    expect(screen.getByText("Northwind Retail", { exact: false })).toBeTruthy();
  });

  it("says plainly when nothing is open", async () => {
    serve(() => overview({}));
    render(<App />);
    expect(await screen.findByText("No open incidents.")).toBeTruthy();
    // The app's own way to open one, not a command line.
    expect(screen.getByRole("button", { name: "Open an incident from the service desk" })).toBeTruthy();
  });

  it("shows unrouted incidents as unrouted, not blank", async () => {
    serve(() =>
      overview({
        incidents: [incident({ team: null, team_name: null, application: null, application_name: null })],
      }),
    );
    render(<App />);
    const row = (await screen.findByText("Customers can't pay")).closest("tr")!;
    expect(within(row).getAllByText("unrouted")).toHaveLength(2);
  });

  it("keeps listing incidents when the config is broken, and says why", async () => {
    serve(() =>
      overview({
        workspace: null,
        config_error: "stopline.toml:12:8: applications[0].team: team \"x\" does not exist",
        incidents: [incident({})],
      }),
    );
    render(<App />);
    expect(await screen.findByText(/has problems/)).toBeTruthy();
    expect(screen.getByText(/team "x" does not exist/)).toBeTruthy();
    expect(screen.getByText("Customers can't pay")).toBeTruthy();
  });

  it("refreshes when the engine says the store changed, without waiting for its timer", async () => {
    let incidents: IncidentRow[] = [];
    const calls = serve(() => overview({ incidents }));
    render(<App />);
    expect(await screen.findByText("No open incidents.")).toBeTruthy();
    incidents = [incident({})];
    await emit("store-changed");
    expect(await screen.findByText("Customers can't pay")).toBeTruthy();
    expect(calls.filter((c) => c === "overview").length).toBe(2);
  });

  it("is driven from the keyboard: j/k move, a acknowledges, Enter opens, Escape closes", async () => {
    const calls = queueOf([incident({ id: "INC-2" }), incident({ id: "INC-1" })]);
    render(<App />);
    await screen.findAllByText("Customers can't pay");
    const row = (id: string) => document.querySelector(`tr[data-incident="${id}"]`);
    expect(row("INC-2")?.getAttribute("aria-selected")).toBe("true");
    fireEvent.keyDown(window, { key: "j" });
    expect(row("INC-1")?.getAttribute("aria-selected")).toBe("true");
    fireEvent.keyDown(window, { key: "a" });
    await waitFor(() =>
      expect(calls.find((c) => c.cmd === "act")?.args).toEqual({ id: "INC-1", action: { kind: "acknowledge" } }),
    );
    fireEvent.keyDown(window, { key: "Enter" });
    expect(await screen.findByText(/Cannot read INC-1/)).toBeTruthy();
    fireEvent.keyDown(window, { key: "Escape" });
    await waitFor(() => expect(screen.queryByText(/Cannot read INC-1/)).toBeNull());
  });

  it("never lets a shortcut act on another incident than the one a button was pressed on", async () => {
    const calls = queueOf([incident({ id: "INC-2" }), incident({ id: "INC-1" })]);
    render(<App />);
    await screen.findAllByText("Customers can't pay");
    const row = (id: string) => document.querySelector(`tr[data-incident="${id}"]`)!;
    // The keyboard cursor is on INC-2; INC-1 is opened with the mouse.
    fireEvent.click(within(row("INC-1") as HTMLElement).getByText("INC-1"));
    expect(await screen.findByText(/Cannot read INC-1/)).toBeTruthy();
    expect(row("INC-1").getAttribute("aria-selected")).toBe("true");
    // Enter and `a` on a focused button belong to the button, not to the shortcuts.
    const button = within(row("INC-2") as HTMLElement).getByText("INC-2");
    button.focus();
    fireEvent.keyDown(button, { key: "Enter" });
    fireEvent.keyDown(button, { key: "a" });
    expect(screen.getByText(/Cannot read INC-1/)).toBeTruthy();
    expect(calls.filter((c) => c.cmd === "act")).toEqual([]);
    // With nothing focused, `a` acts on the open incident.
    button.blur();
    fireEvent.keyDown(window, { key: "a" });
    await waitFor(() =>
      expect(calls.find((c) => c.cmd === "act")?.args).toEqual({ id: "INC-1", action: { kind: "acknowledge" } }),
    );
  });

  it("shows the entered loss and a loss that stopped, and says so", async () => {
    serve(() =>
      overview({
        incidents: [
          incident({ id: "INC-2", loss_entered: 120000 }),
          incident({ id: "INC-1", opened_at: "2026-11-27T10:00:00Z", loss_stopped_at: "2026-11-27T10:30:00Z" }),
        ],
      }),
    );
    render(<App />);
    const loss = async (id: string) => {
      await screen.findByText(id);
      return document.querySelector(`tr[data-incident="${id}"] td.loss`)!;
    };
    const entered = await loss("INC-2");
    expect(entered.textContent).toMatch(/GBP 120,000.*entered/);
    const stopped = await loss("INC-1");
    expect(stopped.textContent).toMatch(/GBP 325,000.*stopped/);
    expect(stopped.querySelector("[title]")!.getAttribute("title")).toMatch(/alerts cleared at/);
  });

  it("asks once before `r` resolves, naming the incident, and `r r` resolves nothing twice", async () => {
    const calls = queueOf([incident({ id: "INC-2", title: "Search is down" }), incident({ id: "INC-1" })]);
    render(<App />);
    await screen.findByText("Search is down");
    const acts = () => calls.filter((c) => c.cmd === "act");
    fireEvent.keyDown(window, { key: "r" });
    fireEvent.keyDown(window, { key: "r" });
    const dialog = await screen.findByRole("alertdialog");
    expect(within(dialog).getByText(/Resolve INC-2 “Search is down”\?/)).toBeTruthy();
    expect(acts()).toEqual([]);
    // Escape cancels, from the focused "Resolve INC-2" button too; nothing was resolved.
    fireEvent.keyDown(within(dialog).getByText("Resolve INC-2"), { key: "Escape" });
    await waitFor(() => expect(screen.queryByRole("alertdialog")).toBeNull());
    expect(acts()).toEqual([]);
    // Asked again and confirmed: exactly one resolve, of the incident named.
    fireEvent.keyDown(window, { key: "r" });
    fireEvent.click(await screen.findByText("Resolve INC-2"));
    await waitFor(() => expect(acts()).toHaveLength(1));
    expect(acts()[0].args).toEqual({ id: "INC-2", action: { kind: "resolve", force: false } });
    expect(screen.queryByRole("alertdialog")).toBeNull();
  });

  it("a refused keyboard resolve opens the incident, offers the app's own way on, and leaves with its cause", async () => {
    const calls: { cmd: string; args: unknown }[] = [];
    mockIPC((cmd, args) => {
      calls.push({ cmd, args });
      if (cmd === "overview") return overview({ incidents: [incident({ id: "INC-1", state: "acknowledged" })] });
      if (cmd === "act") {
        const action = (args as { action: { force: boolean } }).action;
        if (!action.force) {
          throw {
            code: "refused",
            message:
              "INC-1 still has required steps open: “Restore availability”. Finish or skip them in its checklist, or resolve anyway (recorded on the timeline).",
          };
        }
        return {};
      }
      if (cmd === "incident") throw { code: "store", message: "not in this test" };
      if (cmd === "on_call") return new Promise(() => {});
      throw new Error(`unexpected command ${cmd}`);
    });
    render(<App />);
    await screen.findByText("INC-1");
    fireEvent.keyDown(window, { key: "r" });
    fireEvent.click(await screen.findByText("Resolve INC-1"));
    const banner = await screen.findByText(/still has required steps open/);
    expect(banner.textContent).not.toMatch(/stopline|--force/);
    // The incident opens, where its checklist is.
    await waitFor(() => expect(calls.some((c) => c.cmd === "incident")).toBe(true));
    // Leaving for another view takes the banner away: its cause is not there.
    fireEvent.click(screen.getByRole("button", { name: "On call" }));
    await waitFor(() => expect(screen.queryByText(/still has required steps open/)).toBeNull());
    // Back, refused again, and resolved anyway from the banner.
    fireEvent.click(screen.getByRole("button", { name: "Queue" }));
    fireEvent.keyDown(window, { key: "Escape" });
    fireEvent.keyDown(window, { key: "r" });
    fireEvent.click(await screen.findByText("Resolve INC-1"));
    fireEvent.click(await screen.findByRole("button", { name: "Resolve anyway (recorded)" }));
    await waitFor(() =>
      expect(calls.filter((c) => c.cmd === "act").slice(-1)[0]?.args).toEqual({
        id: "INC-1",
        action: { kind: "resolve", force: true },
      }),
    );
    await waitFor(() => expect(screen.queryByText(/still has required steps open/)).toBeNull());
  });

  it("cuts a long title to its column and shows it whole on hover", async () => {
    const long = "PaymentGatewaySettlementReconciliationConsumerLagGrowingBeyondTheAgreedThreshold: " + "x".repeat(200);
    serve(() => overview({ incidents: [incident({ title: long })] }));
    render(<App />);
    const title = await screen.findByText(long);
    expect(title.classList.contains("title-text")).toBe(true);
    expect(title.getAttribute("title")).toBe(long);
  });

  it("shows the loss so far, the team's line, the unrouted alerts and offline sources", async () => {
    serve(() =>
      overview({
        incidents: [incident({ team: "checkout" })],
        stopped_teams: ["checkout"],
        stopped_lines: [
          { team: "checkout", team_name: "Checkout", since: "2026-11-27T10:02:00Z", incidents: ["INC-1"] },
        ],
        unrouted_alerts: 3,
        offline_sources: ["am: offline since 10:42 GMT, 3 actions waiting"],
      }),
    );
    render(<App />);
    expect(await screen.findByText("stopped")).toBeTruthy();
    expect(screen.getByText(/Checkout line STOPPED/).closest("p")!.textContent).toContain("by INC-1");
    expect(screen.getByText("Alert source am: offline since 10:42 GMT, 3 actions waiting.")).toBeTruthy();
    // 650,000/h for five minutes (less the part of a second the loss is not counted to): about
    // 54,167.
    expect(screen.getByText(/GBP 5[34],\d\d\d/)).toBeTruthy();
    expect(screen.getByText(/3 alerts/)).toBeTruthy();
  });

  it("opens the incident a notification's Open button named", async () => {
    const calls: string[] = [];
    mockIPC(
      (cmd, args) => {
        calls.push(cmd);
        if (cmd === "overview") return overview({ incidents: [incident({})] });
        if (cmd === "incident") {
          expect(args).toEqual({ id: "INC-1" });
          throw { code: "store", message: "not in this test" };
        }
        throw new Error(`unexpected command ${cmd}`);
      },
      { shouldMockEvents: true },
    );
    render(<App />);
    await screen.findAllByText("Customers can't pay");
    await emit("open-incident", "INC-1");
    expect(await screen.findByText(/Cannot read INC-1/)).toBeTruthy();
    expect(calls).toContain("incident");
  });

  it("says whether this window runs the engine", async () => {
    serve(() => overview({}));
    render(<App />);
    expect(await screen.findByText(/Engine running/)).toBeTruthy();
    expect(screen.getByText("http://127.0.0.1:9177")).toBeTruthy();
  });

  it("says when another engine holds the data directory", async () => {
    serve(() => overview({ engine: { mode: "attached", pid: "4242" } }));
    render(<App />);
    const status = await screen.findByRole("status");
    expect(status.textContent).toMatch(/Another Stopline engine .* pid 4242/);
  });

  it("says when the engine could not start, and still lists incidents", async () => {
    serve(() =>
      overview({
        engine: { mode: "failed", reason: "cannot listen on 127.0.0.1:9177: address in use" },
        incidents: [incident({})],
      }),
    );
    render(<App />);
    expect(await screen.findByText(/The engine is not running/)).toBeTruthy();
    expect(screen.getByText(/address in use/)).toBeTruthy();
    expect(screen.getByText("Customers can't pay")).toBeTruthy();
  });

  it("shows the demo-workspace notice on a first start", async () => {
    serve(() => overview({ notice: "Stopline started on the demo workspace" }));
    render(<App />);
    expect(await screen.findByRole("status")).toBeTruthy();
  });

  it("reports a store failure and recovers on retry", async () => {
    let fail = true;
    mockIPC((cmd) => {
      if (cmd !== "overview") throw new Error(`unexpected command ${cmd}`);
      if (fail) throw { code: "store", message: "cannot open the store at /x: disk I/O error" };
      return overview({ incidents: [incident({})] });
    });
    render(<App />);
    const alert = await screen.findByRole("alert");
    expect(within(alert).getByText(/disk I\/O error/)).toBeTruthy();
    fail = false;
    fireEvent.click(within(alert).getByText("Try again"));
    expect(await screen.findByText("Customers can't pay")).toBeTruthy();
  });

  it("re-reads the store on its own, so CLI changes appear", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let incidents: IncidentRow[] = [];
    const calls = serve(() => overview({ incidents }));
    render(<App />);
    await screen.findByText("No open incidents.");
    incidents = [incident({ title: "Opened from the CLI" })];
    await vi.advanceTimersByTimeAsync(5000);
    await waitFor(() => expect(screen.getByText("Opened from the CLI")).toBeTruthy());
    expect(calls.length).toBeGreaterThanOrEqual(2);
  });
});

describe("age", () => {
  it("reads like a person would say it", () => {
    const now = new Date("2026-11-27T12:00:00Z");
    expect(age("2026-11-27T11:59:40Z", now)).toBe("just now");
    expect(age("2026-11-27T11:56:00Z", now)).toBe("4m");
    expect(age("2026-11-27T09:55:00Z", now)).toBe("2h 5m");
    expect(age("2026-11-25T11:00:00Z", now)).toBe("2d 1h");
    expect(age("not a time", now)).toBe("unknown");
  });

  it("filters the queue by words and chips, `/` focuses the filter, and Enter opens the first kept", async () => {
    // Distinct ages, so "Oldest first" does not hang on which incident was made a millisecond earlier.
    const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60000).toISOString();
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      if (cmd === "overview") {
        return overview({
          me: "ben",
          my_teams: ["payments"],
          incidents: [
            incident({ id: "INC-3", title: "Disk full", team: "search", team_name: "Search", severity: "minor", opened_at: minutesAgo(5) }),
            incident({
              id: "INC-2",
              title: "HighErrorRate",
              opened_at: minutesAgo(20),
              team: "payments",
              team_name: "Payments",
              labels: { alertname: "HighErrorRate", region: "eu-west" },
              group_labels: [["region", "eu-west"]],
              firing_alerts: 3,
              alerts: 4,
            }),
            incident({ id: "INC-1", title: "Latency", team: "payments", team_name: "Payments", state: "acknowledged", acknowledged_by: "ben", opened_at: minutesAgo(10) }),
          ],
        });
      }
      if (cmd === "incident") throw { code: "store", message: "not in this test" };
      throw new Error(`unexpected command ${cmd}`);
    });
    render(<App />);
    await screen.findByText("Disk full");
    const rows = () => Array.from(document.querySelectorAll("tr[data-incident]")).map((r) => r.getAttribute("data-incident"));
    // My team's first.
    expect(rows()).toEqual(["INC-2", "INC-1", "INC-3"]);
    // The grouping label and the firing count show on the row.
    const row = document.querySelector("tr[data-incident=INC-2]")!;
    expect(within(row as HTMLElement).getByText("region=eu-west")).toBeTruthy();
    expect(within(row as HTMLElement).getByText("3 firing")).toBeTruthy();

    fireEvent.keyDown(window, { key: "/" });
    await new Promise((resolve) => setTimeout(resolve, 0));
    const field = screen.getByRole("searchbox");
    expect(document.activeElement).toBe(field);
    // A label's value finds it.
    fireEvent.change(field, { target: { value: "eu-west" } });
    expect(rows()).toEqual(["INC-2"]);
    expect(screen.getByText("1 of 3")).toBeTruthy();
    fireEvent.change(field, { target: { value: "payments" } });
    expect(rows()).toEqual(["INC-2", "INC-1"]);
    fireEvent.click(screen.getByRole("button", { name: "Triggered" }));
    expect(rows()).toEqual(["INC-2"]);
    fireEvent.click(screen.getByRole("button", { name: "Triggered" }));
    fireEvent.click(screen.getByRole("button", { name: "Mine" }));
    expect(rows()).toEqual(["INC-1"]);
    fireEvent.click(screen.getByRole("button", { name: "Mine" }));
    fireEvent.change(field, { target: { value: "nothing like this" } });
    expect(screen.getByText(/No open incident matches the filter/)).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Clear the filter" }));
    expect(rows()).toEqual(["INC-2", "INC-1", "INC-3"]);
    // Sorted by severity: major before minor, triggered before acknowledged.
    fireEvent.change(screen.getByRole("combobox", { name: /Sort/ }), { target: { value: "severity" } });
    expect(rows()).toEqual(["INC-2", "INC-1", "INC-3"]);
    fireEvent.change(screen.getByRole("combobox", { name: /Sort/ }), { target: { value: "age" } });
    expect(rows()).toEqual(["INC-2", "INC-1", "INC-3"]);
    // Enter in the filter opens the first row kept, beside the queue.
    fireEvent.change(field, { target: { value: "disk" } });
    fireEvent.keyDown(field, { key: "Enter" });
    await screen.findByText(/Cannot read INC-3/);
    expect(document.querySelector(".split.with-incident")).toBeTruthy();
    expect(document.querySelector("tr[data-incident=INC-3]")!.getAttribute("aria-current")).toBe("true");
  });
});
