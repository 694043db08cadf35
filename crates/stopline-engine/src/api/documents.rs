//! The two documents Stopline writes: the operability report over a period (what on-call costs,
//! what outages lose, availability and times) and an incident's post-incident review.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use stopline_core::config::Config;
use stopline_core::economics::Report;
use stopline_core::ids::TeamId;
use stopline_core::incident::IncidentId;

use super::{TimeArg, Workspace, period};
use crate::report::{self, CsvTable};
use crate::review::Review;
use crate::{EngineError, Result};

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

    /// Writes the report into `dir` (made when missing) as Markdown, one file, or as CSV, one
    /// file per table; each file written whole or not at all. Answers the files written. Names
    /// say the period and the team: `stopline-report-2026-11-01-to-2026-12-01-payments.md`.
    pub fn export(&self, dir: &Path, format: ExportFormat) -> Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir).map_err(|source| EngineError::Io {
            action: "make the folder for the report",
            path: dir.to_owned(),
            source,
        })?;
        let period = self.report.period;
        // The dates people asked for: midnight in the workspace's zone, not in UTC.
        let date = |at: jiff::Timestamp| {
            at.to_zoned_datetime(self.config.workspace.time_zone.clone())
                .strftime("%Y-%m-%d")
                .to_string()
        };
        let stem = format!(
            "stopline-report-{}-to-{}{}",
            date(period.from),
            date(period.to),
            self.team
                .as_ref()
                .map(|t| format!("-{t}"))
                .unwrap_or_default()
        );
        let files: Vec<(PathBuf, String)> = match format {
            ExportFormat::Markdown => vec![(dir.join(format!("{stem}.md")), self.markdown())],
            ExportFormat::Csv => CsvTable::ALL
                .iter()
                .map(|table| {
                    (
                        dir.join(format!("{stem}-{}.csv", table.name())),
                        self.csv(*table),
                    )
                })
                .collect(),
        };
        for (path, text) in &files {
            crate::files::write_atomically(path, text.as_bytes())?;
        }
        Ok(files.into_iter().map(|(path, _)| path).collect())
    }
}

/// How the report is exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One Markdown document, as `stopline report --format markdown` prints it.
    Markdown,
    /// One CSV file per table, as `stopline report --format csv --table …` prints each.
    Csv,
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

    /// Where the app exports reports: `Stopline reports` in the person's documents folder when
    /// they have one, else `reports` in the data directory.
    pub fn export_dir(&self) -> PathBuf {
        match dirs::document_dir().filter(|d| d.is_dir()) {
            Some(documents) => documents.join("Stopline reports"),
            None => self.data_dir().root().join("reports"),
        }
    }

    /// The post-incident review of `id` (an open incident is reviewed up to now).
    pub fn review(&self, id: IncidentId) -> Result<Review> {
        let config = self.config()?;
        let now = self.now();
        self.with_store(|store| crate::review::review(store, &config, id, now))
    }
}
