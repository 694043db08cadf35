//! The operability report (`stopline report`, the app's Reports view): on-call cost per team and
//! application, pay per person, availability against targets, time to acknowledge and restore,
//! and revenue insurance, for a period. The figures come from `stopline_core::economics`; this
//! module reads the store and renders them as Markdown or CSV.

use std::fmt::Write as _;

use jiff::Timestamp;
use stopline_core::config::Config;
use stopline_core::economics::{self, DurationStats, Period, Report};
use stopline_core::ids::TeamId;
use stopline_core::money::group_thousands;
use stopline_core::target::format_duration;
use stopline_store::Store;

use crate::{EngineError, Result};

/// Builds the report over `[from, to)`, for every team or only `team`.
pub fn build(
    store: &Store,
    config: &Config,
    from: Timestamp,
    to: Timestamp,
    team: Option<&str>,
) -> Result<Report> {
    let team = team
        .map(|t| crate::lookup::team(config, t).map(|t| t.id.clone()))
        .transpose()?;
    if from >= to {
        return Err(EngineError::BadPeriod {
            from: from.to_string(),
            to: to.to_string(),
        });
    }
    let incidents = store.report_facts(from, to)?;
    Ok(economics::report(
        config,
        &incidents,
        Period { from, to },
        team.as_ref(),
    ))
}

/// The tables a CSV can hold, one at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvTable {
    /// Per person: standby hours, callouts, callout hours, pay. What payroll needs.
    People,
    /// Per team and application: standby, callout, total.
    Costs,
    /// Per application and week or month: unavailability against the target.
    Availability,
    /// Per team and application: time to acknowledge and restore.
    Times,
    /// Per incident: duration and estimated loss.
    Incidents,
}

impl CsvTable {
    /// Every table, in the order a report reads.
    pub const ALL: [CsvTable; 5] = [
        CsvTable::Costs,
        CsvTable::People,
        CsvTable::Availability,
        CsvTable::Times,
        CsvTable::Incidents,
    ];

    /// Its name, as `--table` takes it.
    pub fn name(self) -> &'static str {
        match self {
            CsvTable::People => "people",
            CsvTable::Costs => "costs",
            CsvTable::Availability => "availability",
            CsvTable::Times => "times",
            CsvTable::Incidents => "incidents",
        }
    }
}

fn money(amount: f64) -> String {
    format!("{amount:.2}")
}

/// Rounded to cents, so that a row's total is the sum of the amounts it shows.
fn cents(amount: f64) -> f64 {
    (amount * 100.0).round() / 100.0
}

fn seconds(value: Option<f64>) -> String {
    value.map_or(String::new(), |s| format!("{s:.0}"))
}

/// A CSV field, quoted when it has to be.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn row(out: &mut String, cells: &[String]) {
    let line: Vec<String> = cells.iter().map(|c| field(c)).collect();
    let _ = writeln!(out, "{}", line.join(","));
}

/// One table of the report as CSV (RFC 4180, a header row first). Amounts have two decimals,
/// in the report's currency; durations are whole seconds.
pub fn csv(report: &Report, table: CsvTable) -> String {
    let mut out = String::new();
    let currency = &report.currency;
    match table {
        CsvTable::People => {
            row(
                &mut out,
                &[
                    "person".into(),
                    "name".into(),
                    "standby_hours".into(),
                    "callouts".into(),
                    "callout_hours".into(),
                    format!("standby_pay_{currency}"),
                    format!("callout_pay_{currency}"),
                    format!("total_pay_{currency}"),
                    "from".into(),
                    "to".into(),
                ],
            );
            for p in &report.people {
                row(
                    &mut out,
                    &[
                        p.person.to_string(),
                        p.name.clone(),
                        format!("{:.2}", p.standby_hours),
                        p.callouts.to_string(),
                        format!("{:.2}", p.callout_hours),
                        money(p.standby_pay),
                        money(p.callout_pay),
                        money(cents(p.standby_pay) + cents(p.callout_pay)),
                        report.period.from.to_string(),
                        report.period.to.to_string(),
                    ],
                );
            }
        }
        CsvTable::Costs => {
            row(
                &mut out,
                &[
                    "team".into(),
                    "pay_model".into(),
                    "application".into(),
                    format!("standby_{currency}"),
                    format!("callout_{currency}"),
                    format!("total_{currency}"),
                ],
            );
            for team in &report.teams {
                for line in &team.lines {
                    row(
                        &mut out,
                        &[
                            team.team.to_string(),
                            team.pay_model.into(),
                            line.application.to_string(),
                            money(line.standby),
                            money(line.callout),
                            money(cents(line.standby) + cents(line.callout)),
                        ],
                    );
                }
            }
        }
        CsvTable::Availability => {
            row(
                &mut out,
                &[
                    "application".into(),
                    "window".into(),
                    "start".into(),
                    "end".into(),
                    "target_percent".into(),
                    "availability_percent".into(),
                    "unavailable_seconds".into(),
                    "tolerable_seconds".into(),
                    "budget_remaining_seconds".into(),
                    "met".into(),
                ],
            );
            for app in &report.applications {
                let windows = app
                    .weeks
                    .iter()
                    .map(|w| ("week", w))
                    .chain(app.months.iter().map(|w| ("month", w)));
                for (kind, w) in windows {
                    row(
                        &mut out,
                        &[
                            app.application.to_string(),
                            kind.into(),
                            w.start.to_string(),
                            w.end.to_string(),
                            format!("{}", app.target_percent),
                            format!("{:.3}", w.availability_percent),
                            format!("{:.0}", w.unavailable_seconds),
                            format!("{:.0}", w.tolerable_seconds),
                            format!("{:.0}", w.budget_remaining_seconds),
                            w.met.to_string(),
                        ],
                    );
                }
            }
        }
        CsvTable::Times => {
            row(
                &mut out,
                &[
                    "scope".into(),
                    "id".into(),
                    "incidents".into(),
                    "tta_mean_seconds".into(),
                    "tta_median_seconds".into(),
                    "tta_p90_seconds".into(),
                    "ttr_mean_seconds".into(),
                    "ttr_median_seconds".into(),
                    "ttr_p90_seconds".into(),
                ],
            );
            let stats = |scope: &str, id: String, tta: &DurationStats, ttr: &DurationStats| {
                vec![
                    scope.to_owned(),
                    id,
                    tta.count.max(ttr.count).to_string(),
                    seconds(tta.mean_seconds),
                    seconds(tta.median_seconds),
                    seconds(tta.p90_seconds),
                    seconds(ttr.mean_seconds),
                    seconds(ttr.median_seconds),
                    seconds(ttr.p90_seconds),
                ]
            };
            for t in &report.team_times {
                row(
                    &mut out,
                    &stats(
                        "team",
                        t.team.to_string(),
                        &t.time_to_acknowledge,
                        &t.time_to_restore,
                    ),
                );
            }
            for a in &report.applications {
                row(
                    &mut out,
                    &stats(
                        "application",
                        a.application.to_string(),
                        &a.time_to_acknowledge,
                        &a.time_to_restore,
                    ),
                );
            }
        }
        CsvTable::Incidents => {
            row(
                &mut out,
                &[
                    "incident".into(),
                    "application".into(),
                    "team".into(),
                    "opened_at".into(),
                    "resolved_at".into(),
                    "duration_seconds".into(),
                    format!("estimated_loss_{currency}"),
                    "loss_estimated_by_hand".into(),
                ],
            );
            for i in &report.incidents {
                row(
                    &mut out,
                    &[
                        i.incident.clone(),
                        i.application
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                        i.team.as_ref().map(ToString::to_string).unwrap_or_default(),
                        i.opened_at.to_string(),
                        i.resolved_at.map(|t| t.to_string()).unwrap_or_default(),
                        format!("{:.0}", i.duration_seconds),
                        money(i.estimated_loss),
                        i.loss_estimated_by_hand.to_string(),
                    ],
                );
            }
        }
    }
    out
}

fn amount(value: f64, currency: &str) -> String {
    let whole = value.round();
    let sign = if whole < 0.0 { "−" } else { "" };
    format!("{sign}{currency} {}", group_thousands(whole.abs() as u64))
}

/// Pay, to the penny and grouped: `GBP 1,795.40`, as the app shows it. Pay is what a person is
/// paid, where pence count; costs and losses are shown in whole units.
fn pay(value: f64, currency: &str) -> String {
    let pence = (value * 100.0).round().abs() as u64;
    let sign = if value < -0.005 { "−" } else { "" };
    format!(
        "{sign}{currency} {}.{:02}",
        group_thousands(pence / 100),
        pence % 100
    )
}

fn duration(seconds: Option<f64>) -> String {
    seconds.map_or("—".to_owned(), |s| {
        format_duration(jiff::SignedDuration::from_secs(s.round() as i64))
    })
}

fn signed_duration(seconds: f64) -> String {
    let text = format_duration(jiff::SignedDuration::from_secs(seconds.abs().round() as i64));
    if seconds < 0.0 {
        format!("−{text}")
    } else {
        text
    }
}

/// Names from the config as literal Markdown: no markup, no HTML, no `|` to break a table.
fn md(text: &str) -> String {
    stopline_core::text::markdown_inline(text)
}

/// The report as a Markdown document a product manager can read.
pub fn markdown(report: &Report, config: &Config, team: Option<&TeamId>) -> String {
    let c = &report.currency;
    let zone = &config.workspace.time_zone;
    let date = |t: Timestamp| {
        t.to_zoned_datetime(zone.clone())
            .strftime("%Y-%m-%d %H:%M %Z")
            .to_string()
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Operability report: {}{}\n",
        md(&config.workspace.name),
        team.map(|t| format!(", team {}", md(t.as_str())))
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "From {} to {}.\n",
        date(report.period.from),
        date(report.period.to)
    );
    if !report.warnings.is_empty() {
        let _ = writeln!(out, "## Warnings\n");
        for w in &report.warnings {
            let _ = writeln!(out, "- {w}");
        }
        let _ = writeln!(out);
    }

    let _ = writeln!(out, "## On-call cost per team\n");
    let _ = writeln!(
        out,
        "| team | pay model | application | standby | callout | total |\n|---|---|---|---:|---:|---:|"
    );
    for t in &report.teams {
        for line in &t.lines {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                md(&t.team.to_string()),
                t.pay_model,
                md(&line.application.to_string()),
                amount(line.standby, c),
                amount(line.callout, c),
                amount(line.standby + line.callout, c)
            );
        }
        let _ = writeln!(
            out,
            "| **{}** | | **all** | **{}** | **{}** | **{}** |",
            md(&t.team.to_string()),
            amount(t.standby, c),
            amount(t.callout, c),
            amount(t.total, c)
        );
    }

    let _ = writeln!(out, "\n## Pay per person\n");
    let _ = writeln!(
        out,
        "| person | standby hours | out-of-hours callouts | callout hours | pay |\n|---|---:|---:|---:|---:|"
    );
    for p in &report.people {
        let _ = writeln!(
            out,
            "| {} ({}) | {:.1} | {} | {:.1} | {} |",
            md(&p.name),
            md(&p.person.to_string()),
            p.standby_hours,
            p.callouts,
            p.callout_hours,
            pay(p.total, c)
        );
    }

    let _ = writeln!(out, "\n## Availability against target\n");
    let _ = writeln!(
        out,
        "| application | target | unavailable | weeks met | months met | worst week's budget left |\n|---|---:|---:|---:|---:|---:|"
    );
    for a in &report.applications {
        let met = |w: &[economics::AvailabilityWindow]| {
            format!("{}/{}", w.iter().filter(|w| w.met).count(), w.len())
        };
        let worst = a
            .weeks
            .iter()
            .map(|w| w.budget_remaining_seconds)
            .min_by(f64::total_cmp)
            .map_or("—".to_owned(), signed_duration);
        let _ = writeln!(
            out,
            "| {} | {}% | {} | {} | {} | {} |",
            md(&a.name),
            a.target_percent,
            signed_duration(a.unavailable_seconds),
            met(&a.weeks),
            met(&a.months),
            worst
        );
    }

    let _ = writeln!(out, "\n## Time to acknowledge and restore\n");
    let _ = writeln!(
        out,
        "| team or application | incidents | TTA mean | TTA median | TTA p90 | TTR mean | TTR median | TTR p90 |\n|---|---:|---:|---:|---:|---:|---:|---:|"
    );
    let times = report
        .team_times
        .iter()
        .map(|t| {
            (
                format!("team {}", t.team),
                &t.time_to_acknowledge,
                &t.time_to_restore,
            )
        })
        .chain(
            report
                .applications
                .iter()
                .map(|a| (a.name.clone(), &a.time_to_acknowledge, &a.time_to_restore)),
        );
    for (name, tta, ttr) in times {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            md(&name),
            tta.count.max(ttr.count),
            duration(tta.mean_seconds),
            duration(tta.median_seconds),
            duration(tta.p90_seconds),
            duration(ttr.mean_seconds),
            duration(ttr.median_seconds),
            duration(ttr.p90_seconds)
        );
    }

    let _ = writeln!(out, "\n## Revenue insurance\n");
    let _ = writeln!(
        out,
        "| application | exposure/h | projected loss | actual loss | effectiveness | on-call cost | losses avoided | operating model |\n|---|---:|---:|---:|---:|---:|---:|---|"
    );
    for a in &report.applications {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {}: {} |",
            md(&a.name),
            amount(a.exposure_per_hour as f64, c),
            amount(a.projected_loss, c),
            amount(a.actual_loss, c),
            a.effectiveness
                .map_or("—".to_owned(), |e| format!("{:.0}%", e * 100.0)),
            amount(a.on_call_cost, c),
            amount(a.losses_avoided, c),
            a.fit.model,
            a.fit.advice
        );
    }
    if !report.incidents.is_empty() {
        let _ = writeln!(out, "\n## Incidents\n");
        let _ = writeln!(
            out,
            "An incident loses money from its opening until its alerts cleared or it resolved, \
             whichever came first.\n"
        );
        let _ = writeln!(
            out,
            "| incident | application | losing money in the period | estimated loss |\n|---|---|---:|---:|"
        );
        for i in &report.incidents {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {}{} |",
                i.incident,
                i.application
                    .as_ref()
                    .map_or("unrouted".to_owned(), ToString::to_string),
                signed_duration(i.duration_seconds),
                amount(i.estimated_loss, c),
                if i.loss_estimated_by_hand {
                    " (estimated by a person)"
                } else {
                    ""
                }
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::pay;

    #[test]
    fn pay_is_written_to_the_penny_in_one_format() {
        assert_eq!(pay(795.4, "GBP"), "GBP 795.40");
        assert_eq!(pay(871.0, "GBP"), "GBP 871.00");
        assert_eq!(pay(1873.25, "GBP"), "GBP 1,873.25");
    }
}
