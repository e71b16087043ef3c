use crate::helpers::*;
use reqwest::StatusCode;

#[tokio::test]
async fn logout_kills_only_the_token_used() {
    let app = spawn_app().await;
    let first = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let (status, body) = app
        .post("/api/v1/logout", serde_json::json!({}), Some(&first))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        serde_json::json!({"status":"success","data":{"message":"You've been logged out!"}})
    );
    assert!(!app.authenticates(&first).await);
    assert!(app.authenticates(&app.admin).await);
}
