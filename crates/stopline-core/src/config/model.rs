//! The configuration once parsed and checked: the workspace, its people, teams, applications,
//! rotas and settings, and lookups by typed id. Everything here is valid by construction:
//! [`Config::parse`](super::Config::parse) is the only way to make one.

use crate::application::Application;
use crate::ids::{ApplicationId, PersonId, TeamId};
use crate::mapping::{ApplicationMapping, MappingIndex};
use crate::pay::{PayModel, PaySettings};
use crate::rota::Rota;
use crate::settings::{
    AlertSettings, HubSettings, NotificationSettings, PipelineSettings, SourceConfig,
    WebhookSettings,
};
use crate::swarm::{LineStopsOn, StepTemplate};
use crate::team::{EscalationPolicy, Person, Team};
use crate::workspace::WorkspaceSettings;

/// A valid configuration: every id unique, every reference resolved.
#[derive(Debug, Clone)]
pub struct Config {
    pub workspace: WorkspaceSettings,
    pub people: Vec<Person>,
    pub teams: Vec<Team>,
    /// In config order, which breaks ties in the application mapping.
    pub applications: Vec<Application>,
    pub alerts: AlertSettings,
    pub webhook: WebhookSettings,
    pub pipeline: PipelineSettings,
    /// A joined desktop's behaviour while its hub is away.
    pub hub: HubSettings,
    pub sources: Vec<SourceConfig>,
    /// On-call rotas, team and domain; see `rota` and `callout`.
    pub rotas: Vec<Rota>,
    /// The workspace's escalation policy, for teams without their own.
    pub escalation: EscalationPolicy,
    pub notifications: NotificationSettings,
    /// The workspace's checklist template (the built-in one unless `[checklist]` is given).
    pub checklist: Vec<StepTemplate>,
    /// Which acknowledged incidents stop their team's line.
    pub line_stops_on: LineStopsOn,
    /// The workspace's pay model and how standby is split into application lines.
    pub pay: PaySettings,
    /// How pages reach people away from their desk (`[paging]`).
    pub paging: crate::reach::PagingSettings,
    /// The relay email pages go through (`[smtp]`); `None`: no email.
    pub smtp: Option<crate::reach::SmtpSettings>,
    /// The applications followed by one copy per `[[routes]]` entry (with the route's matchers):
    /// what the mapping routes over.
    pub(super) routing: Vec<Application>,
    /// Built once from `routing`, so routing an alert storm stays fast.
    pub(super) mapping_index: MappingIndex,
}

impl Config {
    pub fn person(&self, id: &PersonId) -> Option<&Person> {
        self.people.iter().find(|p| &p.id == id)
    }

    /// How a team's on-call is paid: its own `pay`, else the workspace's `[pay]`, else nothing.
    pub fn pay_model(&self, team: &TeamId) -> PayModel {
        self.teams
            .iter()
            .find(|t| &t.id == team)
            .and_then(|t| t.pay)
            .or(self.pay.model)
            .unwrap_or_default()
    }

    pub fn team(&self, id: &TeamId) -> Option<&Team> {
        self.teams.iter().find(|t| &t.id == id)
    }

    pub fn application(&self, id: &ApplicationId) -> Option<&Application> {
        self.applications.iter().find(|a| &a.id == id)
    }

    pub fn applications_of<'a>(
        &'a self,
        team: &'a TeamId,
    ) -> impl Iterator<Item = &'a Application> {
        self.applications.iter().filter(move |a| &a.team == team)
    }

    /// The severity an incident on `application` starts with: its projected loss (exposure ×
    /// expected time to restore) against the workspace's threshold.
    pub fn initial_severity(&self, application: &Application) -> crate::incident::Severity {
        self.severity_after(application, std::time::Duration::ZERO)
    }

    /// The severity money says an incident on `application` has after lasting `elapsed`.
    pub fn severity_after(
        &self,
        application: &Application,
        elapsed: std::time::Duration,
    ) -> crate::incident::Severity {
        crate::incident::Severity::from_estimated_loss(
            application.estimated_loss(elapsed),
            self.workspace.major_loss_per_hour,
        )
    }

    /// The checklist an incident of `team` on `application` starts with: the team's template
    /// (else the workspace's), with the application's extra steps.
    pub fn checklist_for(
        &self,
        team: Option<&TeamId>,
        application: Option<&ApplicationId>,
    ) -> Vec<StepTemplate> {
        let template = team
            .and_then(|t| self.team(t))
            .and_then(|t| t.checklist.as_deref())
            .unwrap_or(&self.checklist);
        let extra = application
            .and_then(|a| self.application(a))
            .map_or(&[][..], |a| a.checklist_extra.as_slice());
        crate::swarm::checklist_for(template, extra)
    }

    /// Routes alerts and journeys: the applications, then the `[[routes]]` to them.
    pub fn mapping(&self) -> ApplicationMapping<'_> {
        ApplicationMapping::with_index(&self.routing, &self.mapping_index)
    }
}
