//! A first walk through the change life cycle (the full suites are in the other change_* files).

use quorum_tests::TestApp;
use quorum_tests::change::{ENGINEER, MANAGER};

#[tokio::test]
async fn a_low_risk_normal_change_goes_from_draft_to_closed() {
    let app = TestApp::new().await;
    let db = app.create_ci("DATABASE", "payments-db").await;
    let change = app.new_change("NORMAL", &[&db]).await;
    assert_eq!(change["number"], "CHG0000001");
    assert_eq!(change["state"], "DRAFT");
    let change = app.act(ENGINEER, "submitChange", &change).await;
    assert_eq!(change["state"], "ASSESSMENT");
    let change = app.assess(&change, TestApp::low_risk_answers()).await;
    assert_eq!(change["risk"]["level"], "LOW", "{change}");
    let change = app.act(MANAGER, "authorizeChange", &change).await;
    assert_eq!(change["state"], "AUTHORIZED");
    let change = app.schedule(&change).await.expect("schedules");
    assert_eq!(change["state"], "SCHEDULED");
    app.clock
        .set("2026-01-10T10:30:00Z".parse().expect("instant"));
    let change = app.start_implementation(&change).await;
    assert_eq!(change["startedOutsideWindow"], false);
    let change = app.complete(&change, "SUCCESSFUL").await;
    assert_eq!(change["state"], "REVIEW");
    let change = app.act(MANAGER, "closeChange", &change).await;
    assert_eq!(change["state"], "CLOSED");
}
