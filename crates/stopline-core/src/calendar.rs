//! On-call shifts as an iCalendar feed (RFC 5545), so they show in the calendar people already
//! use: one event per shift, its start and end as UTC instants (a shift that begins at "mon
//! 09:00" in a rota's zone is 09:00 GMT in winter and 08:00 UTC in summer, which a UTC instant
//! says without the feed carrying time-zone rules), a UID that stays the same for the same shift
//! from one fetch to the next, text escaped and lines folded as the RFC asks.

use std::fmt::Write as _;

use jiff::Timestamp;

use crate::rota::Shift;

/// What a calendar is of, for its name and each event's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarOf {
    /// The calendar's name, as calendar apps show it: "On call: Ben Berg".
    pub name: String,
    /// Whether the events name the person on call (a rota's calendar) or the rota (a person's).
    pub names_people: bool,
}

/// One shift with the names people read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedShift<'a> {
    pub shift: &'a Shift,
    pub rota_name: &'a str,
    pub person_name: &'a str,
}

/// The iCalendar text of `shifts`, stamped `now`.
pub fn ics(of: &CalendarOf, shifts: &[NamedShift<'_>], now: Timestamp) -> String {
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//Stopline//On call//EN".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
        format!("X-WR-CALNAME:{}", escape(&of.name)),
    ];
    for named in shifts {
        let shift = named.shift;
        let summary = if of.names_people {
            format!("{} on call ({})", named.person_name, shift.layer)
        } else {
            format!("On call: {} on {}", shift.layer, named.rota_name)
        };
        let mut description = format!(
            "{} is {} on {} ({}).",
            named.person_name, shift.layer, named.rota_name, shift.rota
        );
        if shift.is_override {
            description.push_str(" An override: someone covers this shift.");
        }
        lines.extend([
            "BEGIN:VEVENT".to_owned(),
            // The same shift keeps its UID, so a calendar updates it rather than adding another.
            format!(
                "UID:{}-{}-{}-{}@stopline",
                shift.rota,
                escape(&shift.layer).replace(' ', "_"),
                shift.person,
                utc(shift.start)
            ),
            format!("DTSTAMP:{}", utc(now)),
            format!("DTSTART:{}", utc(shift.start)),
            format!("DTEND:{}", utc(shift.end)),
            format!("SUMMARY:{}", escape(&summary)),
            format!("DESCRIPTION:{}", escape(&description)),
            "CATEGORIES:On call".to_owned(),
            "TRANSP:TRANSPARENT".to_owned(),
            "END:VEVENT".to_owned(),
        ]);
    }
    lines.push("END:VCALENDAR".to_owned());
    let mut text = String::new();
    for line in lines {
        fold(&line, &mut text);
    }
    text
}

/// `20261130T090000Z`.
fn utc(at: Timestamp) -> String {
    at.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// A TEXT value: backslash, semicolon, comma and newline escaped; other control characters
/// dropped (a label cannot carry them into someone's calendar).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends `line` folded at 75 octets (never inside a character), each part ended by CRLF and
/// each continuation starting with a space.
fn fold(line: &str, out: &mut String) {
    let mut used = 0;
    for c in line.chars() {
        let width = c.len_utf8();
        if used + width > 75 {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += width;
    }
    let _ = write!(out, "\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{PersonId, RotaId};

    fn shift(start: &str, end: &str, layer: &str) -> Shift {
        Shift {
            rota: RotaId::new("payments-oncall").unwrap(),
            layer: layer.into(),
            person: PersonId::new("ben").unwrap(),
            start: start.parse().unwrap(),
            end: end.parse().unwrap(),
            is_override: false,
        }
    }

    #[test]
    fn one_event_per_shift_in_utc_with_crlf_lines() {
        let shifts = [shift(
            "2026-03-23T09:00:00Z",
            "2026-03-30T08:00:00Z",
            "primary",
        )];
        let named: Vec<NamedShift> = shifts
            .iter()
            .map(|s| NamedShift {
                shift: s,
                rota_name: "Payments on call",
                person_name: "Ben Berg",
            })
            .collect();
        let of = CalendarOf {
            name: "On call: Ben Berg".into(),
            names_people: false,
        };
        let text = ics(&of, &named, "2026-12-04T10:00:00Z".parse().unwrap());
        assert!(text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(text.ends_with("END:VCALENDAR\r\n"));
        assert!(text.contains("\r\nDTSTART:20260323T090000Z\r\nDTEND:20260330T080000Z\r\n"));
        assert!(text.contains("\r\nUID:payments-oncall-primary-ben-20260323T090000Z@stopline\r\n"));
        assert!(text.contains("\r\nSUMMARY:On call: primary on Payments on call\r\n"));
        assert!(
            !text.replace("\r\n", "").contains('\n'),
            "only CRLF line ends"
        );
    }

    #[test]
    fn text_is_escaped_and_long_lines_fold_without_splitting_a_character() {
        assert_eq!(escape("a;b,c\\d\ne\u{7}"), "a\\;b\\,c\\\\d\\ne");
        let mut out = String::new();
        let long = format!("SUMMARY:{}", "é".repeat(60));
        fold(&long, &mut out);
        for line in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75, "{} octets", line.len());
        }
        assert_eq!(out.replace("\r\n ", "").trim_end(), long);
    }
}
