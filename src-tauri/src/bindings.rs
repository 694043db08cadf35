//! The TypeScript side of the app's IPC, generated from the Rust types: every transport type
//! (`dto`), the typed callers of every command (`commands`), and the events the window listens
//! to. Written to `ui/src/bindings.ts` and committed; a test fails when that file is stale, and
//! `make bindings` rewrites it.

use ts_rs::TS;

use crate::dto::*;

/// The events the Rust side sends the window, and what each carries.
pub const EVENTS: &[(&str, &str, &str)] = &[
    (
        "storeChanged",
        crate::STORE_CHANGED,
        "The engine in this app changed the store (batched: a storm is a few of these).",
    ),
    (
        "openIncident",
        crate::OPEN_INCIDENT,
        "A notification's Open button, or a second start, asks to show an incident (its id).",
    ),
];

/// The whole `ui/src/bindings.ts` file.
pub fn typescript_bindings() -> String {
    let cfg = ts_rs::Config::new();
    let declarations = [
        Overview::decl(&cfg),
        PersonOption::decl(&cfg),
        StoppedLine::decl(&cfg),
        IncidentView::decl(&cfg),
        SituationView::decl(&cfg),
        PersonAt::decl(&cfg),
        NextPageView::decl(&cfg),
        SecondaryView::decl(&cfg),
        AlertBriefView::decl(&cfg),
        TimelineEntry::decl(&cfg),
        TimelineKindText::decl(&cfg),
        StepView::decl(&cfg),
        StepStateText::decl(&cfg),
        RoleView::decl(&cfg),
        RoleText::decl(&cfg),
        AlertView::decl(&cfg),
        AlertStateText::decl(&cfg),
        IncidentAction::decl(&cfg),
        LeadRoleText::decl(&cfg),
        SettingsView::decl(&cfg),
        HubView::decl(&cfg),
        HubActionRow::decl(&cfg),
        HubActionStatus::decl(&cfg),
        HubConnectForm::decl(&cfg),
        SettingsChange::decl(&cfg),
        OverrideForm::decl(&cfg),
        RotaTimelineView::decl(&cfg),
        TimelineLayerView::decl(&cfg),
        OverrideView::decl(&cfg),
        RemoveOverrideForm::decl(&cfg),
        UnroutedView::decl(&cfg),
        UnroutedAlert::decl(&cfg),
        ApplicationOption::decl(&cfg),
        AssignForm::decl(&cfg),
        AssignedView::decl(&cfg),
        ReportView::decl(&cfg),
        ExportFormatText::decl(&cfg),
        ExportedView::decl(&cfg),
        TeamCostView::decl(&cfg),
        CostLineView::decl(&cfg),
        ApplicationReportView::decl(&cfg),
        PersonPayView::decl(&cfg),
        RestoreView::decl(&cfg),
        DeskRoute::decl(&cfg),
        SourcesView::decl(&cfg),
        SourceRow::decl(&cfg),
        SourceStateText::decl(&cfg),
        OnCallOverview::decl(&cfg),
        RotaView::decl(&cfg),
        RotaKindText::decl(&cfg),
        LayerView::decl(&cfg),
        ShiftView::decl(&cfg),
        OnCallView::decl(&cfg),
        crate::host::EngineMode::decl(&cfg),
        IncidentRow::decl(&cfg),
        IncidentStateText::decl(&cfg),
        SeverityText::decl(&cfg),
        CommandError::decl(&cfg),
        ErrorCode::decl(&cfg),
    ];
    let mut out = String::from(
        "// Generated from src-tauri/src/dto.rs and src-tauri/src/commands.rs by `make bindings`.\n// Do not edit by hand.\n\nimport { invoke } from \"@tauri-apps/api/core\";\n",
    );
    for declaration in declarations {
        out.push('\n');
        out.push_str("export ");
        out.push_str(&declaration);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&crate::commands::typescript_commands(&cfg));
    out.push_str("\n/** The events the window listens to, by name. */\nexport const events = {\n");
    for (name, event, doc) in EVENTS {
        out.push_str(&format!("  /** {doc} */\n  {name}: \"{event}\",\n"));
    }
    out.push_str("} as const;\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typescript_bindings_are_up_to_date() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../ui/src/bindings.ts");
        let generated = typescript_bindings();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(path, &generated).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == generated,
            "ui/src/bindings.ts is stale: run `make bindings` and commit the result"
        );
    }

    #[test]
    fn the_window_may_call_exactly_the_commands_there_are() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/capabilities/main.json");
        let capability: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut granted: Vec<String> = capability["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p.as_str()?.strip_prefix("allow-").map(str::to_owned))
            .map(|p| p.replace('-', "_"))
            .collect();
        granted.sort();
        let mut names: Vec<String> = crate::commands::NAMES
            .iter()
            .map(|n| n.to_string())
            .collect();
        names.sort();
        assert_eq!(granted, names);
    }
}
