//! On-call rotas: who is on call for a team (or a domain of sibling teams), on which layer, from
//! when until when.
//!
//! A rota keeps its rules as wall-clock times in its own IANA zone ("Mondays at 09:00 in
//! Europe/London"), never as fixed offsets, so a handoff stays at 09:00 local time across daylight
//! saving. Each shift ends exactly where the next begins, because both are the same computed
//! instant: there is no gap and no double coverage, whatever the clocks do.
//!
//! **Daylight-saving policy.** A handoff whose wall-clock time does not exist that day (it falls
//! in the hour the clocks skip) happens as far after the change as it was meant to be after the
//! hour's start: 01:30 on the spring-forward day in London is 02:30 BST. A handoff whose time
//! happens twice (the hour the clocks repeat) happens at the first occurrence. This is the
//! "compatible" rule of RFC 5545 and of JavaScript's Temporal, so a calendar shows the same.
//! Override times written as wall-clock times follow the same rule.

use std::collections::BTreeSet;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::Serialize;

use crate::ids::{PersonId, RotaId, TeamId};

/// A rota: one or more layers of people taking turns, for one team or for several sibling teams.
#[derive(Debug, Clone)]
pub struct Rota {
    pub id: RotaId,
    pub name: String,
    /// One team: the team's own rota. Several: a domain rota shared by sibling teams.
    pub teams: Vec<TeamId>,
    /// The one team whose budget pays for the rota.
    pub budget_holder: TeamId,
    pub time_zone_name: String,
    pub time_zone: TimeZone,
    /// In escalation order: the primary first.
    pub layers: Vec<Layer>,
    /// In config order; a later override wins where two overlap.
    pub overrides: Vec<Override>,
}

/// One layer of a rota (primary, secondary): its members take turns in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    pub name: String,
    pub members: Vec<PersonId>,
    /// The first shift begins at the first handoff on or after this date.
    pub start: Date,
    pub handoff: Handoff,
    /// Whole days; a week is 7.
    pub length_days: u32,
}

/// When one shift hands over to the next, on the rota's wall clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handoff {
    /// At this time on the day the shift length comes round.
    Daily(Time),
    /// On this weekday at this time (the length is whole weeks).
    Weekly(Weekday, Time),
}

/// A person covering a layer from one moment to another, in place of whoever's turn it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// Index into [`Rota::layers`].
    pub layer: usize,
    pub person: PersonId,
    pub from: Timestamp,
    pub to: Timestamp,
}

/// One stretch of time one person is on call on one layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shift {
    pub rota: RotaId,
    pub layer: String,
    pub person: PersonId,
    pub start: Timestamp,
    pub end: Timestamp,
    /// True when an override puts this person here rather than the rotation.
    pub is_override: bool,
}

/// Where a stretch of a layer's time comes from, so pieces of the same turn can be joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Turn {
    Rotation(i64),
    Override(usize),
}

/// Turns a wall-clock time in `zone` into an instant, by the daylight-saving policy above.
pub fn wall_clock_instant(zone: &TimeZone, date: Date, time: Time) -> Option<Timestamp> {
    zone.to_ambiguous_timestamp(date.to_datetime(time))
        .compatible()
        .ok()
}

/// Reads an instant written with an offset (`2026-03-28T18:00:00Z`) or as a wall-clock time in
/// `zone` (`2026-03-28 18:00`), the two ways config and commands take times.
pub fn parse_instant(zone: &TimeZone, text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if let Ok(at) = text.parse::<Timestamp>() {
        return Some(at);
    }
    let local = text.parse::<jiff::civil::DateTime>().ok()?;
    wall_clock_instant(zone, local.date(), local.time())
}

impl Rota {
    /// `at` as people write it in this rota's config: the wall-clock time in its zone
    /// (`2026-12-24 17:00`), or with an offset when the wall-clock text would mean another instant
    /// (seconds, or the repeated hour when clocks go back).
    pub fn wall_clock_text(&self, at: Timestamp) -> String {
        let local = self.time_zone.to_datetime(at);
        let text = local.strftime("%Y-%m-%d %H:%M").to_string();
        if parse_instant(&self.time_zone, &text) == Some(at) {
            return text;
        }
        let offset = self.time_zone.to_offset(at);
        format!("{}{offset}", local.strftime("%Y-%m-%dT%H:%M:%S"))
    }
}

impl Layer {
    fn handoff_time(&self) -> Time {
        match self.handoff {
            Handoff::Daily(time) | Handoff::Weekly(_, time) => time,
        }
    }

    /// The date of the first handoff: the start date, or the first matching weekday after it.
    fn first_date(&self) -> Date {
        let mut date = self.start;
        if let Handoff::Weekly(day, _) = self.handoff {
            for _ in 0..7 {
                if date.weekday() == day {
                    break;
                }
                date = date.tomorrow().unwrap_or(date);
            }
        }
        date
    }

    /// When turn `k` begins (turn 0 is the first).
    pub fn turn_start(&self, k: i64, zone: &TimeZone) -> Option<Timestamp> {
        let days = k.checked_mul(i64::from(self.length_days))?;
        let date = self.first_date().checked_add(days.days()).ok()?;
        wall_clock_instant(zone, date, self.handoff_time())
    }

    /// The turn in progress at `at`, or `None` before the rotation begins.
    pub fn turn_at(&self, at: Timestamp, zone: &TimeZone) -> Option<i64> {
        let first = self.turn_start(0, zone)?;
        if at < first || self.length_days == 0 {
            return None;
        }
        // Estimate from the local calendar date, then settle by comparing instants: the estimate
        // is off by at most one turn, around the handoff hour.
        let local = zone.to_datetime(at).date();
        let days = i64::from((local - self.first_date()).get_days());
        let mut k = days.div_euclid(i64::from(self.length_days)).max(0);
        while self.turn_start(k + 1, zone).is_some_and(|next| next <= at) {
            k += 1;
        }
        while k > 0 && self.turn_start(k, zone).is_some_and(|start| start > at) {
            k -= 1;
        }
        Some(k)
    }

    /// Whose turn `k` is.
    pub fn member_for_turn(&self, k: i64) -> Option<&PersonId> {
        let n = i64::try_from(self.members.len()).ok().filter(|n| *n > 0)?;
        let index = usize::try_from(k.rem_euclid(n)).ok()?;
        self.members.get(index)
    }
}

impl Rota {
    /// True for a rota shared by several sibling teams.
    pub fn is_domain(&self) -> bool {
        self.teams.len() > 1
    }

    pub fn covers(&self, team: &TeamId) -> bool {
        self.teams.contains(team)
    }

    pub fn layer_index(&self, name: &str) -> Option<usize> {
        self.layers.iter().position(|l| l.name == name)
    }

    /// Who is on `layer` over `[from, to)`, in order, as contiguous shifts; time before the
    /// rotation begins is simply not covered. Overrides cut into the rotation's turns.
    pub fn shifts(&self, layer: usize, from: Timestamp, to: Timestamp) -> Vec<Shift> {
        let Some(rotation) = self.layers.get(layer) else {
            return Vec::new();
        };
        if from >= to {
            return Vec::new();
        }
        let zone = &self.time_zone;
        // Every moment the person on call may change: turn boundaries and override edges.
        let mut points = BTreeSet::from([from, to]);
        let mut k = rotation.turn_at(from, zone).unwrap_or(0);
        while let Some(start) = rotation.turn_start(k, zone) {
            if start >= to {
                break;
            }
            if start > from {
                points.insert(start);
            }
            k += 1;
        }
        for o in self.overrides.iter().filter(|o| o.layer == layer) {
            for edge in [o.from, o.to] {
                if edge > from && edge < to {
                    points.insert(edge);
                }
            }
        }
        let points: Vec<Timestamp> = points.into_iter().collect();
        let mut shifts: Vec<(Turn, Shift)> = Vec::new();
        for piece in points.windows(2) {
            let (start, end) = (piece[0], piece[1]);
            let Some((turn, person)) = self.who(layer, start) else {
                continue;
            };
            if let Some((last_turn, last)) = shifts.last_mut()
                && *last_turn == turn
                && last.end == start
            {
                last.end = end;
                continue;
            }
            shifts.push((
                turn,
                Shift {
                    rota: self.id.clone(),
                    layer: rotation.name.clone(),
                    person: person.clone(),
                    start,
                    end,
                    is_override: matches!(turn, Turn::Override(_)),
                },
            ));
        }
        shifts.into_iter().map(|(_, shift)| shift).collect()
    }

    /// Who holds `layer` at `at`, and through which turn.
    fn who(&self, layer: usize, at: Timestamp) -> Option<(Turn, &PersonId)> {
        let covering = self
            .overrides
            .iter()
            .enumerate()
            .rev()
            .find(|(_, o)| o.layer == layer && o.from <= at && at < o.to);
        if let Some((i, o)) = covering {
            return Some((Turn::Override(i), &o.person));
        }
        let rotation = self.layers.get(layer)?;
        let k = rotation.turn_at(at, &self.time_zone)?;
        Some((Turn::Rotation(k), rotation.member_for_turn(k)?))
    }

    /// The shift on `layer` that holds `at`, with its true start and end (since and until).
    pub fn on_call(&self, layer: usize, at: Timestamp) -> Option<Shift> {
        let rotation = self.layers.get(layer)?;
        let zone = &self.time_zone;
        // A window wide enough to hold the whole of the turn and of any override around `at`.
        let mut from = at;
        let mut to = at.checked_add(1.second()).ok()?;
        if let Some(k) = rotation.turn_at(at, zone) {
            from = from.min(rotation.turn_start(k, zone)?);
            to = to.max(rotation.turn_start(k + 1, zone)?);
        }
        for o in self.overrides.iter().filter(|o| o.layer == layer) {
            if o.from <= at && at < o.to {
                from = from.min(o.from);
                to = to.max(o.to);
            }
        }
        self.shifts(layer, from, to)
            .into_iter()
            .find(|s| s.start <= at && at < s.end)
    }

    /// Every shift `person` holds on any layer of this rota over `[from, to)`, cut to the window.
    pub fn shifts_of(&self, person: &PersonId, from: Timestamp, to: Timestamp) -> Vec<Shift> {
        let mut shifts: Vec<Shift> = (0..self.layers.len())
            .flat_map(|layer| self.shifts(layer, from, to))
            .filter(|s| &s.person == person)
            .collect();
        shifts.sort_by_key(|s| s.start);
        shifts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: &str) -> PersonId {
        PersonId::new(id).unwrap()
    }

    fn rota(zone: &str, handoff: Handoff, length_days: u32) -> Rota {
        Rota {
            id: RotaId::new("r").unwrap(),
            name: "R".into(),
            teams: vec![TeamId::new("t").unwrap()],
            budget_holder: TeamId::new("t").unwrap(),
            time_zone_name: zone.into(),
            time_zone: TimeZone::get(zone).unwrap(),
            layers: vec![Layer {
                name: "primary".into(),
                members: vec![person("alice"), person("ben"), person("chen")],
                start: Date::constant(2026, 1, 1),
                handoff,
                length_days,
            }],
            overrides: Vec::new(),
        }
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn daily(h: i8, m: i8) -> Handoff {
        Handoff::Daily(Time::constant(h, m, 0, 0))
    }

    /// The shifts over the window touch end to start, cover it entirely from the first handoff,
    /// and agree with `on_call` minute by minute.
    fn assert_seamless(rota: &Rota, from: Timestamp, to: Timestamp) -> Vec<Shift> {
        assert_seamless_every(rota, from, to, 1)
    }

    fn assert_seamless_every(
        rota: &Rota,
        from: Timestamp,
        to: Timestamp,
        minutes: i64,
    ) -> Vec<Shift> {
        let shifts = rota.shifts(0, from, to);
        assert!(!shifts.is_empty());
        assert_eq!(
            shifts.first().unwrap().start,
            from,
            "covered from the start"
        );
        assert_eq!(shifts.last().unwrap().end, to, "covered to the end");
        for pair in shifts.windows(2) {
            assert_eq!(pair[0].end, pair[1].start, "no gap, no overlap: {pair:?}");
            assert!(pair[0].start < pair[0].end);
        }
        let mut t = from;
        while t < to {
            let holding: Vec<&Shift> = shifts
                .iter()
                .filter(|s| s.start <= t && t < s.end)
                .collect();
            assert_eq!(holding.len(), 1, "exactly one person on call at {t}");
            let on_call = rota.on_call(0, t).unwrap();
            assert_eq!(on_call.person, holding[0].person, "at {t}");
            t = t.checked_add(minutes.minutes()).unwrap();
        }
        shifts
    }

    /// The handoff instants inside the window, after the window's own start.
    fn handoffs(shifts: &[Shift]) -> Vec<Timestamp> {
        shifts.iter().skip(1).map(|s| s.start).collect()
    }

    #[test]
    fn london_2026_handoffs_in_the_skipped_and_repeated_hour() {
        // Clocks go forward at 01:00 GMT on 29 March and back at 02:00 BST on 25 October.
        let r = rota("Europe/London", daily(1, 30), 1);
        let spring = assert_seamless(&r, at("2026-03-27T12:00Z"), at("2026-03-31T12:00Z"));
        assert_eq!(
            handoffs(&spring),
            [
                at("2026-03-28T01:30Z"), // 01:30 GMT
                at("2026-03-29T01:30Z"), // 01:30 does not exist: 02:30 BST
                at("2026-03-30T00:30Z"), // 01:30 BST
                at("2026-03-31T00:30Z"),
            ]
        );
        let autumn = assert_seamless(&r, at("2026-10-23T12:00Z"), at("2026-10-27T12:00Z"));
        assert_eq!(
            handoffs(&autumn),
            [
                at("2026-10-24T00:30Z"), // 01:30 BST
                at("2026-10-25T00:30Z"), // 01:30 happens twice: the first, still BST
                at("2026-10-26T01:30Z"), // 01:30 GMT
                at("2026-10-27T01:30Z"),
            ]
        );
    }

    #[test]
    fn chicago_2026_handoffs_in_the_skipped_and_repeated_hour() {
        // Forward at 02:00 CST on 8 March (02:00–03:00 skipped); back at 02:00 CDT on 1 November
        // (01:00–02:00 repeated).
        let gap = rota("America/Chicago", daily(2, 30), 1);
        let spring = assert_seamless(&gap, at("2026-03-06T18:00Z"), at("2026-03-10T18:00Z"));
        assert_eq!(
            handoffs(&spring),
            [
                at("2026-03-07T08:30Z"), // 02:30 CST
                at("2026-03-08T08:30Z"), // 02:30 does not exist: 03:30 CDT
                at("2026-03-09T07:30Z"), // 02:30 CDT
                at("2026-03-10T07:30Z"),
            ]
        );
        let fold = rota("America/Chicago", daily(1, 30), 1);
        let autumn = assert_seamless(&fold, at("2026-10-30T18:00Z"), at("2026-11-03T18:00Z"));
        assert_eq!(
            handoffs(&autumn),
            [
                at("2026-10-31T06:30Z"), // 01:30 CDT
                at("2026-11-01T06:30Z"), // twice: the first, CDT
                at("2026-11-02T07:30Z"), // 01:30 CST
                at("2026-11-03T07:30Z"),
            ]
        );
    }

    #[test]
    fn lord_howe_2026_half_hour_shifts() {
        // Lord Howe moves its clocks by 30 minutes: back from 02:00 to 01:30 on 5 April
        // (01:30–02:00 repeated), forward from 02:00 to 02:30 on 4 October (skipped).
        let fold = rota("Australia/Lord_Howe", daily(1, 45), 1);
        let april = assert_seamless(&fold, at("2026-04-02T12:00Z"), at("2026-04-06T12:00Z"));
        assert_eq!(
            handoffs(&april),
            [
                at("2026-04-02T14:45Z"), // 01:45 +11:00 on the 3rd
                at("2026-04-03T14:45Z"),
                at("2026-04-04T14:45Z"), // 01:45 on the 5th happens twice: the first, +11:00
                at("2026-04-05T15:15Z"), // 01:45 +10:30
            ]
        );
        let gap = rota("Australia/Lord_Howe", daily(2, 15), 1);
        let october = assert_seamless(&gap, at("2026-10-01T12:00Z"), at("2026-10-05T12:00Z"));
        assert_eq!(
            handoffs(&october),
            [
                at("2026-10-01T15:45Z"), // 02:15 +10:30 on the 2nd
                at("2026-10-02T15:45Z"),
                at("2026-10-03T15:45Z"), // 02:15 on the 4th does not exist: 02:45 +11:00
                at("2026-10-04T15:15Z"), // 02:15 +11:00
            ]
        );
    }

    #[test]
    fn weekly_turns_keep_the_local_handoff_across_both_changes() {
        let r = rota(
            "Europe/London",
            Handoff::Weekly(Weekday::Monday, Time::constant(9, 0, 0, 0)),
            7,
        );
        let shifts =
            assert_seamless_every(&r, at("2026-03-01T00:00Z"), at("2026-11-30T00:00Z"), 59);
        for s in &shifts[1..] {
            let local = r.time_zone.to_datetime(s.start);
            assert_eq!(local.date().weekday(), Weekday::Monday);
            assert_eq!(local.time(), Time::constant(9, 0, 0, 0), "{s:?}");
        }
        // The turn that holds the spring change is an hour short; the autumn one an hour long.
        let hours = |s: &Shift| s.end.duration_since(s.start).as_hours();
        let spring = shifts
            .iter()
            .find(|s| s.start == at("2026-03-23T09:00Z"))
            .unwrap();
        let autumn = shifts
            .iter()
            .find(|s| s.start == at("2026-10-19T08:00Z"))
            .unwrap();
        assert_eq!((hours(spring), hours(autumn)), (167, 169));
        // Members take turns in order: the first Monday on or after 1 January 2026 is the 5th.
        let first = r.on_call(0, at("2026-01-05T09:00Z")).unwrap();
        assert_eq!(first.person, person("alice"));
        assert_eq!(
            r.on_call(0, at("2026-01-12T09:00Z")).unwrap().person,
            person("ben")
        );
        assert_eq!(
            r.on_call(0, at("2026-01-19T09:00Z")).unwrap().person,
            person("chen")
        );
        assert_eq!(
            r.on_call(0, at("2026-01-26T09:00Z")).unwrap().person,
            person("alice")
        );
        assert!(
            r.on_call(0, at("2026-01-05T08:59Z")).is_none(),
            "not started yet"
        );
    }

    #[test]
    fn an_override_cuts_into_a_turn_and_gives_it_back() {
        let mut r = rota("Europe/London", daily(9, 0), 7);
        // Turn 0: alice from Thursday 1 January 09:00 to the 8th. Dan covers a weekend.
        r.overrides.push(Override {
            layer: 0,
            person: person("dan"),
            from: at("2026-01-03T18:00Z"),
            to: at("2026-01-05T09:00Z"),
        });
        let shifts = assert_seamless(&r, at("2026-01-01T09:00Z"), at("2026-01-08T09:00Z"));
        let summary: Vec<(&str, Timestamp, Timestamp, bool)> = shifts
            .iter()
            .map(|s| (s.person.as_str(), s.start, s.end, s.is_override))
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "alice",
                    at("2026-01-01T09:00Z"),
                    at("2026-01-03T18:00Z"),
                    false
                ),
                (
                    "dan",
                    at("2026-01-03T18:00Z"),
                    at("2026-01-05T09:00Z"),
                    true
                ),
                (
                    "alice",
                    at("2026-01-05T09:00Z"),
                    at("2026-01-08T09:00Z"),
                    false
                ),
            ]
        );
        // Since and until are the true edges, not a window's.
        let now = r.on_call(0, at("2026-01-04T12:00Z")).unwrap();
        assert_eq!(
            (now.start, now.end),
            (at("2026-01-03T18:00Z"), at("2026-01-05T09:00Z"))
        );
        let after = r.on_call(0, at("2026-01-06T12:00Z")).unwrap();
        assert_eq!(
            (after.start, after.end),
            (at("2026-01-05T09:00Z"), at("2026-01-08T09:00Z"))
        );
        // Alice's own shifts that week: the two pieces around Dan's cover.
        let hers = r.shifts_of(
            &person("alice"),
            at("2026-01-01T00:00Z"),
            at("2026-01-08T00:00Z"),
        );
        assert_eq!(hers.len(), 2);
        assert_eq!(hers[1].end, at("2026-01-08T00:00Z"), "cut to the window");
    }
}
