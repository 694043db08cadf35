import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
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
