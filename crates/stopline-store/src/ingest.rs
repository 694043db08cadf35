//! Alerts arriving from sources, in one transaction per delivery: deduplicated by
//! `(source, fingerprint)` and grouped into incidents. What each alert does (new, repeat, stale,
//! changed, resolved; which incident it joins; whether an incident resolves itself) is decided by
//! `stopline_core::delivery`; this module reads what those rules need, in one query per source,
//! and writes their decisions. Timeline entries are summarised per incident per delivery.

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use stopline_core::alert::{Alert, AlertState};
use stopline_core::delivery::{
    AlertChange, AlertNames, Arrival, IncidentLink, KnownAlert, alert_name, observe, opened_detail,
    resolves_itself,
};
use stopline_core::incident::IncidentId;
use stopline_core::routing::RoutedAlert;
use stopline_core::timeline::{TimelineEvent, TimelineKind};

use crate::rows::{NewIncident, append, incident_id, insert, load, save_state, sql_id, to_json};
use crate::{Result, Store, StoreError, from_millis, to_millis};

/// One alert as a source delivered it, with where it routes (built by
/// `stopline_core::routing::observation`).
pub use stopline_core::routing::AlertObservation;

/// Choices the workspace makes about alert-driven incidents.
#[derive(Debug, Clone, Copy)]
pub struct IngestPolicy {
    /// Resolve an incident nobody acknowledged when all its alerts have resolved.
    pub auto_resolve: bool,
}

impl Default for IngestPolicy {
    fn default() -> Self {
        Self { auto_resolve: true }
    }
}

/// Which alert rows a delivery left, at which revision. If none of them has changed since, the
/// same delivery again is a pure repeat: see [`Store::replay`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Receipt {
    /// (row id, revision), one per alert, each alert once.
    rows: Vec<(i64, i64)>,
}

impl Receipt {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// What one delivery did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestSummary {
    /// Alerts seen for the first time.
    pub new: usize,
    /// Known alerts whose state or content changed.
    pub changed: usize,
    /// Re-sent with nothing new: only `last_seen` moved.
    pub repeated: usize,
    /// Firing deliveries for an occurrence that already resolved: ignored.
    pub stale: usize,
    /// Alerts that went from firing to resolved.
    pub resolved: usize,
    /// Incidents these alerts opened.
    pub opened: Vec<IncidentId>,
    /// Alerts that joined an incident that was already open.
    pub joined: usize,
    /// Incidents that resolved themselves.
    pub auto_resolved: Vec<IncidentId>,
}

/// A delivery cut into chunks of about [`INGEST_CHUNK`] alerts, never splitting a group: the
/// alerts of one incident group are decided in one transaction, as in a small delivery (else a
/// group's last alert resolving in one chunk would resolve its incident before the next chunk's
/// new alert of the same group could join it, and that alert would open and page a second
/// one). Groups keep the order of their first alert, and alerts their order within a group.
fn chunks_by_group(batch: &[AlertObservation]) -> Vec<Vec<AlertObservation>> {
    let mut groups: Vec<Vec<&AlertObservation>> = Vec::new();
    let mut group_of: HashMap<&str, usize> = HashMap::new();
    for observation in batch {
        match observation.group_key.as_deref() {
            Some(key) => match group_of.get(key) {
                Some(&i) => groups[i].push(observation),
                None => {
                    group_of.insert(key, groups.len());
                    groups.push(vec![observation]);
                }
            },
            // Unrouted alerts join no incident: each is a group of its own.
            None => groups.push(vec![observation]),
        }
    }
    let mut chunks: Vec<Vec<AlertObservation>> = Vec::new();
    let mut current: Vec<AlertObservation> = Vec::new();
    for group in groups {
        if !current.is_empty() && current.len() + group.len() > INGEST_CHUNK {
            chunks.push(std::mem::take(&mut current));
        }
        current.extend(group.into_iter().cloned());
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}

/// Alerts written in one transaction at most (a single group may be larger).
const INGEST_CHUNK: usize = 200;
/// The pause between two chunks of one delivery: a person's command waiting for the write lock
/// (it tries again every few milliseconds) finds it free.
const CHUNK_PAUSE: std::time::Duration = std::time::Duration::from_millis(1);

impl IngestSummary {
    /// Adds what another part of the same delivery did.
    fn add(&mut self, other: IngestSummary) {
        self.new += other.new;
        self.changed += other.changed;
        self.repeated += other.repeated;
        self.stale += other.stale;
        self.resolved += other.resolved;
        self.opened.extend(other.opened);
        self.joined += other.joined;
        self.auto_resolved.extend(other.auto_resolved);
    }

    /// Whether the delivery changed anything a person could see (a repeat changes nothing).
    pub fn changed_anything(&self) -> bool {
        self.new + self.changed + self.resolved > 0
            || !self.opened.is_empty()
            || !self.auto_resolved.is_empty()
    }
}

impl Store {
    /// Records a delivery of alerts (a webhook payload, or part of one).
    pub fn ingest(
        &mut self,
        batch: &[AlertObservation],
        policy: IngestPolicy,
        now: Timestamp,
    ) -> Result<IngestSummary> {
        Ok(self.ingest_with_receipt(batch, policy, now)?.0)
    }

    /// As [`Store::ingest`], with the receipt that lets the same delivery be replayed cheaply.
    pub fn ingest_with_receipt(
        &mut self,
        batch: &[AlertObservation],
        policy: IngestPolicy,
        now: Timestamp,
    ) -> Result<(IngestSummary, Receipt)> {
        // A huge delivery is written a chunk per transaction, with a pause between chunks, so
        // the write lock is never held long and a person's command waiting for it gets its turn.
        // Each chunk is whole, and a sender only hears "stored" once every chunk is; should a
        // later chunk fail, the sender's retry finds the earlier ones stored and completes it.
        let one_transaction = |store: &mut Store, part: &[AlertObservation]| {
            store.write(|tx| {
                let mut ingest = Ingest::new(tx, policy, now);
                let summary = ingest.run(part, None)?;
                Ok((summary, ingest.receipt(part)))
            })
        };
        let in_transaction = !self.conn.is_autocommit();
        if in_transaction || batch.len() <= INGEST_CHUNK {
            return one_transaction(self, batch);
        }
        let mut summary = IngestSummary::default();
        let mut receipt = Receipt { rows: Vec::new() };
        for (i, chunk) in chunks_by_group(batch).iter().enumerate() {
            if i > 0 {
                std::thread::sleep(CHUNK_PAUSE);
            }
            let (part, part_receipt) = one_transaction(self, chunk)?;
            summary.add(part);
            receipt.rows.extend(part_receipt.rows);
        }
        Ok((summary, receipt))
    }

    /// Applies a delivery again that was ingested before with `receipt`, if none of its alerts
    /// has changed since: then applying it in full would only move their `last_seen`, so that
    /// is all this does. Returns false, changing nothing, when something changed: apply the
    /// delivery in full instead.
    pub fn replay(&mut self, receipt: &Receipt, now: Timestamp) -> Result<bool> {
        let rows =
            serde_json::to_string(&receipt.rows).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.write(|tx| {
            let unchanged: i64 = tx
                .prepare_cached(
                    "SELECT count(*) FROM json_each(?1) AS r
                     JOIN alerts AS a ON a.id = r.value ->> 0 AND a.revision = r.value ->> 1",
                )?
                .query_row([&rows], |row| row.get(0))?;
            if usize::try_from(unchanged).ok() != Some(receipt.rows.len()) {
                return Ok(false);
            }
            tx.prepare_cached(
                "UPDATE alerts SET last_seen = ?2
                 WHERE id IN (SELECT value ->> 0 FROM json_each(?1))",
            )?
            .execute(params![rows, to_millis(now)])?;
            Ok(true)
        })
    }

    /// A source says one of its alerts is over (a PagerDuty `resolve`): it resolves now, exactly
    /// as a delivery saying so would resolve it, in one transaction. `None` when the store holds
    /// no such alert (the sender may resolve what it never triggered here).
    pub fn resolve_from_source(
        &mut self,
        source: &str,
        fingerprint: &stopline_core::alert::Fingerprint,
        policy: IngestPolicy,
        now: Timestamp,
    ) -> Result<Option<IngestSummary>> {
        self.write(|tx| {
            let Some(stored) = crate::alerts::find(tx, source, fingerprint)? else {
                return Ok(None);
            };
            // Where it was routed stays as it is: resolving is not routing again.
            let route = match (stored.application, stored.team) {
                (Some(application), Some(team)) => Some(RoutedAlert {
                    application,
                    team,
                    severity: stopline_core::incident::Severity::Minor,
                }),
                _ => None,
            };
            let observation = AlertObservation {
                alert: Alert {
                    state: AlertState::Resolved,
                    ends_at: Some(now),
                    first_seen: now,
                    last_seen: now,
                    ..stored.alert
                },
                route,
                group_key: None,
                title: String::new(),
            };
            Ingest::new(tx, policy, now)
                .run(std::slice::from_ref(&observation), None)
                .map(Some)
        })
    }

    /// Records a complete view of one source's active alerts (a poll): its firing alerts that
    /// are not in `batch` have stopped, and are resolved.
    pub fn ingest_snapshot(
        &mut self,
        source: &str,
        batch: &[AlertObservation],
        policy: IngestPolicy,
        now: Timestamp,
    ) -> Result<IngestSummary> {
        self.write(|tx| Ingest::new(tx, policy, now).run(batch, Some(source)))
    }
}

/// What is stored about an alert, as far as ingesting needs it.
struct Known {
    id: i64,
    revision: i64,
    state: AlertState,
    starts_at: i64,
    ends_at: Option<i64>,
    incident: Option<IncidentId>,
    /// Everything that makes a repeat "changed" when it differs.
    content: Content,
}

impl Known {
    /// What the delivery rules need to know of it.
    fn facts(&self) -> Result<KnownAlert> {
        Ok(KnownAlert {
            state: self.state,
            starts_at: from_millis(self.starts_at)?,
            ends_at: self.ends_at.map(from_millis).transpose()?,
            incident: self.incident,
        })
    }
}

#[derive(PartialEq, Eq)]
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
    fn of(observation: &AlertObservation) -> Self {
        let alert = &observation.alert;
        Self {
            labels: to_json(&alert.labels),
            annotations: to_json(&alert.annotations),
            links: to_json(&alert.links),
            muted: alert.muted,
            generator_url: alert.generator_url.clone(),
            application: observation
                .route
                .as_ref()
                .map(|r| r.application.to_string()),
            team: observation.route.as_ref().map(|r| r.team.to_string()),
        }
    }
}

/// Per-incident changes in this delivery, for the summary timeline entries.
#[derive(Default)]
struct Touched {
    joined: AlertNames,
    resolved: AlertNames,
}

struct Ingest<'a> {
    tx: &'a Connection,
    policy: IngestPolicy,
    now: Timestamp,
    summary: IngestSummary,
    /// Open incident per group key, found or opened in this delivery.
    open_by_group: HashMap<String, IncidentId>,
    touched: BTreeMap<IncidentId, Touched>,
    /// Alerts that only need `last_seen` moved: one statement at the end.
    repeated: Vec<i64>,
    /// What the store holds about this delivery's alerts, looked up in one query per source
    /// and kept current as the delivery is applied (a payload may name an alert twice).
    known: HashMap<String, HashMap<String, Known>>,
}

impl<'a> Ingest<'a> {
    fn new(tx: &'a Connection, policy: IngestPolicy, now: Timestamp) -> Self {
        Self {
            tx,
            policy,
            now,
            summary: IngestSummary::default(),
            open_by_group: HashMap::new(),
            touched: BTreeMap::new(),
            repeated: Vec::new(),
            known: HashMap::new(),
        }
    }

    fn run(
        &mut self,
        batch: &[AlertObservation],
        complete_for: Option<&str>,
    ) -> Result<IngestSummary> {
        self.load_known(batch)?;
        for observation in batch {
            self.observe(observation)?;
        }
        if let Some(source) = complete_for {
            let present: HashSet<&str> = batch
                .iter()
                .filter(|o| o.alert.source == source)
                .map(|o| o.alert.fingerprint.as_str())
                .collect();
            self.resolve_missing(source, &present)?;
        }
        self.touch_last_seen()?;
        self.summarise()?;
        Ok(std::mem::take(&mut self.summary))
    }

    fn observe(&mut self, observation: &AlertObservation) -> Result<()> {
        let alert = &observation.alert;
        let known = self
            .known
            .get_mut(alert.source.as_str())
            .and_then(|by_fingerprint| by_fingerprint.remove(alert.fingerprint.as_str()));
        let content = Content::of(observation);
        if let Some(now_known) = self.apply(observation, known, content)? {
            self.known
                .entry(alert.source.clone())
                .or_default()
                .insert(alert.fingerprint.to_string(), now_known);
        }
        Ok(())
    }

    /// Applies one alert; returns what the store now holds about it.
    fn apply(
        &mut self,
        observation: &AlertObservation,
        known: Option<Known>,
        content: Content,
    ) -> Result<Option<Known>> {
        let alert = &observation.alert;
        let starts_at = to_millis(alert.starts_at);
        let arrival = Arrival {
            state: alert.state,
            starts_at: alert.starts_at,
            routed: observation.route.is_some() && observation.group_key.is_some(),
            muted: alert.muted,
            same_content: known.as_ref().is_some_and(|k| k.content == content),
        };
        let before = known.as_ref().map(Known::facts).transpose()?;
        let after =
            |id: i64, revision: i64, incident: Option<IncidentId>, content: Content| Known {
                id,
                revision,
                state: alert.state,
                starts_at,
                ends_at: alert.ends_at.map(to_millis),
                incident,
                content,
            };
        match (observe(before.as_ref(), &arrival), known) {
            (AlertChange::New(link), _) => {
                let incident = self.link(observation, link, None)?;
                let id = self.insert(observation, &content, incident)?;
                self.summary.new += 1;
                Ok(Some(after(id, 0, incident, content)))
            }
            (AlertChange::Repeat, Some(known)) => {
                self.repeated.push(known.id);
                self.summary.repeated += 1;
                Ok(Some(known))
            }
            (AlertChange::Stale, Some(known)) => {
                self.repeated.push(known.id);
                self.summary.stale += 1;
                Ok(Some(known))
            }
            (AlertChange::Changed(link), Some(known)) => {
                let incident = self.link(observation, link, known.incident)?;
                self.update(known.id, observation, &content, incident)?;
                self.summary.changed += 1;
                Ok(Some(after(known.id, known.revision + 1, incident, content)))
            }
            (AlertChange::Resolved, Some(known)) => {
                self.update(known.id, observation, &content, known.incident)?;
                if let Some(incident) = known.incident {
                    self.touched
                        .entry(incident)
                        .or_default()
                        .resolved
                        .add(alert_name(alert));
                }
                self.summary.resolved += 1;
                Ok(Some(after(
                    known.id,
                    known.revision + 1,
                    known.incident,
                    content,
                )))
            }
            (change, None) => Err(StoreError::Corrupt(format!(
                "{change:?} for an alert the store does not hold"
            ))),
        }
    }

    /// The incident an alert belongs to after a delivery, as `link` decided.
    fn link(
        &mut self,
        observation: &AlertObservation,
        link: IncidentLink,
        had: Option<IncidentId>,
    ) -> Result<Option<IncidentId>> {
        match link {
            IncidentLink::Keep => Ok(had),
            IncidentLink::Detach => Ok(None),
            IncidentLink::Attach => self.attach(observation),
        }
    }

    /// Looks up every alert of the delivery that the store already holds: one query per source.
    fn load_known(&mut self, batch: &[AlertObservation]) -> Result<()> {
        let mut by_source: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for observation in batch {
            by_source
                .entry(observation.alert.source.as_str())
                .or_default()
                .push(observation.alert.fingerprint.as_str());
        }
        for (source, fingerprints) in by_source {
            // The fingerprints travel as one JSON array.
            let list = serde_json::to_string(&fingerprints)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let mut statement = self.tx.prepare_cached(
                "SELECT id, fingerprint, state, starts_at, ends_at, incident_id, labels, annotations,
                        links, muted, generator_url, application_id, team_id, revision
                 FROM alerts
                 WHERE source = ?1 AND fingerprint IN (SELECT value FROM json_each(?2))",
            )?;
            let rows = statement.query_map(params![source, list], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, i64>(3)?,
                    row.get::<_, Option<i64>>(4)?,
                    row.get::<_, Option<i64>>(5)?,
                    Content {
                        labels: row.get(6)?,
                        annotations: row.get(7)?,
                        links: row.get(8)?,
                        muted: row.get(9)?,
                        generator_url: row.get(10)?,
                        application: row.get(11)?,
                        team: row.get(12)?,
                    },
                    row.get::<_, i64>(13)?,
                ))
            })?;
            for row in rows {
                let (id, fingerprint, state, starts_at, ends_at, incident, content, revision) =
                    row?;
                let known = Known {
                    id,
                    revision,
                    state: AlertState::parse(&state)
                        .ok_or_else(|| StoreError::Corrupt(format!("alert state {state:?}")))?,
                    starts_at,
                    ends_at,
                    incident: incident.map(incident_id).transpose()?,
                    content,
                };
                self.known
                    .entry(source.to_owned())
                    .or_default()
                    .insert(fingerprint, known);
            }
        }
        Ok(())
    }

    /// The open incident of this firing alert's group, opening one if needed.
    fn attach(&mut self, observation: &AlertObservation) -> Result<Option<IncidentId>> {
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
            .prepare_cached(
                "SELECT id FROM incidents WHERE group_key = ?1 AND state <> 'resolved'
                 ORDER BY id DESC LIMIT 1",
            )?
            .query_row([key], |row| row.get::<_, i64>(0))
            .optional()?;
        let incident = match open {
            Some(id) => {
                let incident = incident_id(id)?;
                self.touched.entry(incident).or_default().joined.add(name);
                self.summary.joined += 1;
                incident
            }
            None => {
                let new = NewIncident {
                    application: Some(route.application.clone()),
                    team: Some(route.team.clone()),
                    title: observation.title.clone(),
                    severity: route.severity,
                    opened_by: None,
                };
                let detail = opened_detail(name, &observation.alert.source);
                let incident = insert(self.tx, &new, Some(key), &detail, self.now)?;
                self.summary.opened.push(incident);
                incident
            }
        };
        self.open_by_group.insert(key.clone(), incident);
        Ok(Some(incident))
    }

    fn insert(
        &self,
        observation: &AlertObservation,
        content: &Content,
        incident: Option<IncidentId>,
    ) -> Result<i64> {
        let alert = &observation.alert;
        self.tx
            .prepare_cached(
                "INSERT INTO alerts (source, fingerprint, labels, annotations, links, muted, state,
                     starts_at, ends_at, generator_url, application_id, team_id, incident_id,
                     first_seen, last_seen)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)",
            )?
            .execute(params![
                alert.source,
                alert.fingerprint.as_str(),
                content.labels,
                content.annotations,
                content.links,
                content.muted,
                alert.state.as_str(),
                to_millis(alert.starts_at),
                alert.ends_at.map(to_millis),
                content.generator_url,
                content.application,
                content.team,
                incident.map(sql_id),
                to_millis(alert.last_seen),
            ])?;
        Ok(self.tx.last_insert_rowid())
    }

    fn update(
        &self,
        id: i64,
        observation: &AlertObservation,
        content: &Content,
        incident: Option<IncidentId>,
    ) -> Result<()> {
        let alert = &observation.alert;
        self.tx
            .prepare_cached(
                "UPDATE alerts SET labels = ?2, annotations = ?3, links = ?4, muted = ?5,
                     state = ?6, starts_at = ?7, ends_at = ?8, generator_url = ?9,
                     application_id = ?10, team_id = ?11, incident_id = ?12, last_seen = ?13,
                     revision = revision + 1
                 WHERE id = ?1",
            )?
            .execute(params![
                id,
                content.labels,
                content.annotations,
                content.links,
                content.muted,
                alert.state.as_str(),
                to_millis(alert.starts_at),
                alert.ends_at.map(to_millis),
                content.generator_url,
                content.application,
                content.team,
                incident.map(sql_id),
                to_millis(alert.last_seen),
            ])?;
        Ok(())
    }

    /// Resolves a source's firing alerts that a complete snapshot no longer contains.
    fn resolve_missing(&mut self, source: &str, present: &HashSet<&str>) -> Result<()> {
        let firing: Vec<(i64, String, Option<i64>, String)> = self
            .tx
            .prepare_cached(
                "SELECT id, fingerprint, incident_id, labels FROM alerts
                 WHERE source = ?1 AND state = 'firing'",
            )?
            .query_map([source], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let now = to_millis(self.now);
        for (id, fingerprint, incident, labels) in firing {
            if present.contains(fingerprint.as_str()) {
                continue;
            }
            self.tx
                .prepare_cached(
                    "UPDATE alerts SET state = 'resolved', ends_at = ?2, last_seen = ?2,
                         revision = revision + 1
                     WHERE id = ?1",
                )?
                .execute(params![id, now])?;
            if let Some(incident) = incident.map(incident_id).transpose()? {
                let name = serde_json::from_str::<BTreeMap<String, String>>(&labels)
                    .ok()
                    .and_then(|l| l.get("alertname").cloned())
                    .unwrap_or(fingerprint);
                self.touched
                    .entry(incident)
                    .or_default()
                    .resolved
                    .add(&name);
            }
            self.summary.resolved += 1;
        }
        Ok(())
    }

    /// Each alert of the delivery once, at the revision it now has.
    fn receipt(&self, batch: &[AlertObservation]) -> Receipt {
        let mut seen = HashSet::new();
        let rows = batch
            .iter()
            .filter_map(|o| {
                let known = self
                    .known
                    .get(o.alert.source.as_str())?
                    .get(o.alert.fingerprint.as_str())?;
                seen.insert(known.id).then_some((known.id, known.revision))
            })
            .collect();
        Receipt { rows }
    }

    fn touch_last_seen(&mut self) -> Result<()> {
        if self.repeated.is_empty() {
            return Ok(());
        }
        // One statement for the whole batch: the ids travel as a JSON array.
        let ids = serde_json::to_string(&self.repeated)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.tx
            .prepare_cached(
                "UPDATE alerts SET last_seen = ?1 WHERE id IN (SELECT value FROM json_each(?2))",
            )?
            .execute(params![to_millis(self.now), ids])?;
        Ok(())
    }

    /// One timeline entry per incident for what this delivery did to it; resolves incidents
    /// whose alerts have all resolved, when the rules say so.
    fn summarise(&mut self) -> Result<()> {
        let touched = std::mem::take(&mut self.touched);
        for (incident, changes) in touched {
            if !changes.joined.is_empty() {
                self.timeline(incident, changes.joined.joined_detail())?;
            }
            if changes.resolved.is_empty() {
                continue;
            }
            let still_firing: i64 = self
                .tx
                .prepare_cached(
                    "SELECT count(*) FROM alerts WHERE incident_id = ?1 AND state = 'firing'",
                )?
                .query_row([sql_id(incident)], |row| row.get(0))?;
            let still_firing = u64::try_from(still_firing).unwrap_or(0);
            self.timeline(incident, changes.resolved.resolved_detail(still_firing))?;
            // Its state matters only once nothing fires and the workspace resolves by itself.
            if still_firing > 0 || !self.policy.auto_resolve {
                continue;
            }
            let mut current = load(self.tx, incident)?;
            if resolves_itself(self.policy.auto_resolve, still_firing, current.state) {
                let event = current.resolve_automatically(self.now)?;
                save_state(self.tx, &current)?;
                append(self.tx, incident, &event)?;
                self.summary.auto_resolved.push(incident);
            }
        }
        Ok(())
    }

    fn timeline(&self, incident: IncidentId, detail: String) -> Result<()> {
        append(
            self.tx,
            incident,
            &TimelineEvent {
                at: self.now,
                who: None,
                kind: TimelineKind::Alerts,
                detail,
            },
        )
    }
}
