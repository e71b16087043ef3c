//! The published contract (openapi.json) against the server: the document lists exactly the
//! routes tokend registers, every reference in it resolves, and the server serves it as is.

use crate::helpers::spawn_app;
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::BTreeSet;

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

fn document_text() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
    std::fs::read_to_string(path).expect("openapi.json at the repository root")
}

fn document() -> Value {
    serde_json::from_str(&document_text()).expect("openapi.json is JSON")
}

/// `METHOD path` of every operation in the document.
fn documented_operations(doc: &Value) -> BTreeSet<String> {
    let paths = doc["paths"].as_object().expect("paths object");
    let mut out = BTreeSet::new();
    for (path, item) in paths {
        for method in item.as_object().expect("path item object").keys() {
            if METHODS.contains(&method.as_str()) {
                out.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    out
}

fn registered_operations() -> BTreeSet<String> {
    tokend::api::endpoints().into_iter().map(|(path, method)| format!("{method} {path}")).collect()
}

#[test]
fn the_document_lists_exactly_the_registered_routes() {
    let documented = documented_operations(&document());
    let registered = registered_operations();
    let undocumented: Vec<_> = registered.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&registered).collect();
    assert!(undocumented.is_empty(), "routes missing from openapi.json: {undocumented:?}");
    assert!(unserved.is_empty(), "openapi.json documents routes tokend does not serve: {unserved:?}");
    assert_eq!(registered.len(), tokend::api::endpoints().len(), "a route is registered twice");
}

/// Every `$ref` found anywhere in `value`.
fn references<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r),
                    _ => references(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, out)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves_and_every_operation_is_described() {
    let doc = document();
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1.")), "an OpenAPI 3.1 document");
    let mut refs = Vec::new();
    references(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("external reference {r}"));
        assert!(doc.pointer(pointer).is_some(), "dangling reference {r}");
    }
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ids.insert(id.to_string()), "operationId {id} is used twice");
            // users.getAvatar's success is a redirect, as in Rocket.Chat.
            let success = ["200", "307"].iter().any(|status| op["responses"][status].is_object());
            assert!(success, "{method} {path} documents no success");
            assert!(op["security"].is_array(), "{method} {path} does not say how it authenticates");
        }
    }
}

#[tokio::test]
async fn the_server_serves_the_document_byte_for_byte() {
    let app = spawn_app().await;
    let resp = app.client.get(app.url("/api/openapi.json")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert_eq!(content_type, "application/json");
    let body = resp.text().await.unwrap();
    assert_eq!(body, document_text(), "the served document differs from openapi.json");
    let parsed: Value = serde_json::from_str(&body).expect("the served document is JSON");
    assert_eq!(parsed["info"]["title"], "tokend");
}
