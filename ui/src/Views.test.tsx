import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { OnCall, Sources } from "./Views";
import type { OnCallOverview, SourcesView } from "./bindings";

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
    render(<OnCall version={0} />);
    expect(await screen.findByText(/carla, until/)).toBeTruthy();
    expect(screen.getByText(/dmitri from/)).toBeTruthy();
    expect(screen.getByText(/primary on payments-oncall:/)).toBeTruthy();
  });
});

describe("the sources view", () => {
  it("shows each source's health, the webhook and a masked token, and sends a test page", async () => {
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
    expect(await screen.findByText("failing")).toBeTruthy();
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
