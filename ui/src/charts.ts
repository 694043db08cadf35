// The Reports view's charts as Chart.js configurations: plain data, built by pure functions
// (tested without a canvas), drawn by ChartCanvas. Every chart has a legend; money on an axis
// or in a tooltip is written as everywhere else (`money`); times in the workspace's locale.
import type { ChartConfiguration, TooltipItem } from "chart.js";
import type { ApplicationReportView, RestoreView, TeamCostView } from "./bindings";
import { money } from "./queue";
import { locale } from "./time";

/** A palette that reads in light and dark themes. */
const COLOURS = [
  "#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d",
  "#ea580c", "#4f46e5", "#0d9488", "#be123c",
];

function colour(index: number): string {
  return COLOURS[index % COLOURS.length];
}

/** A legend under the chart, small boxes: readable when a team has many applications. */
const LEGEND = { display: true, position: "bottom" as const, labels: { boxWidth: 12, boxHeight: 12 } };

/**
 * On-call cost per team, each bar stacked by application: one dataset per application, with its
 * cost at its team and nothing elsewhere. The legend names each application with its team.
 */
/** More entries than this and a legend would crowd out its chart: the bars' tooltips name them. */
const MOST_IN_A_LEGEND = 12;

export function costChart(teams: TeamCostView[], currency: string): ChartConfiguration<"bar"> {
  const labels = teams.map((t) => t.team_name);
  const datasets = teams.flatMap((team, teamIndex) =>
    team.lines.map((line, lineIndex) => ({
      label: `${team.team_name}: ${line.application_name}`,
      data: teams.map((_, i) => (i === teamIndex ? Math.round(line.standby + line.callout) : 0)),
      backgroundColor: colour(lineIndex),
      stack: "cost",
    })),
  );
  return {
    type: "bar",
    data: { labels, datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: {
        // Applications that cost nothing on a team are left out of its tooltip.
        legend: { ...LEGEND, display: datasets.length <= MOST_IN_A_LEGEND },
        title: {
          display: true,
          text:
            datasets.length <= MOST_IN_A_LEGEND
              ? `On-call cost per team (${currency}), by application`
              : `On-call cost per team (${currency}), by application: point at a bar to see which`,
        },
        tooltip: {
          filter: (item: TooltipItem<"bar">) => Number(item.raw) > 0,
          callbacks: { label: (item: TooltipItem<"bar">) => `${item.dataset.label}: ${money(Number(item.raw), currency)}` },
        },
      },
      scales: {
        x: { stacked: true },
        y: { stacked: true, beginAtZero: true, ticks: { callback: (value) => money(Number(value), currency) } },
      },
    },
  };
}

/**
 * Availability against target: how much of each application's tolerable unavailability the
 * period used, in percent, beside a line at 100 % (the target). Above it the target was missed;
 * those bars are red.
 */
export function availabilityChart(apps: ApplicationReportView[]): ChartConfiguration<"bar" | "line"> {
  return {
    type: "bar",
    data: {
      labels: apps.map((a) => a.name),
      datasets: [
        {
          type: "bar",
          label: "unavailability budget used (%): green within target, red missed",
          data: apps.map((a) => Math.round(a.budget_used_percent * 10) / 10),
          backgroundColor: apps.map((a) => (a.budget_used_percent > 100 ? "#dc2626" : "#16a34a")),
          order: 2,
        },
        {
          type: "line",
          label: "target: 100 % of the budget",
          data: apps.map(() => 100),
          borderColor: "#d97706",
          backgroundColor: "#d97706",
          borderDash: [6, 4],
          borderWidth: 2,
          pointRadius: 0,
          order: 1,
        },
      ],
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: {
        legend: LEGEND,
        title: { display: true, text: "Availability against target: unavailability budget used" },
        tooltip: { callbacks: { label: (item: TooltipItem<"bar" | "line">) => `${item.dataset.label}: ${item.formattedValue} %` } },
      },
      scales: { y: { beginAtZero: true, suggestedMax: 110, ticks: { callback: (value) => `${value} %` } } },
    },
  };
}

/** Time to restore: one point per restored incident, at when it opened, in minutes, over the
 *  report's period `[from, to)`. Points, not a line: incidents are separate events, and a line
 *  through them would suggest a trend. */
export function restoreChart(restores: RestoreView[], from: string, to: string): ChartConfiguration<"scatter"> {
  const dateOf = (ms: number) => new Date(ms).toLocaleDateString(locale(), { day: "numeric", month: "short" });
  return {
    type: "scatter",
    data: {
      datasets: [
        {
          label: "time to restore of each incident (minutes), by when it opened",
          data: restores.map((r) => ({ x: Date.parse(r.opened_at), y: Math.round(r.ttr_seconds / 6) / 10 })),
          borderColor: colour(0),
          backgroundColor: colour(0),
          pointRadius: 5,
          pointHoverRadius: 7,
        },
      ],
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: {
        legend: LEGEND,
        title: { display: true, text: "Time to restore, per incident (minutes)" },
        tooltip: {
          callbacks: {
            label: (item: TooltipItem<"scatter">) => {
              const r = restores[item.dataIndex];
              return `${r.incident} (${r.application}), ${dateOf(Date.parse(r.opened_at))}: ${item.formattedValue.split(",").pop()?.trim() ?? ""}`;
            },
          },
        },
      },
      scales: {
        // The report's period, however few incidents there are to place in it.
        x: {
          type: "linear",
          min: Date.parse(from),
          max: Date.parse(to),
          ticks: { callback: (value) => dateOf(Number(value)), maxTicksLimit: 8 },
        },
        y: { beginAtZero: true, title: { display: true, text: "minutes" } },
      },
    },
  };
}
