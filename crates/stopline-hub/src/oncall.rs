//! Who is on call as the hub sees it: the config's rotas with the overrides desktops pushed
//! (`add_override`), merged by `stopline_core::cover`, the same rule a desktop applies to the
//! overrides in its config. Escalation pages by it, and `GET /v1/oncall` shows it.

use std::time::SystemTime;

use jiff::Timestamp;
use serde_json::{Value, json};
use stopline_core::config::Config;
use stopline_core::cover::{CheckedOverride, layer_now, with_overrides};
use stopline_core::ids::{PersonId, RotaId, TeamId};
use stopline_core::rota::Shift;

use crate::Result;
use crate::database::Database;
use crate::rows::{corrupt, from_time, to_time};

impl Database {
    /// The overrides pushed to the hub that have not ended at `now`, in the order they arrived
    /// (a later one wins where two overlap).
    pub async fn overrides(&self, now: Timestamp) -> Result<Vec<CheckedOverride>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT rota, layer, person, starts, ends FROM overrides
                 WHERE ends > $1 ORDER BY id",
                &[&to_time(now)],
            )
            .await?;
        rows.iter()
            .map(|row| {
                Ok(CheckedOverride {
                    rota: RotaId::new(row.get::<_, String>(0))
                        .map_err(|_| corrupt("an override's rota"))?,
                    layer: row.get(1),
                    person: PersonId::new(row.get::<_, String>(2))
                        .map_err(|_| corrupt("an override's person"))?,
                    from: from_time(row.get::<_, SystemTime>(3))?,
                    to: from_time(row.get::<_, SystemTime>(4))?,
                })
            })
            .collect()
    }

    /// The organisation's config as the hub uses it at `now`: its rotas with the hub's overrides.
    pub async fn rotas_at(&self, config: &Config, now: Timestamp) -> Result<Config> {
        Ok(with_overrides(config, &self.overrides(now).await?))
    }
}

/// Every rota covering `team` (every rota, without one), each layer now and next, at `at`: the
/// JSON of `GET /v1/oncall`, in the names `stopline oncall --json` uses.
pub(crate) fn on_call_json(config: &Config, team: Option<&TeamId>, at: Timestamp) -> Value {
    let shift = |s: &Option<Shift>| {
        s.as_ref().map(|s| {
            json!({
                "rota": s.rota.as_str(), "layer": s.layer, "person": s.person.as_str(),
                "since": s.start.to_string(), "until": s.end.to_string(),
                "override": s.is_override,
            })
        })
    };
    let rotas: Vec<Value> = config
        .rotas
        .iter()
        .filter(|r| team.is_none_or(|t| r.teams.contains(t)))
        .map(|rota| {
            let layers: Vec<Value> = (0..rota.layers.len())
                .map(|i| {
                    let held = layer_now(rota, i, at);
                    json!({ "layer": held.layer, "now": shift(&held.now), "next": shift(&held.next) })
                })
                .collect();
            json!({
                "id": rota.id.as_str(),
                "name": rota.name,
                "teams": rota.teams.iter().map(TeamId::as_str).collect::<Vec<_>>(),
                "time_zone": rota.time_zone_name,
                "layers": layers,
            })
        })
        .collect();
    json!({ "at": at.to_string(), "rotas": rotas })
}
