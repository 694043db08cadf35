import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { OnCall, localInput } from "./OnCall";
import type { OnCallOverview } from "./bindings";

afterEach(() => {
  cleanup();
  clearMocks();
});

const shift = {
  rota: "payments-oncall",
  layer: "primary",
  person: "carla",
  person_name: "Carla Castillo",
  since: "2026-11-23T09:00:00Z",
  until: "2026-11-30T09:00:00Z",
  is_override: false,
};

/** No timeline, no calendar: what the older tests look at. */
const NO_TIMELINE = {
  timeline_from: "2026-11-23T00:00:00Z",
  timeline_to: "2026-12-07T00:00:00Z",
  timeline: [],
  overrides_editable: true,
  my_calendar_url: null,
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
          layers: [{ layer: "primary", now: shift, next: { ...shift, person: "dmitri", person_name: "Dmitri Dubois" } }],
        },
      ],
      my_shifts: [shift],
      ...NO_TIMELINE,
    };
    mockIPC((cmd) => {
      if (cmd === "on_call") return data;
      throw new Error(`unexpected command ${cmd}`);
    });
    render(<OnCall version={0} people={[]} />);
    // People by name.
    expect(await screen.findByText(/Carla Castillo, until/)).toBeTruthy();
    expect(screen.getByText(/Dmitri Dubois from/)).toBeTruthy();
    expect(screen.getByText(/primary on payments-oncall:/)).toBeTruthy();
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
      ...NO_TIMELINE,
    };
    const after: OnCallOverview = {
      ...before,
      rotas: [{ ...before.rotas[0], layers: [{ layer: "primary", now: { ...shift, person: "ben", person_name: "Ben Berg", is_override: true }, next: null }] }],
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
    expect(await screen.findByText(/Ben Berg \(override\), until/)).toBeTruthy();
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

describe("the on-call timeline", () => {
  const from = "2026-11-23T00:00:00Z";
  const timeline: OnCallOverview = {
    rotas: [
      {
        id: "payments-oncall",
        name: "Payments on call",
        kind: "team",
        teams: ["payments"],
        layers: [{ layer: "primary", now: shift, next: null }],
      },
    ],
    // Whole, where the timeline cuts it at its end.
    my_shifts: [{ ...shift, person: "ben", person_name: "Ben Berg", since: "2026-11-30T09:00:00Z", until: "2026-12-07T09:00:00Z" }],
    timeline_from: from,
    timeline_to: "2026-12-07T00:00:00Z",
    timeline: [
      {
        id: "payments-oncall",
        name: "Payments on call",
        teams: ["payments"],
        mine: true,
        layers: [
          {
            layer: "primary",
            shifts: [
              { ...shift, since: from, until: "2026-11-25T09:00:00Z" },
              { ...shift, person: "aisha", person_name: "Aisha Adeyemi", since: "2026-11-25T09:00:00Z", until: "2026-11-26T09:00:00Z", is_override: true },
              { ...shift, since: "2026-11-26T09:00:00Z", until: "2026-11-30T09:00:00Z" },
              { ...shift, person: "ben", person_name: "Ben Berg", since: "2026-11-30T09:00:00Z", until: "2026-12-07T00:00:00Z" },
            ],
          },
        ],
        overrides: [
          { layer: "primary", person: "aisha", person_name: "Aisha Adeyemi", from: "2026-11-25T09:00:00Z", to: "2026-11-26T09:00:00Z" },
        ],
      },
    ],
    overrides_editable: true,
    my_calendar_url: "http://127.0.0.1:9177/v1/calendar/people/ben.ics?key=abc",
  };

  it("draws each layer's shifts as bars, overrides marked, and fills the form from Get cover", async () => {
    mockIPC((cmd) => {
      if (cmd === "on_call") return timeline;
      throw new Error(`unexpected command ${cmd}`);
    });
    render(<OnCall version={0} people={[{ id: "aisha", name: "Aisha Adeyemi" }]} me="ben" />);
    const track = await screen.findByRole("list", { name: "Payments on call, primary" });
    const bars = Array.from(track.querySelectorAll(".timeline-bar")) as HTMLElement[];
    expect(bars.map((b) => b.dataset.person)).toEqual(["carla", "aisha", "carla", "ben"]);
    expect(bars[1].className).toContain("override");
    expect(bars[3].className).toContain("mine");
    // Two of fourteen days: the first bar is a seventh of the track, from its start.
    expect(bars[0].style.left).toBe("0%");
    expect(parseFloat(bars[0].style.width)).toBeCloseTo((2 * 24 + 9) / (14 * 24) * 100, 5);
    expect((screen.getByLabelText(/My shifts in my calendar/) as HTMLInputElement).value).toContain("/v1/calendar/people/ben.ics");
    fireEvent.click(screen.getByRole("button", { name: /Get cover for primary on Payments on call/ }));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect((screen.getByLabelText("Rota") as HTMLSelectElement).value).toBe("payments-oncall");
    expect((screen.getByLabelText("From") as HTMLInputElement).value).toBe(localInput(new Date(Math.max(Date.parse("2026-11-30T09:00:00Z"), Date.now() + 60_000))));
    expect((screen.getByLabelText("To") as HTMLInputElement).value).toBe(localInput(new Date("2026-12-07T09:00:00Z")));
    expect(document.activeElement).toBe(screen.getByLabelText("Who covers"));
  });

  it("removes an override, and says why it cannot where the hub keeps them", async () => {
    const calls: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "on_call") return timeline;
      if (cmd === "remove_override") {
        calls.push((args as { form: unknown }).form);
        return { ...timeline, timeline: [{ ...timeline.timeline[0], overrides: [] }] };
      }
      throw new Error(`unexpected command ${cmd}`);
    });
    render(<OnCall version={0} people={[]} me="ben" />);
    fireEvent.click(await screen.findByRole("button", { name: "Remove" }));
    await waitFor(() => expect(screen.queryByText(/Aisha Adeyemi covers primary/)).toBeNull());
    expect(calls).toEqual([
      { rota: "payments-oncall", layer: "primary", person: "aisha", from: "2026-11-25T09:00:00Z", to: "2026-11-26T09:00:00Z" },
    ]);
    cleanup();
    mockIPC((cmd) => {
      if (cmd === "on_call") return { ...timeline, overrides_editable: false };
      throw new Error(`unexpected command ${cmd}`);
    });
    render(<OnCall version={0} people={[]} me="ben" />);
    expect(await screen.findByText(/Aisha Adeyemi covers primary/)).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Remove" })).toBeNull();
    expect(screen.getByText(/removed in the hub's config/)).toBeTruthy();
  });
});
