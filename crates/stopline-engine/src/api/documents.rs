//! The two documents Stopline writes: the operability report over a period (what on-call costs,
//! what outages lose, availability and times) and an incident's post-incident review.

use std::sync::Arc;

use stopline_core::config::Config;
use stopline_core::economics::Report;
use stopline_core::ids::TeamId;
use stopline_core::incident::IncidentId;

use super::{TimeArg, Workspace, period};
use crate::Result;
use crate::report::{self, CsvTable};
use crate::review::Review;

/// The report with the config it was built from (for names) and the team it is about.
#[derive(Debug, Clone)]
pub struct ReportView {
    pub report: Report,
    pub config: Arc<Config>,
    /// `None`: every team.
    pub team: Option<TeamId>,
}

impl ReportView {
    pub fn markdown(&self) -> String {
        report::markdown(&self.report, &self.config, self.team.as_ref())
    }

    pub fn csv(&self, table: CsvTable) -> String {
        report::csv(&self.report, table)
    }
}

impl Workspace {
    /// The report over `[from, to)` (by default the four weeks to now), for every team or one.
    pub fn report(
        &self,
        from: Option<TimeArg<'_>>,
        to: Option<TimeArg<'_>>,
        team: Option<&str>,
    ) -> Result<ReportView> {
        let config = self.config()?;
        let (start, end) = period(&config, from, to, self.now())?;
        let team = team
            .map(|t| crate::lookup::team(&config, t).map(|t| t.id.clone()))
            .transpose()?;
        let report = self.with_store(|store| {
            report::build(
                store,
                &config,
                start,
                end,
                team.as_ref().map(TeamId::as_str),
            )
        })?;
        Ok(ReportView {
            report,
            config,
            team,
        })
    }

    /// The post-incident review of `id` (an open incident is reviewed up to now).
    pub fn review(&self, id: IncidentId) -> Result<Review> {
        let config = self.config()?;
        let now = self.now();
        self.with_store(|store| crate::review::review(store, &config, id, now))
    }
}
