import { describe, expect, it } from "vitest";
import type { IncidentRow } from "./bindings";
import { lossNote, lossSoFar, money, myTeamsFirst, stateWithWho } from "./queue";

function row(id: string, team: string | null, exposure: number | null = 600000): IncidentRow {
  return {
    id,
    title: id,
    state: "triggered",
    severity: "major",
    application: null,
    application_name: null,
    team,
    team_name: null,
    opened_at: "2026-11-27T10:00:00Z",
    acknowledged_by: null,
    resolved_by: null,
    exposure_per_hour: exposure,
    loss_entered: null,
    loss_stopped_at: null,
    firing_alerts: 1,
    alerts: 1,
    group_labels: [],
    labels: {},
    involved: [],
  };
}

describe("the queue", () => {
  it("puts my teams' incidents first and keeps the store's order otherwise", () => {
    const list = [row("INC-4", "search"), row("INC-3", "payments"), row("INC-2", null), row("INC-1", "payments")];
    expect(myTeamsFirst(list, ["payments"]).map((r) => r.id)).toEqual(["INC-3", "INC-1", "INC-4", "INC-2"]);
    expect(myTeamsFirst(list, []).map((r) => r.id)).toEqual(["INC-4", "INC-3", "INC-2", "INC-1"]);
  });

  it("counts the loss so far from the exposure and the time since opening", () => {
    const at = (t: string) => new Date(t);
    expect(lossSoFar(row("INC-1", "payments"), at("2026-11-27T10:30:00Z"))).toBe(300000);
    expect(lossSoFar(row("INC-1", "payments"), at("2026-11-27T10:00:06Z"))).toBe(1000);
    expect(lossSoFar(row("INC-1", "payments", null), at("2026-11-27T11:00:00Z"))).toBeNull();
    expect(money(1234567, "GBP")).toBe("GBP 1,234,567");
  });

  it("uses the loss a person entered, and stops counting when the alerts cleared", () => {
    const at = (t: string) => new Date(t);
    const entered: IncidentRow = { ...row("INC-1", "payments"), loss_entered: 120000 };
    expect(lossSoFar(entered, at("2026-11-27T13:00:00Z"))).toBe(120000);
    expect(lossNote(entered)).toEqual({ short: "entered", long: expect.stringMatching(/entered by hand/i) });
    const cleared: IncidentRow = { ...row("INC-1", "payments"), loss_stopped_at: "2026-11-27T10:30:00Z" };
    // An hour later the loss is still half an hour's exposure.
    expect(lossSoFar(cleared, at("2026-11-27T11:30:00Z"))).toBe(300000);
    expect(lossNote(cleared)?.long).toMatch(/alerts cleared at/);
    expect(lossNote({ ...cleared, state: "resolved" })?.long).toMatch(/stopped counting at/i);
    expect(lossNote(row("INC-1", "payments"))).toBeNull();
  });

  it("names who made the state the pill shows, not who acknowledged", () => {
    const resolved: IncidentRow = { ...row("INC-1", "payments"), state: "resolved", acknowledged_by: "hiro", resolved_by: "ben" };
    expect(stateWithWho(resolved)).toBe("resolved by ben");
    expect(stateWithWho({ ...resolved, state: "acknowledged" })).toBe("acknowledged by hiro");
    expect(stateWithWho({ ...resolved, acknowledged_by: null, resolved_by: null, state: "triggered" })).toBe("triggered");
    expect(stateWithWho({ ...resolved, resolved_by: null })).toBe("resolved");
  });
});
