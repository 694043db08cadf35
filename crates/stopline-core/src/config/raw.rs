//! The file's shape, as serde reads it: every key the config may have, unknown keys refused.
//! Positions (`Spanned`) are kept so the cross-checks can name the place of each problem.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::sources::{RawAlerts, RawPipeline, RawSource, RawWebhook};
use super::{pay, rotas, swarm};
use crate::team::TeamKind;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) workspace: RawWorkspace,
    #[serde(default)]
    pub(super) people: Vec<RawPerson>,
    #[serde(default)]
    pub(super) teams: Vec<RawTeam>,
    #[serde(default)]
    pub(super) applications: Vec<RawApplication>,
    #[serde(default)]
    pub(super) alerts: Option<RawAlerts>,
    #[serde(default)]
    pub(super) webhook: Option<RawWebhook>,
    #[serde(default)]
    pub(super) pipeline: Option<RawPipeline>,
    #[serde(default)]
    pub(super) hub: Option<super::sources::RawHub>,
    #[serde(default)]
    pub(super) sources: Vec<RawSource>,
    #[serde(default)]
    pub(super) rotas: Vec<rotas::RawRota>,
    #[serde(default)]
    pub(super) escalation: Option<rotas::RawEscalation>,
    #[serde(default)]
    pub(super) notifications: Option<rotas::RawNotifications>,
    #[serde(default)]
    pub(super) checklist: Option<swarm::RawChecklist>,
    #[serde(default)]
    pub(super) line: Option<swarm::RawLine>,
    #[serde(default)]
    pub(super) routes: Vec<RawRoute>,
    #[serde(default)]
    pub(super) pay: Option<pay::RawPay>,
    #[serde(default)]
    pub(super) paging: Option<super::reach::RawPaging>,
    #[serde(default)]
    pub(super) smtp: Option<Spanned<super::reach::RawSmtp>>,
}

/// More labels that send alerts to an application (`stopline assign --save` writes these).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoute {
    pub(super) application: Spanned<String>,
    #[serde(default, rename = "match")]
    pub(super) match_equal: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub(super) match_regex: BTreeMap<String, Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWorkspace {
    pub(super) name: Spanned<String>,
    pub(super) time_zone: Spanned<String>,
    pub(super) currency: Spanned<String>,
    #[serde(default)]
    pub(super) locale: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) working_hours: Option<RawWorkingHours>,
    #[serde(default)]
    pub(super) major_loss_per_hour: Option<u64>,
    #[serde(default)]
    pub(super) holidays: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWorkingHours {
    pub(super) days: Vec<Spanned<String>>,
    pub(super) start: Spanned<String>,
    pub(super) end: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPerson {
    pub(super) id: Spanned<String>,
    pub(super) name: Spanned<String>,
    #[serde(default)]
    pub(super) time_zone: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) admin: bool,
    #[serde(default)]
    pub(super) contacts: Vec<Spanned<super::reach::RawContact>>,
    #[serde(default)]
    pub(super) contacts_first_out_of_hours: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTeam {
    pub(super) id: Spanned<String>,
    pub(super) name: Spanned<String>,
    pub(super) kind: TeamKind,
    #[serde(default)]
    pub(super) members: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) escalation: Option<rotas::RawEscalation>,
    #[serde(default)]
    pub(super) checklist: Option<Vec<swarm::RawStep>>,
    #[serde(default)]
    pub(super) pay: Option<pay::RawPay>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApplication {
    pub(super) id: Spanned<String>,
    pub(super) name: Spanned<String>,
    pub(super) team: Spanned<String>,
    pub(super) availability_target: Spanned<f64>,
    pub(super) exposure_per_hour: u64,
    #[serde(default, rename = "match")]
    pub(super) match_equal: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub(super) match_regex: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub(super) journeys: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) expected_time_to_restore: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) checklist_extra: Vec<swarm::RawStep>,
    #[serde(default)]
    pub(super) deploys: Option<Spanned<String>>,
}
