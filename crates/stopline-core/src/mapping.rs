//! The application mapping: which application an alert or a customer report belongs to, and so
//! which team owns it.
//!
//! Labels route by matchers: every matcher of an application must hold; among the applications
//! that match, the most specific wins (more matchers, then more exact matchers), and a tie goes to
//! the application listed first in config. Journeys route by the service desk's words: a journey
//! equal to the whole query wins, else one that appears in it as a word, in config order. Nothing
//! matched means *unrouted*: the alert is kept for the service desk to triage, never dropped.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::alert::Labels;
use crate::application::{Application, MatchOp};

/// Where an alert or report goes.
#[derive(Debug, Clone, Copy)]
pub enum Route<'a> {
    Routed(&'a Application),
    Unrouted,
}

impl<'a> Route<'a> {
    pub fn application(self) -> Option<&'a Application> {
        match self {
            Route::Routed(application) => Some(application),
            Route::Unrouted => None,
        }
    }
}

/// Which applications an alert could match, so routing does not test every application against
/// every alert (an alert storm over hundreds of applications). Each application is filed under
/// its first exact matcher; an application with only regex matchers is always a candidate.
#[derive(Debug, Clone, Default)]
pub struct MappingIndex {
    /// label → value → positions in config order.
    exact: HashMap<String, HashMap<String, Vec<usize>>>,
    /// Positions of applications with regex matchers only.
    scan: Vec<usize>,
}

impl MappingIndex {
    pub fn build(applications: &[Application]) -> Self {
        let mut index = Self::default();
        for (position, application) in applications.iter().enumerate() {
            let exact = application.matchers.iter().find_map(|m| match &m.op {
                MatchOp::Equals(value) => Some((&m.label, value)),
                MatchOp::Regex(_) => None,
            });
            match exact {
                Some((label, value)) => index
                    .exact
                    .entry(label.clone())
                    .or_default()
                    .entry(value.clone())
                    .or_default()
                    .push(position),
                None if !application.matchers.is_empty() => index.scan.push(position),
                None => {}
            }
        }
        index
    }

    /// Positions of the applications that could match: every one that does is among them.
    fn candidates(&self, labels: &Labels) -> Vec<usize> {
        let mut positions = self.scan.clone();
        for (label, value) in labels {
            if let Some(found) = self.exact.get(label).and_then(|values| values.get(value)) {
                positions.extend_from_slice(found);
            }
        }
        positions
    }
}

/// The applications in config order, ready to route.
#[derive(Debug, Clone)]
pub struct ApplicationMapping<'a> {
    applications: &'a [Application],
    index: Cow<'a, MappingIndex>,
}

impl<'a> ApplicationMapping<'a> {
    pub fn new(applications: &'a [Application]) -> Self {
        Self {
            applications,
            index: Cow::Owned(MappingIndex::build(applications)),
        }
    }

    /// With an index built earlier from the same applications.
    pub fn with_index(applications: &'a [Application], index: &'a MappingIndex) -> Self {
        Self {
            applications,
            index: Cow::Borrowed(index),
        }
    }

    pub fn route_labels(&self, labels: &Labels) -> Route<'a> {
        let mut best: Option<(usize, &'a Application)> = None;
        for position in self.index.candidates(labels) {
            let application = &self.applications[position];
            if !application.matches(labels) {
                continue;
            }
            // More specific wins; at equal specificity the one listed first in config.
            let better = best.is_none_or(|(best_position, b)| {
                application.specificity() > b.specificity()
                    || (application.specificity() == b.specificity() && position < best_position)
            });
            if better {
                best = Some((position, application));
            }
        }
        best.map_or(Route::Unrouted, |(_, application)| {
            Route::Routed(application)
        })
    }

    pub fn route_journey(&self, query: &str) -> Route<'a> {
        let applications: &'a [Application] = self.applications;
        let query = normalise(query);
        if query.is_empty() {
            return Route::Unrouted;
        }
        let exact = applications.iter().find(|a| a.journeys.contains(&query));
        let within = || {
            let words: Vec<&str> = query
                .split(|c: char| !c.is_alphanumeric() && c != '-')
                .filter(|w| !w.is_empty())
                .collect();
            applications
                .iter()
                .find(|a| a.journeys.iter().any(|j| contains_phrase(&words, j)))
        };
        exact.or_else(within).map_or(Route::Unrouted, Route::Routed)
    }
}

/// Lower-case with single spaces, so "  Check Out " and "check out" are the same journey.
pub fn normalise(text: &str) -> String {
    text.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether the journey's words appear consecutively among the query's words.
fn contains_phrase(words: &[&str], journey: &str) -> bool {
    let phrase: Vec<&str> = journey.split(' ').collect();
    !phrase.is_empty() && words.windows(phrase.len()).any(|w| w == phrase.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::application::LabelMatcher;
    use crate::ids::{ApplicationId, TeamId};
    use crate::money::ExposurePerHour;
    use crate::target::AvailabilityTarget;
    use proptest::prelude::*;

    fn app(id: &str, matchers: Vec<LabelMatcher>, journeys: &[&str]) -> Application {
        Application {
            expected_time_to_restore: crate::application::DEFAULT_EXPECTED_TIME_TO_RESTORE,
            checklist_extra: Vec::new(),
            deploys: None,
            id: ApplicationId::new(id).unwrap(),
            name: id.to_owned(),
            team: TeamId::new(format!("team-{id}")).unwrap(),
            target: AvailabilityTarget::from_percent(99.0).unwrap(),
            exposure_per_hour: ExposurePerHour(1000),
            matchers,
            journeys: journeys.iter().map(|j| normalise(j)).collect(),
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn routed_id(route: Route<'_>) -> Option<&str> {
        route.application().map(|a| a.id.as_str())
    }

    #[test]
    fn most_specific_application_wins() {
        let apps = vec![
            app(
                "web",
                vec![LabelMatcher::regex("service", "web-.*").unwrap()],
                &[],
            ),
            app(
                "web-checkout",
                vec![
                    LabelMatcher::regex("service", "web-.*").unwrap(),
                    LabelMatcher::equals("path", "/checkout"),
                ],
                &[],
            ),
        ];
        let mapping = ApplicationMapping::new(&apps);
        let l = labels(&[("service", "web-eu"), ("path", "/checkout")]);
        assert_eq!(routed_id(mapping.route_labels(&l)), Some("web-checkout"));
        let l = labels(&[("service", "web-eu"), ("path", "/home")]);
        assert_eq!(routed_id(mapping.route_labels(&l)), Some("web"));
    }

    #[test]
    fn exact_beats_regex_at_equal_count_and_ties_go_to_config_order() {
        let apps = vec![
            app(
                "first",
                vec![LabelMatcher::regex("job", "api").unwrap()],
                &[],
            ),
            app("second", vec![LabelMatcher::equals("job", "api")], &[]),
            app("third", vec![LabelMatcher::equals("job", "api")], &[]),
        ];
        let mapping = ApplicationMapping::new(&apps);
        assert_eq!(
            routed_id(mapping.route_labels(&labels(&[("job", "api")]))),
            Some("second")
        );
    }

    #[test]
    fn regex_is_anchored_and_no_match_is_unrouted() {
        let apps = vec![app(
            "api",
            vec![LabelMatcher::regex("service", "api").unwrap()],
            &[],
        )];
        let mapping = ApplicationMapping::new(&apps);
        assert!(matches!(
            mapping.route_labels(&labels(&[("service", "my-api-2")])),
            Route::Unrouted
        ));
        assert!(matches!(
            mapping.route_labels(&Labels::new()),
            Route::Unrouted
        ));
    }

    #[test]
    fn journeys_route_by_whole_query_then_by_word() {
        let apps = vec![
            app("auth", vec![], &["login", "sign in"]),
            app("checkout", vec![], &["checkout", "pay"]),
        ];
        let mapping = ApplicationMapping::new(&apps);
        assert_eq!(
            routed_id(mapping.route_journey("Checkout")),
            Some("checkout")
        );
        assert_eq!(
            routed_id(mapping.route_journey("customers cannot sign  in")),
            Some("auth")
        );
        assert_eq!(
            routed_id(mapping.route_journey("Customers can't pay")),
            Some("checkout")
        );
        // "payment" is not the word "pay".
        assert!(matches!(mapping.route_journey("payment"), Route::Unrouted));
        assert!(matches!(mapping.route_journey("   "), Route::Unrouted));
    }

    fn label_set() -> impl Strategy<Value = Labels> {
        prop::collection::btree_map("[a-c]", "[x-z]{1,2}", 0..4)
    }

    fn matcher() -> impl Strategy<Value = LabelMatcher> {
        ("[a-c]", "[x-z]{1,2}", any::<bool>()).prop_map(|(label, value, exact)| {
            if exact {
                LabelMatcher::equals(label, value)
            } else {
                LabelMatcher::regex(label, &format!("{value}.*")).unwrap()
            }
        })
    }

    fn applications() -> impl Strategy<Value = Vec<Application>> {
        prop::collection::vec(prop::collection::vec(matcher(), 0..3), 0..6).prop_map(|sets| {
            sets.into_iter()
                .enumerate()
                .map(|(i, matchers)| app(&format!("app{i}"), matchers, &[]))
                .collect()
        })
    }

    proptest! {
        /// The routed application matches, no matching application is more specific, and an
        /// equally specific one is never listed before it.
        #[test]
        fn routes_to_the_first_most_specific_match(apps in applications(), labels in label_set()) {
            let mapping = ApplicationMapping::new(&apps);
            match mapping.route_labels(&labels) {
                Route::Routed(chosen) => {
                    prop_assert!(chosen.matches(&labels));
                    let position = apps.iter().position(|a| a.id == chosen.id).unwrap();
                    for (i, other) in apps.iter().enumerate().filter(|(_, a)| a.matches(&labels)) {
                        prop_assert!(other.specificity() <= chosen.specificity());
                        if other.specificity() == chosen.specificity() {
                            prop_assert!(i >= position);
                        }
                    }
                }
                Route::Unrouted => prop_assert!(apps.iter().all(|a| !a.matches(&labels))),
            }
        }

        /// Routing depends on the label set, not on any order of insertion, and adding a label
        /// no application mentions changes nothing.
        #[test]
        fn unrelated_labels_do_not_change_the_route(apps in applications(), labels in label_set(), extra in "[x-z]{1,3}") {
            let mapping = ApplicationMapping::new(&apps);
            let before = mapping.route_labels(&labels).application().map(|a| a.id.clone());
            let mut more = labels.clone();
            more.insert("unrelated".into(), extra);
            let after = mapping.route_labels(&more).application().map(|a| a.id.clone());
            prop_assert_eq!(before, after);
        }
    }
}
