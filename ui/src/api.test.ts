import { describe, expect, it, vi } from "vitest";
import { errorMessage } from "./api";
import { when } from "./time";

describe("error messages", () => {
  it("show times in this computer's zone, as everywhere else, not as raw ISO timestamps", () => {
    vi.stubEnv("TZ", "Asia/Kolkata");
    const message = errorMessage({
      code: "refused",
      message: "INC-1 is already acknowledged (by quinn at 2026-12-02T20:18:57.104Z); it cannot be acknowledged",
    });
    expect(message).toBe(`INC-1 is already acknowledged (by quinn at ${when("2026-12-02T20:18:57.104Z")}); it cannot be acknowledged`);
    expect(message).toContain("3 Dec, 01:48");
    expect(message).not.toMatch(/\d{4}-\d\d-\d\dT/);
    // Text that only looks a bit like a time is left alone.
    expect(errorMessage({ code: "bad_input", message: "build 2026-12 failed" })).toBe("build 2026-12 failed");
    vi.unstubAllEnvs();
  });
});
