//! How the engine's views become what the window receives: each transport type (`dto`) made
//! from the API's view of the same thing. Times go as RFC 3339 in UTC (the window shows them in
//! local time), enums as their snake_case names, money as whole units.

use stopline_core::config::Config;
use stopline_core::money::group_thousands;
use stopline_core::rota::Shift;
use stopline_engine::api::{self, IncidentSummary};

use crate::dto::*;
use crate::host::EngineMode;

impl Overview {
    pub fn new(
        queue: api::QueueView,
        engine: EngineMode,
        notice: Option<String>,
        config_path: String,
        open_incident: Option<String>,
        hub: Option<HubView>,
    ) -> Self {
        let zone = queue.zone.clone();
        let when = |t: jiff::Timestamp| {
            t.to_zoned_datetime(zone.clone())
                .strftime("%H:%M %Z")
                .to_string()
        };
        Self {
            workspace: queue.workspace,
            config_path,
            notice,
            config_error: queue.config_error,
            incidents: queue.incidents.iter().map(IncidentRow::new).collect(),
            engine,
            me: queue.me.map(|p| p.to_string()),
            people: people(&queue.people),
            currency: queue.currency,
            my_teams: queue.my_teams.iter().map(ToString::to_string).collect(),
            locale: queue.locale.clone(),
            has_alerts: queue.has_alerts,
            stopped_teams: queue.stopped_lines.iter().map(|l| l.team.clone()).collect(),
            stopped_lines: queue
                .stopped_lines
                .iter()
                .map(|line| StoppedLine {
                    team: line.team.clone(),
                    team_name: queue
                        .team_names
                        .get(&line.team)
                        .cloned()
                        .unwrap_or_else(|| line.team.clone()),
                    since: line.since.map(|t| t.to_string()).unwrap_or_default(),
                    incidents: line.incidents.iter().map(ToString::to_string).collect(),
                })
                .collect(),
            unrouted_alerts: u32::try_from(queue.unrouted_alerts).unwrap_or(u32::MAX),
            offline_sources: queue
                .offline_sources
                .iter()
                .filter_map(|s| Some(format!("{}: {}", s.name, s.offline_summary(when)?)))
                .collect(),
            open_incident,
            hub,
        }
    }
}

impl HubView {
    pub fn new(status: &api::HubStatus) -> Self {
        Self {
            url: status.link.url.clone(),
            person: status.link.person.clone(),
            desktop_id: status.link.desktop_id.clone(),
            connected: status.state.as_ref().map(|s| s.connected),
            since: status.state.as_ref().map(|s| s.since.to_string()),
            error: status.state.as_ref().and_then(|s| s.error.clone()),
            waiting: u32::try_from(status.waiting).unwrap_or(u32::MAX),
            refused: status.refused.iter().map(HubActionRow::new).collect(),
        }
    }
}

impl HubActionRow {
    pub fn new(action: &stopline_store::HubAction) -> Self {
        Self {
            action: action.name.replace('_', " "),
            incident: action.incident.map(|i| i.to_string()),
            at: action.at.to_string(),
            status: match action.status {
                stopline_store::ActionStatus::Pending => HubActionStatus::Pending,
                stopline_store::ActionStatus::Applied => HubActionStatus::Applied,
                stopline_store::ActionStatus::Refused => HubActionStatus::Refused,
            },
            reason: action.reason.clone(),
        }
    }
}

fn people(people: &[(stopline_core::ids::PersonId, String)]) -> Vec<PersonOption> {
    people
        .iter()
        .map(|(id, name)| PersonOption {
            id: id.to_string(),
            name: name.clone(),
        })
        .collect()
}

impl IncidentRow {
    pub fn new(summary: &IncidentSummary) -> Self {
        use stopline_core::incident::{IncidentState, Severity};
        let incident = &summary.incident;
        Self {
            id: incident.id.to_string(),
            title: incident.title.clone(),
            state: match incident.state {
                IncidentState::Triggered => IncidentStateText::Triggered,
                IncidentState::Acknowledged => IncidentStateText::Acknowledged,
                IncidentState::Resolved => IncidentStateText::Resolved,
            },
            severity: match incident.severity {
                Severity::Major => SeverityText::Major,
                Severity::Minor => SeverityText::Minor,
            },
            application: incident.application.as_ref().map(ToString::to_string),
            application_name: summary.application_name.clone(),
            team: incident.team.as_ref().map(ToString::to_string),
            team_name: summary.team_name.clone(),
            opened_at: incident.opened_at.to_string(),
            acknowledged_by: incident.acknowledged.as_ref().map(|s| s.actor()),
            resolved_by: incident.resolved.as_ref().map(|s| s.actor()),
            exposure_per_hour: summary
                .exposure_per_hour
                .map(|e| u32::try_from(e).unwrap_or(u32::MAX)),
            // f64 holds every figure a person types (exact to 2^53), where u32 would not.
            loss_entered: summary.loss_entered.map(|l| l as f64),
            loss_stopped_at: summary.loss_stopped_at.map(|t| t.to_string()),
            firing_alerts: summary.firing_alerts,
            alerts: summary.alerts,
            group_labels: summary.group_labels.clone(),
            labels: summary.first_labels.clone(),
            involved: summary.involved.iter().map(ToString::to_string).collect(),
        }
    }
}

impl IncidentView {
    /// `config` gives the loss per hour its currency.
    pub fn new(view: &api::IncidentView, config: Option<&Config>) -> Self {
        Self {
            incident: IncidentRow::new(&view.summary),
            severity_reason: view.severity_reason.clone(),
            loss_per_hour: view
                .summary
                .exposure_per_hour
                .zip(config)
                .map(|(e, c)| format!("{} {}/h", c.workspace.currency, group_thousands(e))),
            currency: config.map(|c| c.workspace.currency.to_string()),
            timeline: view
                .timeline
                .iter()
                .map(|e| TimelineEntry {
                    at: e.at.to_string(),
                    who: e.who.as_ref().map(ToString::to_string),
                    kind: e.kind.into(),
                    detail: e.detail.clone(),
                })
                .collect(),
            checklist: view
                .checklist
                .iter()
                .map(|s| StepView {
                    step: s.step.to_string(),
                    title: s.title.clone(),
                    required: s.required,
                    runbook: s.runbook.clone(),
                    state: match s.state {
                        stopline_core::swarm::StepState::Todo => StepStateText::Todo,
                        stopline_core::swarm::StepState::Doing => StepStateText::Doing,
                        stopline_core::swarm::StepState::Done => StepStateText::Done,
                        stopline_core::swarm::StepState::Skipped => StepStateText::Skipped,
                    },
                    assignee: s.assignee.as_ref().map(ToString::to_string),
                    reason: s.reason.clone(),
                    changed_by: s.changed_by.as_ref().map(ToString::to_string),
                    changed_at: s.changed_at.map(|t| t.to_string()),
                })
                .collect(),
            roles: view
                .current_roles()
                .map(|r| RoleView {
                    role: r.role.into(),
                    title: r.role.title().to_owned(),
                    person: r.person.to_string(),
                    since: r.since.to_string(),
                })
                .collect(),
            alerts: view
                .alerts
                .iter()
                .map(|a| AlertView {
                    source: a.alert.source.clone(),
                    fingerprint: a.alert.fingerprint.to_string(),
                    state: a.alert.state.into(),
                    labels: a.alert.labels.clone(),
                    annotations: a.alert.annotations.clone(),
                    links: a.alert.links.clone(),
                })
                .collect(),
            hub_actions: view
                .hub_actions
                .iter()
                .filter(|a| a.status != stopline_store::ActionStatus::Applied)
                .map(HubActionRow::new)
                .collect(),
            situation: SituationView::new(&view.situation),
        }
    }
}

impl SituationView {
    pub fn new(situation: &api::Situation) -> Self {
        let person_at = |p: &api::NamedAt| PersonAt {
            id: p.person.id.clone(),
            name: p.person.name.clone(),
            at: p.at.to_string(),
        };
        let budget = situation.week_budget.as_ref();
        Self {
            as_of: situation.as_of.to_string(),
            target_percent: situation.target_percent,
            budget_used_percent: budget.map(|b| b.used_percent),
            unavailable_seconds: budget.map(|b| b.unavailable_seconds),
            tolerable_seconds: budget.map(|b| b.tolerable_seconds),
            paged: situation.paged.iter().map(person_at).collect(),
            acknowledged: situation.acknowledged.as_ref().map(person_at),
            next_page: situation.next_page.as_ref().map(|next| NextPageView {
                at: next.at.to_string(),
                people: next
                    .people
                    .iter()
                    .map(|p| PersonOption {
                        id: p.id.clone(),
                        name: p.name.clone(),
                    })
                    .collect(),
            }),
            secondary: situation.secondary.as_ref().map(|s| SecondaryView {
                id: s.person.id.clone(),
                name: s.person.name.clone(),
                rota: s.rota.clone(),
                layer: s.layer.clone(),
            }),
            first_alert: situation.first_alert.as_ref().map(|a| AlertBriefView {
                name: a.name.clone(),
                summary: a.summary.clone(),
                runbook: a.runbook.clone(),
                dashboard: a.dashboard.clone(),
            }),
        }
    }
}

impl DeskRoute {
    pub fn new(route: &api::DeskRoute) -> Self {
        let app = &route.application;
        Self {
            application: app.id.to_string(),
            application_name: app.name.clone(),
            target: app.target.to_string(),
            team: app.team.to_string(),
            team_name: route.team_name.clone(),
            on_call: route
                .on_call
                .iter()
                .map(|l| OnCallView {
                    rota: l.rota.to_string(),
                    layer: l.layer.clone(),
                    person: l.person.as_ref().map(ToString::to_string),
                })
                .collect(),
            open_incidents: route.open_incidents.iter().map(IncidentRow::new).collect(),
        }
    }
}

impl SourcesView {
    /// `mode` says where this app's engine listens; else the config's address, else the default.
    pub fn new(
        sources: Vec<api::SourceHealth>,
        mode: EngineMode,
        listen: Option<std::net::SocketAddr>,
        token: String,
        notifications: String,
    ) -> Self {
        let webhook = match mode {
            EngineMode::Hosting { webhook, .. } => webhook,
            _ => format!(
                "http://{}",
                listen.map_or_else(
                    || stopline_core::settings::DEFAULT_LISTEN.to_owned(),
                    |address| address.to_string()
                )
            ),
        };
        Self {
            sources: sources
                .into_iter()
                .map(|s| SourceRow {
                    state: SourceStateText::of(s.state),
                    last_success: s.last_success.map(|t| t.to_string()),
                    last_error: s.last_error.or_else(|| s.outbox_error.clone()),
                    failing_since: s.failing_since.map(|t| t.to_string()),
                    waiting: u32::try_from(s.waiting).unwrap_or(u32::MAX),
                    waiting_since: s.waiting_since.map(|t| t.to_string()),
                    abandoned: u32::try_from(s.abandoned).unwrap_or(u32::MAX),
                    name: s.name,
                    kind: s.kind,
                    url: s.url,
                })
                .collect(),
            webhook,
            token,
            notifications,
        }
    }
}

fn shift(s: &Shift, names: &dyn Fn(&stopline_core::ids::PersonId) -> String) -> ShiftView {
    ShiftView {
        rota: s.rota.to_string(),
        layer: s.layer.clone(),
        person: s.person.to_string(),
        person_name: names(&s.person),
        since: s.start.to_string(),
        until: s.end.to_string(),
        is_override: s.is_override,
    }
}

impl OnCallOverview {
    /// `config` names the people; `my_calendar_url` is my shifts' feed, when there is one.
    pub fn new(
        view: &api::OnCallView,
        config: Option<&Config>,
        my_calendar_url: Option<String>,
    ) -> Self {
        let names = |person: &stopline_core::ids::PersonId| {
            config
                .and_then(|c| c.person(person))
                .map_or_else(|| person.to_string(), |p| p.name.clone())
        };
        let shift = |s: &Shift| shift(s, &names);
        Self {
            timeline_from: view.timeline_from.to_string(),
            timeline_to: view.timeline_to.to_string(),
            timeline: view
                .timeline
                .iter()
                .map(|r| RotaTimelineView {
                    id: r.rota.id.to_string(),
                    name: r.rota.name.clone(),
                    teams: r.rota.teams.iter().map(ToString::to_string).collect(),
                    mine: r.rota.teams.iter().any(|t| view.my_teams.contains(t)),
                    layers: r
                        .layers
                        .iter()
                        .map(|(layer, shifts)| TimelineLayerView {
                            layer: layer.clone(),
                            shifts: shifts.iter().map(shift).collect(),
                        })
                        .collect(),
                    overrides: r
                        .overrides
                        .iter()
                        .map(|o| OverrideView {
                            layer: r
                                .rota
                                .layers
                                .get(o.layer)
                                .map_or_else(String::new, |l| l.name.clone()),
                            person: o.person.to_string(),
                            person_name: names(&o.person),
                            from: o.from.to_string(),
                            to: o.to.to_string(),
                        })
                        .collect(),
                })
                .collect(),
            overrides_editable: view.overrides_editable,
            my_calendar_url,
            rotas: view
                .rotas
                .iter()
                .map(|r| RotaView {
                    id: r.rota.id.to_string(),
                    name: r.rota.name.clone(),
                    kind: if r.rota.is_domain() {
                        RotaKindText::Domain
                    } else {
                        RotaKindText::Team
                    },
                    teams: r.rota.teams.iter().map(ToString::to_string).collect(),
                    layers: r
                        .layers
                        .iter()
                        .map(|l| LayerView {
                            layer: l.layer.clone(),
                            now: l.now.as_ref().map(shift),
                            next: l.next.as_ref().map(shift),
                        })
                        .collect(),
                })
                .collect(),
            my_shifts: view.my_shifts.iter().map(shift).collect(),
        }
    }
}

impl SettingsView {
    pub fn new(
        settings: api::SettingsView,
        autostart: &crate::autostart::Autostart,
        hub: Option<HubView>,
    ) -> Self {
        let notifications = settings.notifications;
        Self {
            me: settings.me.map(|p| p.to_string()),
            people: people(&settings.people),
            teammates: notifications.settings.teammates,
            flood_threshold: notifications.settings.flood_threshold,
            notifications_chosen_here: notifications.chosen_here,
            start_at_login: autostart.is_on(),
            start_at_login_detail: autostart.detail(),
            hub,
            version: stopline_engine::VERSION.to_owned(),
        }
    }
}

impl UnroutedView {
    pub fn new(view: api::UnroutedView) -> Self {
        Self {
            alerts: view
                .alerts
                .into_iter()
                .map(|a| UnroutedAlert {
                    source: a.alert.source,
                    fingerprint: a.alert.fingerprint.to_string(),
                    state: a.alert.state.into(),
                    summary: a.alert.annotations.get("summary").cloned(),
                    route_by: stopline_core::routing::route_label(&a.alert.labels)
                        .map(|(name, value)| (name.to_owned(), value.to_owned())),
                    labels: a.alert.labels,
                    last_seen: a.alert.last_seen.to_string(),
                })
                .collect(),
            applications: view
                .applications
                .into_iter()
                .map(|a| ApplicationOption {
                    id: a.id.to_string(),
                    name: a.name,
                    team_name: a.team_name,
                })
                .collect(),
        }
    }
}

impl ReportView {
    /// The report as the Reports view shows it; `config` supplies names.
    pub fn new(report: &stopline_core::economics::Report, config: &Config) -> Self {
        let app_name = |id: &stopline_core::ids::ApplicationId| {
            config
                .application(id)
                .map_or_else(|| id.to_string(), |a| a.name.clone())
        };
        let period = report.period;
        Self {
            from: report.period.from.to_string(),
            to: report.period.to.to_string(),
            currency: report.currency.clone(),
            all_teams: config
                .teams
                .iter()
                .filter(|t| t.kind == stopline_core::team::TeamKind::Delivery)
                .map(|t| PersonOption {
                    id: t.id.to_string(),
                    name: t.name.clone(),
                })
                .collect(),
            teams: report
                .teams
                .iter()
                .map(|t| TeamCostView {
                    team: t.team.to_string(),
                    team_name: config
                        .team(&t.team)
                        .map_or(t.team.to_string(), |team| team.name.clone()),
                    pay_model: t.pay_model.to_owned(),
                    standby: t.standby,
                    callout: t.callout,
                    total: t.total,
                    lines: t
                        .lines
                        .iter()
                        .map(|l| CostLineView {
                            application: l.application.to_string(),
                            application_name: app_name(&l.application),
                            standby: l.standby,
                            callout: l.callout,
                        })
                        .collect(),
                })
                .collect(),
            applications: report
                .applications
                .iter()
                .map(|a| ApplicationReportView {
                    application: a.application.to_string(),
                    name: a.name.clone(),
                    team: a.team.to_string(),
                    target_percent: a.target_percent,
                    availability_percent: a.availability_percent(period),
                    unavailable_seconds: a.unavailable_seconds,
                    budget_used_percent: a.budget_used_percent(period),
                    weeks_met: u32::try_from(a.weeks_met()).unwrap_or(u32::MAX),
                    weeks: u32::try_from(a.weeks.len()).unwrap_or(u32::MAX),
                    tta_median_seconds: a.time_to_acknowledge.median_seconds,
                    ttr_median_seconds: a.time_to_restore.median_seconds,
                    ttr_p90_seconds: a.time_to_restore.p90_seconds,
                    projected_loss: a.projected_loss,
                    actual_loss: a.actual_loss,
                    effectiveness: a.effectiveness,
                    on_call_cost: a.on_call_cost,
                    fit_model: a.fit.model.to_owned(),
                    fit_advice: a.fit.advice.clone(),
                })
                .collect(),
            people: report
                .people
                .iter()
                .map(|p| PersonPayView {
                    person: p.person.to_string(),
                    name: p.name.clone(),
                    standby_hours: p.standby_hours,
                    callouts: u32::try_from(p.callouts).unwrap_or(u32::MAX),
                    callout_hours: p.callout_hours,
                    total: p.total,
                })
                .collect(),
            restores: {
                let mut restores: Vec<RestoreView> = report
                    .incidents
                    .iter()
                    .filter_map(|i| {
                        Some(RestoreView {
                            ttr_seconds: i.time_to_restore_seconds(period)?,
                            incident: i.incident.clone(),
                            application: i.application.as_ref().map(ToString::to_string),
                            opened_at: i.opened_at.to_string(),
                        })
                    })
                    .collect();
                restores.sort_by(|a, b| a.opened_at.cmp(&b.opened_at));
                restores
            },
            warnings: report.warnings.clone(),
        }
    }
}
