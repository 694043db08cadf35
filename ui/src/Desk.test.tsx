import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { ServiceDesk } from "./Desk";
import type { DeskRoute } from "./bindings";

const route: DeskRoute = {
  application: "payment-gateway",
  application_name: "Payment Gateway",
  target: "99.9%",
  team: "payments",
  team_name: "Payments",
  on_call: [{ rota: "payments-oncall", layer: "primary", person: "carla" }],
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
      throw new Error(`unexpected command ${cmd}`);
    });
    const onOpened = vi.fn();
    render(<ServiceDesk onOpened={onOpened} />);
    fireEvent.change(screen.getByLabelText(/customer's words/), { target: { value: "Customers can't pay" } });
    fireEvent.click(screen.getByRole("button", { name: "Find the owner" }));
    expect(await screen.findByText("Payments")).toBeTruthy();
    expect(screen.getByText("primary on payments-oncall: carla")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Open incident" }));
    await vi.waitFor(() => expect(onOpened).toHaveBeenCalledWith("INC-7"));
    expect(calls.map((c) => c.cmd)).toEqual(["desk_route", "desk_open"]);
    expect(calls[1].args).toEqual({ application: "payment-gateway", title: "Customers can't pay" });
  });

  it("says plainly when nothing matches", async () => {
    mockIPC((cmd) => {
      if (cmd === "desk_route") return null;
      throw new Error(`unexpected command ${cmd}`);
    });
    render(<ServiceDesk onOpened={() => {}} />);
    fireEvent.change(screen.getByLabelText(/customer's words/), { target: { value: "teleporter" } });
    fireEvent.click(screen.getByRole("button", { name: "Find the owner" }));
    expect((await screen.findByRole("status")).textContent).toMatch(/Nothing matches “teleporter”/);
  });
});
