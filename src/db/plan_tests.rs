//! Credential lookups must stay index searches whatever the planner's statistics say. A store
//! analysed while it held one user and then grown (the statistics still say "one row") made
//! a token lookup joined to `users` scan every user on each request.

use super::sql::Dialect;
use super::{migrations, saymon, seed, tokens, users};
use crate::auth::token::TokenHash;
use rusqlite::Connection;

/// A store whose statistics were taken with one user, then filled with 2000 users.
fn grown_store_with_stale_statistics() -> Connection {
    let mut conn = Connection::open_in_memory().unwrap();
    migrations::apply_all_migrations(&mut conn).unwrap();
    seed::roles_and_permissions(&conn).unwrap();
    conn.execute_batch(
        "INSERT INTO users (id, username, created_at, updated_at) VALUES ('first', 'first', 0, 0);
         ANALYZE;",
    )
    .unwrap();
    let prefix = "s".repeat(super::bench_seed::PREFIX_LENGTH);
    super::bench_seed::seed(&conn, 2000, 4000, &prefix, 0, i64::MAX / 2).unwrap();
    conn
}

fn plan(conn: &Connection, sql: &str) -> String {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    // The parameters stay unbound (NULL): the plan does not depend on their values.
    let mut rows = stmt.raw_query();
    let mut steps = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        steps.push(row.get::<_, String>(3).unwrap());
    }
    steps.join("; ")
}

#[test]
fn credential_lookups_search_an_index_even_with_stale_statistics() {
    let conn = grown_store_with_stale_statistics();
    let stale: String =
        conn.query_row("SELECT stat FROM sqlite_stat1 WHERE tbl = 'users' LIMIT 1", [], |r| r.get(0)).unwrap();
    assert!(stale.starts_with("1 "), "the statistics still say one user: {stale}");
    let user_by_id = users::users_where("u.id = ?1");
    let (token_owner, api_token_owner) =
        (tokens::token_owner_sql(Dialect::Sqlite), saymon::api_token_owner_sql(Dialect::Sqlite));
    for sql in [token_owner, api_token_owner, saymon::SESSION_BY_HASH, user_by_id.as_str()] {
        let plan = plan(&conn, sql);
        assert!(plan.contains("SEARCH") && !plan.contains("SCAN"), "{sql}\n  → {plan}");
    }
}

#[test]
fn a_seeded_token_resolves_to_its_owner() {
    let conn = grown_store_with_stale_statistics();
    let prefix = "s".repeat(super::bench_seed::PREFIX_LENGTH);
    let hash = TokenHash::of(&super::bench_seed::token(&prefix, 2001));
    let owner = tokens::authenticate(&conn, None, &hash, 1).unwrap().expect("a valid token");
    assert_eq!(owner.user.username, "bench-1", "token 2001 belongs to user 2001 % 2000");
    assert!(tokens::authenticate(&conn, Some("someone-else"), &hash, 1).unwrap().is_none());
}

#[test]
fn the_index_credential_lookups_name_is_the_user_id() {
    let conn = grown_store_with_stale_statistics();
    let column: String = conn
        .query_row(&format!("SELECT name FROM pragma_index_info('{}')", users::USERS_BY_ID), [], |r| r.get(0))
        .unwrap();
    assert_eq!(column, "id");
}
