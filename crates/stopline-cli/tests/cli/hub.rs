//! `stopline hub` from the command line, against a real PostgreSQL the test starts.

use stopline_tests::postgres::Postgres;

use crate::support::Sandbox;

#[test]
fn hub_migrate_brings_the_database_up_and_says_what_it_did() {
    let sandbox = Sandbox::new();
    let pg_dir = tempfile::tempdir().unwrap();
    let postgres = Postgres::start(pg_dir.path());
    let url = postgres.create_database("org");
    let target = format!("127.0.0.1:{}/org", postgres.port());

    let first = sandbox.json(&["hub", "migrate", "--database", &url]);
    assert_eq!(first["database"], target);
    assert_eq!(first["from"], 0);
    let version = first["to"].as_i64().unwrap();
    assert!(version >= 1);
    // From the environment, as a service would run it; already up to date.
    let output = sandbox
        .command(&["hub", "migrate"])
        .env("STOPLINE_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap().trim(),
        format!("The hub's database at {target} is up to date (schema version {version}).")
    );

    // A newer database is refused and left alone.
    postgres.psql("org", "UPDATE hub_schema SET version = 999");
    let stderr = sandbox.fails(&["hub", "migrate", "--database", &url], 1);
    assert!(
        stderr.contains("has schema version 999, newer than this Stopline knows"),
        "{stderr}"
    );
    assert_eq!(
        postgres.psql("org", "SELECT version FROM hub_schema"),
        "999"
    );
}

#[test]
fn hub_migrate_refuses_a_bad_or_unreachable_database_by_name_without_its_password() {
    let sandbox = Sandbox::new();
    let stderr = sandbox.fails(&["hub", "migrate", "--database", "hub.example"], 2);
    assert!(
        stderr.contains("--database: not a PostgreSQL URL"),
        "{stderr}"
    );
    let port = stopline_tests::free_port();
    let url = format!("postgres://hub:s3cret@127.0.0.1:{port}/org");
    let stderr = sandbox.fails(&["hub", "migrate", "--database", &url], 1);
    assert!(
        stderr.contains(&format!("cannot reach PostgreSQL at 127.0.0.1:{port}/org")),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cret"), "{stderr}");
    let stderr = sandbox.fails(&["hub", "migrate"], 2);
    assert!(stderr.contains("--database"), "{stderr}");
}
