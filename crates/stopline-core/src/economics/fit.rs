//! The operating model an application's exposure and feature demand point to, and warnings
//! about the on-call arrangement itself (docs/domain.md, "Operating-model fit" and "Rotas").

use std::collections::BTreeSet;

use super::Fit;
use crate::application::{Application, DeployFrequency};
use crate::config::Config;
use crate::ids::PersonId;

/// The operating model exposure (as the availability target) and feature demand (as deployment
/// frequency) point to: weekly or faster with a 99.0%+ target favours You Build It You Run It;
/// fortnightly or slower with a lower target favours a central operations team.
pub fn fit(app: &Application, deploys: Option<DeployFrequency>) -> Fit {
    let high = app.target.percent() >= 99.0;
    let Some(deploys) = deploys else {
        return Fit {
            model: "unknown",
            advice: "set `deploys` on the application to judge its operating model".to_owned(),
        };
    };
    let fast = deploys >= DeployFrequency::Weekly;
    match (fast, high) {
        (true, true) => Fit {
            model: "you build it you run it",
            advice: "frequent change and high exposure: the team that builds it runs it, on call out of hours".to_owned(),
        },
        (false, false) => Fit {
            model: "central operations",
            advice: "infrequent change and low exposure: a central operations team could run it".to_owned(),
        },
        (true, false) => Fit {
            model: "you build it you run it",
            advice: "frequent change but low exposure: the team runs it in working hours; an out-of-hours rota is not worth its cost".to_owned(),
        },
        (false, true) => Fit {
            model: "mixed",
            advice: "high exposure but infrequent change: check the availability target, or deploy more often".to_owned(),
        },
    }
}

/// Warnings about the on-call arrangement itself.
pub fn warnings(config: &Config) -> Vec<String> {
    let mut warnings = Vec::new();
    if config.pay.model.is_none() && config.teams.iter().all(|t| t.pay.is_none()) {
        warnings.push("no [pay] in the config: on-call costs are shown as zero".to_owned());
    }
    let delivery = config
        .teams
        .iter()
        .filter(|t| t.kind == crate::team::TeamKind::Delivery)
        .count();
    let own_rotas = config.rotas.iter().filter(|r| !r.is_domain()).count();
    if own_rotas >= 3 && own_rotas * 2 > delivery {
        warnings.push(format!(
            "{own_rotas} teams run their own out-of-hours rota: check their availability targets (a domain rota shared by sibling teams costs less)"
        ));
    }
    for rota in &config.rotas {
        let people: BTreeSet<&PersonId> = rota.layers.iter().flat_map(|l| &l.members).collect();
        if people.len() < 3 {
            warnings.push(format!(
                "rota {} has fewer than 3 people ({}): on call too often to be sustainable",
                rota.id,
                people.len()
            ));
        }
    }
    warnings
}
