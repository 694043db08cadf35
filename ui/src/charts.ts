// The Reports view's charts as Chart.js configurations: plain data, built by pure functions
// (tested without a canvas), drawn by ChartCanvas.
import type { ChartConfiguration } from "chart.js";
import type { ApplicationReportView, RestoreView, TeamCostView } from "./bindings";

/** A palette that reads in light and dark themes. */
const COLOURS = [
  "#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d",
  "#ea580c", "#4f46e5", "#0d9488", "#be123c",
];

function colour(index: number): string {
  return COLOURS[index % COLOURS.length];
}

/**
 * On-call cost per team, each bar stacked by application: one dataset per application, with its
 * cost at its team and nothing elsewhere.
 */
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
      plugins: { legend: { display: false }, title: { display: true, text: `On-call cost per team (${currency}), by application` } },
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } },
    },
  };
}

/**
 * Availability against target: how much of each application's tolerable unavailability the
 * period used, in percent. Above 100 the target was missed; those bars are red.
 */
export function availabilityChart(apps: ApplicationReportView[]): ChartConfiguration<"bar"> {
  return {
    type: "bar",
    data: {
      labels: apps.map((a) => a.name),
      datasets: [
        {
          label: "unavailability budget used (%)",
          data: apps.map((a) => Math.round(a.budget_used_percent * 10) / 10),
          backgroundColor: apps.map((a) => (a.budget_used_percent > 100 ? "#dc2626" : "#16a34a")),
        },
      ],
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: {
        legend: { display: false },
        title: { display: true, text: "Availability against target: unavailability budget used (100% = target)" },
      },
      scales: { y: { beginAtZero: true, suggestedMax: 100 } },
    },
  };
}

/** Time to restore over time: each restored incident by when it opened, in minutes. */
export function restoreChart(restores: RestoreView[]): ChartConfiguration<"line"> {
  return {
    type: "line",
    data: {
      labels: restores.map((r) => `${r.opened_at.slice(0, 10)} ${r.incident}`),
      datasets: [
        {
          label: "time to restore (minutes)",
          data: restores.map((r) => Math.round(r.ttr_seconds / 6) / 10),
          borderColor: colour(0),
          backgroundColor: colour(0),
          tension: 0,
        },
      ],
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: { legend: { display: false }, title: { display: true, text: "Time to restore over time (minutes)" } },
      scales: { y: { beginAtZero: true } },
    },
  };
}
