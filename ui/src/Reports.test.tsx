import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { ReportView } from "./bindings";
import { availabilityChart, costChart, restoreChart } from "./charts";
import { Reports, duration } from "./Reports";

// Canvas drawing needs a browser; here the view's charts are checked by what they are given.
const drawn: { label: string; config: unknown }[] = [];
vi.mock("./ChartCanvas", () => ({
  ChartCanvas: ({ config, label }: { config: unknown; label: string }) => {
    drawn.push({ label, config });
    return <div role="img" aria-label={label} />;
  },
}));

afterEach(() => {
  cleanup();
  clearMocks();
  drawn.length = 0;
});

const report: ReportView = {
  from: "2026-11-23T00:00:00Z",
  to: "2026-11-30T00:00:00Z",
  currency: "GBP",
  all_teams: [
    { id: "payments", name: "Payments" },
    { id: "search", name: "Search" },
  ],
  teams: [
    {
      team: "payments",
      team_name: "Payments",
      pay_model: "standby and callout",
      standby: 168,
      callout: 140,
      total: 308,
      lines: [
        { application: "gateway", application_name: "Gateway", standby: 126, callout: 140 },
        { application: "refunds", application_name: "Refunds", standby: 42, callout: 0 },
      ],
    },
  ],
  applications: [
    {
      application: "gateway",
      name: "Gateway",
      team: "payments",
      target_percent: 99.9,
      availability_percent: 98.71,
      unavailable_seconds: 7800,
      budget_used_percent: 1289.7,
      weeks_met: 0,
      weeks: 1,
      tta_median_seconds: 600,
      ttr_median_seconds: 7800,
      ttr_p90_seconds: 7800,
      projected_loss: 100800,
      actual_loss: 1300000,
      effectiveness: -11.9,
      on_call_cost: 266,
      fit_model: "you build it you run it",
      fit_advice: "frequent change and high exposure",
    },
  ],
  people: [
    { person: "alice", name: "Alice", standby_hours: 168, callouts: 1, callout_hours: 2, total: 248 },
  ],
  restores: [{ incident: "INC-1", application: "gateway", opened_at: "2026-11-28T09:50:00Z", ttr_seconds: 7800 }],
  warnings: ["rota payments-oncall has fewer than 3 people (2): on call too often to be sustainable"],
};

describe("the report's charts", () => {
  it("stack each team's cost by application", () => {
    const config = costChart(report.teams, "GBP");
    expect(config.data.labels).toEqual(["Payments"]);
    expect(config.data.datasets.map((d) => [d.label, d.data])).toEqual([
      ["Payments: Gateway", [266]],
      ["Payments: Refunds", [42]],
    ]);
    expect(config.options?.scales?.y).toMatchObject({ stacked: true });
  });

  it("show availability as the budget used, red when the target was missed, beside the 100 % target line", () => {
    const config = availabilityChart(report.applications);
    expect(config.data.datasets[0].data).toEqual([1289.7]);
    expect(config.data.datasets[0].backgroundColor).toEqual(["#dc2626"]);
    const target = config.data.datasets[1];
    expect(target.type).toBe("line");
    expect(target.data).toEqual([100]);
    expect(target.label).toMatch(/target: 100 %/);
  });

  it("plot time to restore as a point per incident, in minutes, by when it opened", () => {
    const config = restoreChart(report.restores, report.from, report.to);
    expect(config.type).toBe("scatter");
    expect(config.data.datasets[0].data).toEqual([{ x: Date.parse("2026-11-28T09:50:00Z"), y: 130 }]);
    expect(config.data.datasets[0]).not.toHaveProperty("showLine", true);
  });

  it("have legends (the cost chart's while it has a dozen applications at most), and write money on the axis as everywhere else", () => {
    for (const config of [costChart(report.teams, "GBP"), availabilityChart(report.applications), restoreChart(report.restores, report.from, report.to)]) {
      expect(config.options?.plugins?.legend).toMatchObject({ display: true });
    }
    // Over the report's period, even with one incident.
    const x = restoreChart(report.restores, report.from, report.to).options?.scales?.x as { min: number; max: number };
    expect([x.min, x.max]).toEqual([Date.parse(report.from), Date.parse(report.to)]);
    // A legend of dozens of applications would crowd out the bars: the tooltips name them then.
    const many = [{ ...report.teams[0], lines: Array.from({ length: 13 }, (_, i) => ({ ...report.teams[0].lines[0], application_name: `App ${i}` })) }];
    expect(costChart(many, "GBP").options?.plugins?.legend).toMatchObject({ display: false });
    const ticks = costChart(report.teams, "GBP").options?.scales?.y?.ticks as { callback: (v: number) => string };
    expect(ticks.callback(12000)).toBe("GBP 12,000");
  });
});

describe("the reports view", () => {
  it("shows costs, availability, pay and warnings, and asks again for another team", async () => {
    const queries: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "report") {
        queries.push(args);
        return report;
      }
      if (cmd === "report_csv") return "person,name\nalice,Alice\n";
      throw new Error(`unexpected command ${cmd}`);
    });
    render(<Reports version={0} />);
    const row = await screen.findByText("standby and callout");
    expect(within(row.closest("tr")!).getByText("GBP 308")).toBeTruthy();
    expect(screen.getByText("98.710%")).toBeTruthy();
    expect(screen.getAllByText("2h 10m")).toHaveLength(2); // TTR median and p90
    expect(screen.getByText(/fewer than 3 people/)).toBeTruthy();
    // Where the loss shows, it says how it was counted.
    expect(screen.getByText(/until its alerts cleared or it resolved/)).toBeTruthy();
    expect(drawn.map((d) => d.label)).toContain("On-call cost per team, stacked by application");

    fireEvent.change(screen.getByLabelText("Team"), { target: { value: "search" } });
    fireEvent.click(screen.getByRole("button", { name: "Show" }));
    await vi.waitFor(() => expect(queries).toHaveLength(2));
    expect((queries[1] as { team: string }).team).toBe("search");

    fireEvent.click(screen.getByRole("button", { name: "Payroll CSV" }));
    expect(((await screen.findByLabelText(/as CSV for payroll/)) as HTMLTextAreaElement).value).toContain("alice,Alice");
  });

  it("writes every person's pay in one money format, to the penny", async () => {
    const person = (id: string, total: number) => ({ person: id, name: id, standby_hours: 1, callouts: 0, callout_hours: 0, total });
    mockIPC(() => ({ ...report, people: [person("ben", 795.4), person("carla", 871), person("dmitri", 873.24)] }));
    render(<Reports version={0} />);
    const pay = async (id: string) => (await screen.findByText(id)).closest("tr")!.lastElementChild!.textContent;
    expect(await pay("ben")).toBe("GBP 795.40");
    expect(await pay("carla")).toBe("GBP 871.00");
    expect(await pay("dmitri")).toBe("GBP 873.24");
  });

  it("explains the effectiveness beside the figure, also when it is negative", async () => {
    mockIPC(() => ({
      ...report,
      applications: [
        report.applications[0],
        { ...report.applications[0], application: "refunds", name: "Refunds", projected_loss: 10000, actual_loss: 2500, effectiveness: 0.75 },
      ],
    }));
    render(<Reports version={0} />);
    const negative = (await screen.findByText("Gateway")).closest("tr")!.querySelector(".effectiveness")!;
    expect(negative.textContent).toContain("-1190 %");
    expect(negative.textContent).toContain("Negative: outages lost GBP 1,300,000, GBP 1,199,200 more than the GBP 100,800 its target allows.");
    const positive = screen.getByText("Refunds").closest("tr")!.querySelector(".effectiveness")!;
    expect(positive.textContent).toContain("75 %");
    expect(positive.textContent).toContain("production support kept GBP 7,500 from being lost");
  });

  it("exports the report as files and says where they went", async () => {
    const asked: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "report") return report;
      if (cmd === "export_report") {
        asked.push((args as { format: string }).format);
        return {
          folder: "/home/ben/Documents/Stopline reports",
          files: [
            "/home/ben/Documents/Stopline reports/stopline-report-2026-11-23-to-2026-11-30-costs.csv",
            "/home/ben/Documents/Stopline reports/stopline-report-2026-11-23-to-2026-11-30-people.csv",
          ],
        };
      }
      throw new Error(`unexpected command ${cmd}`);
    });
    render(<Reports version={0} />);
    await screen.findByText("standby and callout");
    fireEvent.click(screen.getByRole("button", { name: "Export CSV files" }));
    const said = await screen.findByText(/Written to/);
    expect(said.closest("[data-exported]")!.textContent).toContain("stopline-report-2026-11-23-to-2026-11-30-people.csv");
    expect(asked).toEqual(["csv"]);
  });

  it("refuses a period that ends before it starts", async () => {
    mockIPC(() => report);
    render(<Reports version={0} />);
    await screen.findByText("standby and callout");
    fireEvent.change(screen.getByLabelText("From"), { target: { value: "2026-12-01" } });
    fireEvent.change(screen.getByLabelText("To (not included)"), { target: { value: "2026-11-01" } });
    expect((screen.getByRole("button", { name: "Show" }) as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByRole("alert").textContent).toMatch(/end must be after the start/);
  });

  it("writes durations as people read them", () => {
    expect([duration(null), duration(30), duration(600), duration(7800), duration(200_000)]).toEqual([
      "—",
      "30s",
      "10m",
      "2h 10m",
      "2d 7h",
    ]);
  });
});
