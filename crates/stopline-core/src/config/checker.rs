//! The checker: collects every problem while the raw file becomes a [`Config`](super::Config),
//! so one run reports them all, and the small checks every part of the config shares.

use std::collections::HashMap;
use std::ops::Range;

use jiff::civil::Time;
use jiff::tz::TimeZone;
use toml::Spanned;

use super::problems::{ConfigProblem, LineIndex};
use crate::settings::parse_duration;

/// Collects problems while turning the raw file into a [`Config`].
pub(super) struct Checker<'a> {
    pub(super) file: &'a str,
    /// The file's text, indexed by line, to place each problem.
    pub(super) lines: LineIndex<'a>,
    pub(super) problems: Vec<ConfigProblem>,
}

impl Checker<'_> {
    pub(super) fn problem(
        &mut self,
        span: Range<usize>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) {
        let (line, column) = self.lines.position(span.start);
        self.problems.push(ConfigProblem {
            file: self.file.to_owned(),
            line,
            column,
            key: key.into(),
            message: message.into(),
        });
    }

    pub(super) fn line_of(&self, span: &Range<usize>) -> usize {
        self.lines.position(span.start).0
    }

    pub(super) fn non_empty(&mut self, value: &Spanned<String>, key: &str) -> String {
        let text = value.get_ref().trim();
        if text.is_empty() {
            self.problem(value.span(), key, "must not be empty");
        }
        text.to_owned()
    }

    pub(super) fn time_zone(&mut self, value: &Spanned<String>, key: &str) -> Option<TimeZone> {
        match TimeZone::get(value.get_ref()) {
            Ok(zone) => Some(zone),
            Err(_) => {
                self.problem(
                    value.span(),
                    key,
                    format!(
                        "unknown time zone {:?}: expected an IANA name such as \"Europe/London\"",
                        value.get_ref()
                    ),
                );
                None
            }
        }
    }

    /// Parses a unique id; `seen` remembers where each id was first defined.
    pub(super) fn unique_id<T>(
        &mut self,
        value: &Spanned<String>,
        key: &str,
        what: &str,
        seen: &mut HashMap<String, usize>,
        make: fn(String) -> Result<T, crate::ids::IdError>,
    ) -> Option<T> {
        let span = value.span();
        let id = match make(value.get_ref().clone()) {
            Ok(id) => id,
            Err(e) => {
                self.problem(span, key, e.to_string());
                return None;
            }
        };
        let line = self.line_of(&span);
        if let Some(first) = seen.get(value.get_ref()) {
            self.problem(
                span,
                key,
                format!(
                    "duplicate {what} id {:?}: already defined at line {first}",
                    value.get_ref()
                ),
            );
            return None;
        }
        seen.insert(value.get_ref().clone(), line);
        Some(id)
    }

    pub(super) fn duration(
        &mut self,
        value: &Spanned<String>,
        key: &str,
    ) -> Option<std::time::Duration> {
        let parsed = parse_duration(value.get_ref()).filter(|d| !d.is_zero());
        if parsed.is_none() {
            self.problem(
                value.span(),
                key,
                format!(
                    "invalid duration {:?}: expected a positive whole number with a unit, such as \"15s\", \"5m\" or \"1h30m\"",
                    value.get_ref()
                ),
            );
        }
        parsed
    }
}

/// `HH:MM` (or `HH:MM:SS`) as a wall-clock time.
pub(super) fn parse_time(text: &str) -> Option<Time> {
    let parts: Vec<&str> = text.split(':').collect();
    if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.len() != 2) {
        return None;
    }
    let number = |p: &str| p.parse::<i8>().ok();
    let hour = number(parts[0])?;
    let minute = number(parts[1])?;
    let second = parts.get(2).map_or(Some(0), |p| number(p))?;
    Time::new(hour, minute, second, 0).ok()
}
