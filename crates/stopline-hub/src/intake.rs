//! Intake on the hub: a delivery of alerts, already parsed and routed, applied in one
//! transaction by the same rules a desktop's store applies (`stopline_core::delivery`):
//! deduplication, grouping into incidents, resolving by itself. Every delivery bumps the
//! organisation's version first; that row's lock puts concurrent deliveries, on any number of
//! hubs, one after the other, so an alert sent to two hubs at once is one alert and one
//! incident, and versions follow commit order.

use std::collections::{BTreeMap, HashMap};
use std::time::SystemTime;

use jiff::Timestamp;
use stopline_core::alert::AlertState;
use stopline_core::delivery::{
    AlertChange, AlertNames, Arrival, IncidentLink, KnownAlert, alert_name, observe, opened_detail,
    resolves_itself,
};
use stopline_core::incident::{Incident, IncidentId};
use stopline_core::routing::AlertObservation;
use stopline_core::timeline::{TimelineEvent, TimelineKind};
use tokio_postgres::Transaction;

use crate::Result;
use crate::database::Database;
use crate::error::{HubError, is_retryable};
use crate::rows::{
    INCIDENT_COLUMNS, bump_version, corrupt, from_time, read_incident, save_state, to_time,
};

/// What a delivery did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntakeSummary {
    /// The organisation's version this delivery committed as.
    pub version: i64,
    pub new: usize,
    pub changed: usize,
    pub repeated: usize,
    pub stale: usize,
    pub resolved: usize,
    /// Alerts that joined an incident already open.
    pub joined: usize,
    /// Incidents this delivery opened.
    pub opened: Vec<IncidentId>,
    /// Incidents that resolved themselves, their last alert resolved with nobody on them.
    pub auto_resolved: Vec<IncidentId>,
}

/// How many times a delivery is tried when PostgreSQL asks for a retry (40001, 40P01).
const ATTEMPTS: usize = 10;

impl Database {
    /// Applies a delivery in one transaction, retried whole when PostgreSQL asks; an incident
    /// whose alerts all resolved resolves itself when `auto_resolve` says so and nobody
    /// acknowledged it.
    pub async fn ingest(
        &self,
        batch: &[AlertObservation],
        auto_resolve: bool,
        now: Timestamp,
    ) -> Result<IntakeSummary> {
        let mut client = self.client().await?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let tx = client.transaction().await?;
            let done = async {
                let summary = Intake::new(&tx, now)
                    .await?
                    .run(batch, auto_resolve)
                    .await?;
                Ok::<_, HubError>(summary)
            }
            .await;
            match done {
                Ok(summary) => match tx.commit().await {
                    Ok(()) => return Ok(summary),
                    Err(e) if attempt < ATTEMPTS && is_retryable(&e) => continue,
                    Err(e) => return Err(e.into()),
                },
                Err(HubError::Database(e)) if attempt < ATTEMPTS && is_retryable(&e) => {
                    drop(tx);
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Applies a delivery inside a transaction that has already taken the organisation's version
/// row (`version`): a person's mutation that routes an alert by hand, decided in its push.
pub(crate) async fn ingest_in(
    tx: &Transaction<'_>,
    batch: &[AlertObservation],
    auto_resolve: bool,
    now: Timestamp,
    version: i64,
) -> Result<IntakeSummary> {
    Intake::at_version(tx, now, version)
        .run(batch, auto_resolve)
        .await
}

/// What the hub holds of an alert, to compare a delivery with.
#[derive(Debug, Clone)]
struct Known {
    id: i64,
    state: AlertState,
    starts_at: Timestamp,
    ends_at: Option<Timestamp>,
    incident: Option<i64>,
    content: Content,
}

/// What makes a re-sent alert "nothing new" when it is equal.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Content {
    labels: String,
    annotations: String,
    links: String,
    muted: bool,
    generator_url: Option<String>,
    application: Option<String>,
    team: Option<String>,
}

impl Content {
    fn of(observation: &AlertObservation) -> Result<Self> {
        let alert = &observation.alert;
        Ok(Self {
            labels: json(&alert.labels)?,
            annotations: json(&alert.annotations)?,
            links: json(&alert.links)?,
            muted: alert.muted,
            generator_url: alert.generator_url.clone(),
            application: observation
                .route
                .as_ref()
                .map(|r| r.application.to_string()),
            team: observation.route.as_ref().map(|r| r.team.to_string()),
        })
    }
}

/// Labels, annotations or links as the JSON text the hub keeps (sorted keys: equal maps are equal
/// text).
fn json(map: &BTreeMap<String, String>) -> Result<String> {
    serde_json::to_string(map).map_err(|e| corrupt(&e.to_string()))
}

/// The id of an alert this delivery writes for the first time, until the write.
const NOT_WRITTEN_YET: i64 = 0;

/// Alert rows to write, column by column (PostgreSQL takes each column as one array): at most
/// one row per alert, the last observation of it in the delivery.
#[derive(Debug, Default)]
struct Staged {
    rows: HashMap<(String, String), usize>,
    source: Vec<String>,
    fingerprint: Vec<String>,
    labels: Vec<String>,
    annotations: Vec<String>,
    links: Vec<String>,
    muted: Vec<bool>,
    state: Vec<&'static str>,
    starts_at: Vec<SystemTime>,
    ends_at: Vec<Option<SystemTime>>,
    generator_url: Vec<Option<String>>,
    application: Vec<Option<String>>,
    team: Vec<Option<String>>,
    incident: Vec<Option<i64>>,
    last_seen: Vec<SystemTime>,
}

impl Staged {
    /// Stages the alert as `observation` delivers it, replacing an earlier observation of it in
    /// the same delivery (one statement may not write a row twice).
    fn stage(&mut self, observation: &AlertObservation, content: &Content, incident: Option<i64>) {
        let alert = &observation.alert;
        let key = (alert.source.clone(), alert.fingerprint.to_string());
        let row = match self.rows.get(&key) {
            Some(&row) => row,
            None => {
                let row = self.source.len();
                self.rows.insert(key, row);
                self.source.push(alert.source.clone());
                self.fingerprint.push(alert.fingerprint.to_string());
                self.labels.push(String::new());
                self.annotations.push(String::new());
                self.links.push(String::new());
                self.muted.push(false);
                self.state.push("");
                self.starts_at.push(SystemTime::UNIX_EPOCH);
                self.ends_at.push(None);
                self.generator_url.push(None);
                self.application.push(None);
                self.team.push(None);
                self.incident.push(None);
                self.last_seen.push(SystemTime::UNIX_EPOCH);
                row
            }
        };
        self.labels[row].clone_from(&content.labels);
        self.annotations[row].clone_from(&content.annotations);
        self.links[row].clone_from(&content.links);
        self.muted[row] = content.muted;
        self.state[row] = alert.state.as_str();
        self.starts_at[row] = to_time(alert.starts_at);
        self.ends_at[row] = alert.ends_at.map(to_time);
        self.generator_url[row].clone_from(&content.generator_url);
        self.application[row].clone_from(&content.application);
        self.team[row].clone_from(&content.team);
        self.incident[row] = incident;
        self.last_seen[row] = to_time(alert.last_seen);
    }
}

/// Names of alerts that joined or resolved on one incident in this delivery.
#[derive(Debug, Default)]
struct Touched {
    joined: AlertNames,
    resolved: AlertNames,
}

/// One delivery's transaction.
struct Intake<'a> {
    tx: &'a Transaction<'a>,
    now: Timestamp,
    version: i64,
    known: HashMap<(String, String), Known>,
    open_by_group: HashMap<String, i64>,
    touched: BTreeMap<i64, Touched>,
    repeated: Vec<i64>,
    /// Alert rows to write, one per alert (the last of the delivery's observations of it),
    /// written together by [`Intake::flush`].
    staged: Staged,
    /// Timeline entries to write, in order, by [`Intake::flush_timeline`].
    events: Vec<(i64, TimelineEvent)>,
    summary: IntakeSummary,
}

impl<'a> Intake<'a> {
    /// Takes the organisation's version row first: every write does, so writes follow one
    /// another in version order.
    async fn new(tx: &'a Transaction<'a>, now: Timestamp) -> Result<Self> {
        let version = bump_version(tx).await?;
        Ok(Self::at_version(tx, now, version))
    }

    fn at_version(tx: &'a Transaction<'a>, now: Timestamp, version: i64) -> Self {
        Self {
            tx,
            now,
            version,
            known: HashMap::new(),
            open_by_group: HashMap::new(),
            touched: BTreeMap::new(),
            repeated: Vec::new(),
            staged: Staged::default(),
            events: Vec::new(),
            summary: IntakeSummary {
                version,
                ..IntakeSummary::default()
            },
        }
    }

    async fn run(
        mut self,
        batch: &[AlertObservation],
        auto_resolve: bool,
    ) -> Result<IntakeSummary> {
        self.load_known(batch).await?;
        for observation in batch {
            self.observe(observation).await?;
        }
        self.flush().await?;
        if !self.repeated.is_empty() {
            self.tx
                .execute(
                    "UPDATE alerts SET last_seen = $1 WHERE id = ANY($2)",
                    &[&to_time(self.now), &self.repeated],
                )
                .await?;
        }
        self.summarise(auto_resolve).await?;
        self.flush_timeline().await?;
        Ok(self.summary)
    }

    /// Everything the hub holds of the delivery's alerts: one query per source.
    async fn load_known(&mut self, batch: &[AlertObservation]) -> Result<()> {
        let mut by_source: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for o in batch {
            by_source
                .entry(o.alert.source.as_str())
                .or_default()
                .push(o.alert.fingerprint.to_string());
        }
        for (source, fingerprints) in by_source {
            let rows = self
                .tx
                .query(
                    "SELECT id, fingerprint, state, starts_at, ends_at, incident_id, labels,
                            annotations, links, muted, generator_url, application_id, team_id
                     FROM alerts WHERE source = $1 AND fingerprint = ANY($2)",
                    &[&source, &fingerprints],
                )
                .await?;
            for row in rows {
                let state: String = row.get(2);
                let known = Known {
                    id: row.get(0),
                    state: AlertState::parse(&state)
                        .ok_or_else(|| corrupt(&format!("alert state {state:?}")))?,
                    starts_at: from_time(row.get(3))?,
                    ends_at: row
                        .get::<_, Option<SystemTime>>(4)
                        .map(from_time)
                        .transpose()?,
                    incident: row.get(5),
                    content: Content {
                        labels: row.get(6),
                        annotations: row.get(7),
                        links: row.get(8),
                        muted: row.get(9),
                        generator_url: row.get(10),
                        application: row.get(11),
                        team: row.get(12),
                    },
                };
                self.known
                    .insert((source.to_owned(), row.get::<_, String>(1)), known);
            }
        }
        Ok(())
    }

    async fn observe(&mut self, observation: &AlertObservation) -> Result<()> {
        let alert = &observation.alert;
        let key = (alert.source.clone(), alert.fingerprint.to_string());
        let known = self.known.remove(&key);
        let content = Content::of(observation)?;
        let arrival = Arrival {
            state: alert.state,
            starts_at: alert.starts_at,
            routed: observation.route.is_some() && observation.group_key.is_some(),
            muted: alert.muted,
            same_content: known.as_ref().is_some_and(|k| k.content == content),
        };
        let before = known.as_ref().map(|k| KnownAlert {
            state: k.state,
            starts_at: k.starts_at,
            ends_at: k.ends_at,
            incident: k.incident.map(incident_id),
        });
        let now_known = match (observe(before.as_ref(), &arrival), known) {
            (AlertChange::New(link), _) => {
                let incident = self.link(observation, link, None).await?;
                self.staged.stage(observation, &content, incident);
                self.summary.new += 1;
                // Its id comes with the write; until then it needs none (see `repeated`).
                known_after(NOT_WRITTEN_YET, observation, incident, content)
            }
            (AlertChange::Repeat, Some(known)) => {
                self.seen_again(known.id);
                self.summary.repeated += 1;
                known
            }
            (AlertChange::Stale, Some(known)) => {
                self.seen_again(known.id);
                self.summary.stale += 1;
                known
            }
            (AlertChange::Changed(link), Some(known)) => {
                let incident = self.link(observation, link, known.incident).await?;
                self.staged.stage(observation, &content, incident);
                self.summary.changed += 1;
                known_after(known.id, observation, incident, content)
            }
            (AlertChange::Resolved, Some(known)) => {
                self.staged.stage(observation, &content, known.incident);
                if let Some(incident) = known.incident {
                    self.touched
                        .entry(incident)
                        .or_default()
                        .resolved
                        .add(alert_name(alert));
                }
                self.summary.resolved += 1;
                known_after(known.id, observation, known.incident, content)
            }
            (change, None) => {
                return Err(corrupt(&format!(
                    "{change:?} for an alert the hub does not hold"
                )));
            }
        };
        self.known.insert(key, now_known);
        Ok(())
    }

    async fn link(
        &mut self,
        observation: &AlertObservation,
        link: IncidentLink,
        had: Option<i64>,
    ) -> Result<Option<i64>> {
        match link {
            IncidentLink::Keep => Ok(had),
            IncidentLink::Detach => Ok(None),
            IncidentLink::Attach => self.attach(observation).await,
        }
    }

    /// The open incident of this firing alert's group, opening one if there is none.
    async fn attach(&mut self, observation: &AlertObservation) -> Result<Option<i64>> {
        let (Some(route), Some(key)) = (&observation.route, &observation.group_key) else {
            return Ok(None);
        };
        let name = alert_name(&observation.alert);
        if let Some(&incident) = self.open_by_group.get(key) {
            self.touched.entry(incident).or_default().joined.add(name);
            self.summary.joined += 1;
            return Ok(Some(incident));
        }
        let open = self
            .tx
            .query_opt(
                "SELECT id FROM incidents WHERE group_key = $1 AND state <> 'resolved'",
                &[key],
            )
            .await?;
        let incident = match open {
            Some(row) => {
                let incident: i64 = row.get(0);
                self.touched.entry(incident).or_default().joined.add(name);
                self.summary.joined += 1;
                incident
            }
            None => {
                let incident: i64 = self
                    .tx
                    .query_one(
                        "INSERT INTO incidents (application_id, team_id, title, severity, state,
                             opened_at, group_key, version)
                         VALUES ($1, $2, $3, $4, 'triggered', $5, $6, $7) RETURNING id",
                        &[
                            &route.application.as_str(),
                            &route.team.as_str(),
                            &observation.title,
                            &route.severity.as_str(),
                            &to_time(self.now),
                            key,
                            &self.version,
                        ],
                    )
                    .await?
                    .get(0);
                let detail = opened_detail(name, &observation.alert.source);
                self.timeline(incident, TimelineKind::Opened, detail);
                self.summary.opened.push(incident_id(incident));
                incident
            }
        };
        self.open_by_group.insert(key.clone(), incident);
        Ok(Some(incident))
    }

    /// An alert seen again: its `last_seen` moves (with one statement at the end). One this
    /// delivery writes anyway needs nothing more.
    fn seen_again(&mut self, id: i64) {
        if id != NOT_WRITTEN_YET {
            self.repeated.push(id);
        }
    }

    /// Writes every staged alert as delivered, new or known (a known one's `first_seen` stays
    /// as it was), in one statement: a storm of 10,000 alerts is one round trip, not 10,000.
    async fn flush(&mut self) -> Result<()> {
        let rows = std::mem::take(&mut self.staged);
        if rows.source.is_empty() {
            return Ok(());
        }
        self.tx
            .execute(
                "INSERT INTO alerts (source, fingerprint, labels, annotations, links, muted,
                     state, starts_at, ends_at, generator_url, application_id, team_id,
                     incident_id, first_seen, last_seen, version)
                 SELECT source, fingerprint, labels, annotations, links, muted, state,
                     starts_at, ends_at, generator_url, application_id, team_id, incident_id,
                     last_seen, last_seen, $15
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                     $6::boolean[], $7::text[], $8::timestamptz[], $9::timestamptz[],
                     $10::text[], $11::text[], $12::text[], $13::bigint[], $14::timestamptz[])
                     AS staged (source, fingerprint, labels, annotations, links, muted, state,
                         starts_at, ends_at, generator_url, application_id, team_id,
                         incident_id, last_seen)
                 ON CONFLICT (source, fingerprint) DO UPDATE SET
                     labels = excluded.labels, annotations = excluded.annotations,
                     links = excluded.links, muted = excluded.muted, state = excluded.state,
                     starts_at = excluded.starts_at, ends_at = excluded.ends_at,
                     generator_url = excluded.generator_url,
                     application_id = excluded.application_id, team_id = excluded.team_id,
                     incident_id = excluded.incident_id, last_seen = excluded.last_seen,
                     version = excluded.version",
                &[
                    &rows.source,
                    &rows.fingerprint,
                    &rows.labels,
                    &rows.annotations,
                    &rows.links,
                    &rows.muted,
                    &rows.state,
                    &rows.starts_at,
                    &rows.ends_at,
                    &rows.generator_url,
                    &rows.application,
                    &rows.team,
                    &rows.incident,
                    &rows.last_seen,
                    &self.version,
                ],
            )
            .await?;
        Ok(())
    }

    /// One timeline entry per incident for what the delivery did to it; resolves incidents
    /// whose alerts all resolved, when the rules say so.
    async fn summarise(&mut self, auto_resolve: bool) -> Result<()> {
        let touched = std::mem::take(&mut self.touched);
        for (incident, changes) in touched {
            if !changes.joined.is_empty() {
                let detail = changes.joined.joined_detail();
                self.timeline(incident, TimelineKind::Alerts, detail);
            }
            if changes.resolved.is_empty() {
                continue;
            }
            let still_firing: i64 = self
                .tx
                .query_one(
                    "SELECT count(*) FROM alerts WHERE incident_id = $1 AND state = 'firing'",
                    &[&incident],
                )
                .await?
                .get(0);
            let still_firing = u64::try_from(still_firing).unwrap_or(0);
            let detail = changes.resolved.resolved_detail(still_firing);
            self.timeline(incident, TimelineKind::Alerts, detail);
            if still_firing > 0 || !auto_resolve {
                continue;
            }
            let mut current = self.incident(incident).await?;
            if resolves_itself(auto_resolve, still_firing, current.state) {
                let event = current
                    .resolve_automatically(self.now)
                    .map_err(|e| corrupt(&e.to_string()))?;
                save_state(self.tx, &current, self.version).await?;
                self.append(incident, &event);
                self.summary.auto_resolved.push(incident_id(incident));
            }
        }
        Ok(())
    }

    async fn incident(&self, id: i64) -> Result<Incident> {
        let row = self
            .tx
            .query_one(
                &format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = $1"),
                &[&id],
            )
            .await?;
        read_incident(&row)
    }

    fn timeline(&mut self, incident: i64, kind: TimelineKind, detail: String) {
        let event = TimelineEvent {
            at: self.now,
            who: None,
            kind,
            detail,
        };
        self.append(incident, &event);
    }

    /// Stages a timeline entry; [`Intake::flush_timeline`] writes them all, in order.
    fn append(&mut self, incident: i64, event: &TimelineEvent) {
        self.events.push((incident, event.clone()));
    }

    /// Writes the staged timeline entries in one statement, in the order they were made.
    async fn flush_timeline(&mut self) -> Result<()> {
        let events = std::mem::take(&mut self.events);
        if events.is_empty() {
            return Ok(());
        }
        let incidents: Vec<i64> = events.iter().map(|(i, _)| *i).collect();
        let at: Vec<SystemTime> = events.iter().map(|(_, e)| to_time(e.at)).collect();
        let who: Vec<Option<&str>> = events
            .iter()
            .map(|(_, e)| e.who.as_ref().map(|p| p.as_str()))
            .collect();
        let kind: Vec<&str> = events.iter().map(|(_, e)| e.kind.as_str()).collect();
        let detail: Vec<&str> = events.iter().map(|(_, e)| e.detail.as_str()).collect();
        self.tx
            .execute(
                "INSERT INTO timeline (incident_id, at, who, kind, detail, version)
                 SELECT incident_id, at, who, kind, detail, $6
                 FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[])
                     WITH ORDINALITY AS staged (incident_id, at, who, kind, detail, n)
                 ORDER BY n",
                &[&incidents, &at, &who, &kind, &detail, &self.version],
            )
            .await?;
        Ok(())
    }
}

/// What the hub holds of an alert once this delivery's `observation` of it is written.
fn known_after(
    id: i64,
    observation: &AlertObservation,
    incident: Option<i64>,
    content: Content,
) -> Known {
    let alert = &observation.alert;
    Known {
        id,
        state: alert.state,
        starts_at: alert.starts_at,
        ends_at: alert.ends_at,
        incident,
        content,
    }
}

fn incident_id(id: i64) -> IncidentId {
    IncidentId(u64::try_from(id).unwrap_or(0))
}
