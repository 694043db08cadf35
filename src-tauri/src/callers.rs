//! How one command's typed TypeScript caller reads: a function named in camelCase that passes
//! its arguments under the camelCase keys Tauri expects, and returns the command's type.

/// One command's typed caller: `overview: (): Promise<Overview> => invoke("overview"),`.
pub fn command_caller(name: &str, docs: &[&str], args: &[(&str, String)], returns: &str) -> String {
    let camel = |text: &str| {
        let mut out = String::new();
        let mut upper = false;
        for c in text.chars() {
            if c == '_' {
                upper = true;
            } else if upper {
                out.extend(c.to_uppercase());
                upper = false;
            } else {
                out.push(c);
            }
        }
        out
    };
    let mut out = String::new();
    let doc: Vec<&str> = docs.iter().map(|d| d.trim()).collect();
    if !doc.is_empty() {
        out.push_str(&format!("  /** {} */\n", doc.join(" ")));
    }
    let params: Vec<String> = args
        .iter()
        .map(|(arg, ty)| format!("{}: {ty}", camel(arg)))
        .collect();
    let payload = if args.is_empty() {
        String::new()
    } else {
        let keys: Vec<String> = args.iter().map(|(arg, _)| camel(arg)).collect();
        format!(", {{ {} }}", keys.join(", "))
    };
    out.push_str(&format!(
        "  {}: ({}): Promise<{returns}> => invoke<{returns}>(\"{name}\"{payload}),\n",
        camel(name),
        params.join(", ")
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_names_its_arguments_as_tauri_expects_them() {
        let caller = command_caller(
            "desk_open",
            &[" Opens one."],
            &[
                ("application", "string".into()),
                ("due_by", "string | null".into()),
            ],
            "IncidentRow",
        );
        assert_eq!(
            caller,
            "  /** Opens one. */\n  deskOpen: (application: string, dueBy: string | null): Promise<IncidentRow> => invoke<IncidentRow>(\"desk_open\", { application, dueBy }),\n"
        );
    }
}
