import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { Sources } from "./Sources";
import type { SourcesView } from "./bindings";

afterEach(() => {
  cleanup();
  clearMocks();
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
