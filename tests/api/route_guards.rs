//! The README's route × guard table lists every route the server serves, and nothing else:
//! a route added without saying which authentication, permission, privilege ceiling, 2FA
//! gate and secret budget apply to it fails here.

use std::collections::BTreeSet;

/// `METHOD path` of every route, as the server registers them.
fn served() -> BTreeSet<String> {
    tokend::api::endpoints().into_iter().map(|(path, method)| format!("{method} {path}")).collect()
}

/// `METHOD path` of every row of the table (a row may name several methods: `GET, POST /x`).
fn documented() -> BTreeSet<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md");
    let section = readme.split("### Route × guard table").nth(1).expect("the README has a route × guard table");
    let table = section.split("\n#").next().unwrap_or_default();
    let mut routes = BTreeSet::new();
    for row in table.lines().filter(|l| l.starts_with("| `")) {
        let cell = row.split('`').nth(1).expect("a route in backticks");
        let (methods, path) = cell.rsplit_once(' ').expect("METHOD path");
        for method in methods.split(',').map(str::trim) {
            routes.insert(format!("{method} {path}"));
        }
    }
    routes
}

/// Each row has the six columns the header promises.
fn rows_with_wrong_width() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md");
    let section = readme.split("### Route × guard table").nth(1).unwrap_or_default();
    let table = section.split("\n#").next().unwrap_or_default();
    table.lines().filter(|l| l.starts_with("| `") && l.matches(" | ").count() != 5).map(str::to_string).collect()
}

#[test]
fn every_served_route_has_a_row_in_the_route_guard_table() {
    let missing: Vec<_> = served().difference(&documented()).cloned().collect();
    assert!(missing.is_empty(), "routes without a row in README's route × guard table: {missing:#?}");
}

#[test]
fn every_row_of_the_route_guard_table_is_a_served_route() {
    let unknown: Vec<_> = documented().difference(&served()).cloned().collect();
    assert!(unknown.is_empty(), "rows naming routes the server does not serve: {unknown:#?}");
}

#[test]
fn every_row_of_the_route_guard_table_says_all_six_things() {
    let wrong = rows_with_wrong_width();
    assert!(wrong.is_empty(), "rows without six columns: {wrong:#?}");
}
