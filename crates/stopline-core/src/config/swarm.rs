//! The Stop The Line part of the config: checklist templates (`[checklist]`, a team's
//! `checklist`, an application's `checklist_extra`) and `[line]`.

use std::collections::HashMap;

use serde::Deserialize;
use toml::Spanned;

use super::checker::Checker;
use crate::ids::StepId;
use crate::settings::parse_http_url;
use crate::swarm::{LineStopsOn, StepTemplate};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    id: Spanned<String>,
    title: Spanned<String>,
    #[serde(default)]
    required: Option<bool>,
    #[serde(default)]
    runbook: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawChecklist {
    steps: Spanned<Vec<RawStep>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLine {
    stops_on: Spanned<String>,
}

impl Checker<'_> {
    /// Steps with unique slug ids, titles and http(s) runbook links. `key` names the list.
    pub(super) fn steps(&mut self, raw: &[RawStep], key: &str) -> Vec<StepTemplate> {
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut steps = Vec::new();
        for (i, step) in raw.iter().enumerate() {
            let key = format!("{key}[{i}]");
            let id = self.unique_id(
                &step.id,
                &format!("{key}.id"),
                "step",
                &mut seen,
                StepId::new,
            );
            let title = self.non_empty(&step.title, &format!("{key}.title"));
            let runbook = match &step.runbook {
                Some(url) => match parse_http_url(url.get_ref()) {
                    Some(url) => Some(url),
                    None => {
                        self.problem(
                            url.span(),
                            format!("{key}.runbook"),
                            format!(
                                "invalid URL {:?}: expected an http:// or https:// link",
                                url.get_ref()
                            ),
                        );
                        None
                    }
                },
                None => None,
            };
            if let Some(id) = id {
                steps.push(StepTemplate {
                    id,
                    title,
                    required: step.required.unwrap_or(true),
                    runbook,
                });
            }
        }
        steps
    }

    /// The workspace's checklist: `[checklist] steps`, else the built-in one.
    pub(super) fn checklist(&mut self, raw: Option<&RawChecklist>) -> Option<Vec<StepTemplate>> {
        let raw = raw?;
        if raw.steps.get_ref().is_empty() {
            self.problem(
                raw.steps.span(),
                "checklist.steps",
                "a checklist needs at least one step; leave [checklist] out for the built-in one",
            );
            return None;
        }
        Some(self.steps(raw.steps.get_ref(), "checklist.steps"))
    }

    pub(super) fn line(&mut self, raw: Option<&RawLine>) -> LineStopsOn {
        let Some(raw) = raw else {
            return LineStopsOn::default();
        };
        match LineStopsOn::parse(raw.stops_on.get_ref()) {
            Some(policy) => policy,
            None => {
                self.problem(
                    raw.stops_on.span(),
                    "line.stops_on",
                    format!(
                        "unknown value {:?}: expected \"major\" (a major incident stops its team's line) or \"any\"",
                        raw.stops_on.get_ref()
                    ),
                );
                LineStopsOn::default()
            }
        }
    }
}
