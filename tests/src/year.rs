//! The organisation of the year-long benchmarks (the operability report, a joined desktop's
//! replica): 50 delivery teams of 4 people, 200 applications and 40 rotas, and how much history
//! a year of it has. One definition, so the benchmarks measure the same organisation.

pub const TEAMS: usize = 50;
pub const PEOPLE_PER_TEAM: usize = 4;
pub const APPS_PER_TEAM: usize = 4;
/// Incidents in the year.
pub const INCIDENTS: usize = 10_000;
pub const ALERTS_PER_INCIDENT: usize = 50;

/// The config: 50 delivery teams of 4, 200 applications in the three target bands, 30 team
/// rotas and 10 domain rotas (two sibling teams each), two layers each, paid standby and callout.
pub fn config_text() -> String {
    let mut text = String::from(
        "[workspace]\nname = \"Bench\"\ntime_zone = \"Europe/London\"\ncurrency = \"GBP\"\n\n[pay]\nmodel = \"standby_and_callout\"\nstandby = 350\nper = \"week\"\ncallout_per_hour = 45\nsplit = \"exposure\"\n\n",
    );
    for team in 0..TEAMS {
        for p in 0..PEOPLE_PER_TEAM {
            text.push_str(&format!(
                "[[people]]\nid = \"p{team}-{p}\"\nname = \"Person {team}.{p}\"\n\n"
            ));
        }
        let members: Vec<String> = (0..PEOPLE_PER_TEAM)
            .map(|p| format!("\"p{team}-{p}\""))
            .collect();
        text.push_str(&format!(
            "[[teams]]\nid = \"team-{team}\"\nname = \"Team {team}\"\nkind = \"delivery\"\nmembers = [{}]\n\n",
            members.join(", ")
        ));
        for app in 0..APPS_PER_TEAM {
            let (target, exposure, deploys) = match app {
                0 => (99.9, 800_000, "daily"),
                1 | 2 => (99.0, 200_000, "weekly"),
                _ => (95.0, 5_000, "monthly"),
            };
            text.push_str(&format!(
                "[[applications]]\nid = \"app-{team}-{app}\"\nname = \"App {team}.{app}\"\nteam = \"team-{team}\"\navailability_target = {target}\nexposure_per_hour = {exposure}\ndeploys = \"{deploys}\"\nmatch = {{ service = \"app-{team}-{app}\" }}\n\n"
            ));
        }
    }
    let layers = |members: &[String]| {
        format!(
            "[[rotas.layers]]\nname = \"primary\"\nmembers = [{m}]\nstart = \"2026-01-05\"\nhandoff = \"mon 09:00\"\n\n[[rotas.layers]]\nname = \"secondary\"\nmembers = [{m}]\nstart = \"2026-01-12\"\nhandoff = \"mon 09:00\"\n\n",
            m = members.join(", ")
        )
    };
    for team in 0..30 {
        let members: Vec<String> = (0..PEOPLE_PER_TEAM)
            .map(|p| format!("\"p{team}-{p}\""))
            .collect();
        text.push_str(&format!(
            "[[rotas]]\nid = \"team-{team}-oncall\"\nteams = [\"team-{team}\"]\ntime_zone = \"Europe/London\"\n\n"
        ));
        text.push_str(&layers(&members));
    }
    for pair in 0..10 {
        let (a, b) = (30 + 2 * pair, 31 + 2 * pair);
        let members: Vec<String> = [a, b]
            .iter()
            .flat_map(|t| (0..2).map(move |p| format!("\"p{t}-{p}\"")))
            .collect();
        text.push_str(&format!(
            "[[rotas]]\nid = \"domain-{pair}\"\nteams = [\"team-{a}\", \"team-{b}\"]\nbudget_holder = \"team-{a}\"\ntime_zone = \"Europe/London\"\n\n"
        ));
        text.push_str(&layers(&members));
    }
    text
}
