//! The Salesforce double answers like Salesforce: the plugins' tests are only
//! as good as the double, so its shapes are tested here.

use serde_json::{Value, json};
use streamplug_tests::salesforce::{CLIENT_ID, CLIENT_SECRET, Fault, Salesforce};

async fn login(sf: &Salesforce, client: &reqwest::Client) -> String {
    let a: Value = client
        .post(format!("{}/services/oauth2/token", sf.url))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(a["token_type"], "Bearer");
    a["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_salesforce_double_speaks_the_rest_shapes_the_plugins_use() {
    let sf = Salesforce::start().await.unwrap();
    let client = reqwest::Client::new();
    let bad = client
        .post(format!("{}/services/oauth2/token", sf.url))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "x"),
            ("client_secret", "y"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(
        bad.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );

    let token = login(&sf, &client).await;
    let upsert = |body: Value| {
        client
            .patch(format!(
                "{}/services/data/v64.0/sobjects/Contact/External_Id__c/cust-1",
                sf.url
            ))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let created = upsert(json!({"LastName": "Smith"})).await.unwrap();
    assert_eq!(created.status(), 201);
    assert!(
        created.headers()["sforce-limit-info"]
            .to_str()
            .unwrap()
            .starts_with("api-usage=")
    );
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["created"], true);
    assert!(created["id"].as_str().unwrap().starts_with("003"));
    let updated = upsert(json!({"Email": "s@example.com"})).await.unwrap();
    assert_eq!(updated.status(), 200);
    assert_eq!(updated.json::<Value>().await.unwrap()["created"], false);
    let invalid = upsert(json!({"External_Id__c": "x"})).await.unwrap();
    assert_eq!(invalid.status(), 400);
    assert_eq!(
        invalid.json::<Value>().await.unwrap()[0]["errorCode"],
        "INVALID_FIELD"
    );
    assert_eq!(sf.records("Contact").len(), 1);

    // Composite: a contact and a case referring to it, then reading the case number.
    let composite = |all: Value| {
        client
            .post(format!("{}/services/data/v64.0/composite", sf.url))
            .bearer_auth(&token)
            .json(&all)
            .send()
    };
    let answer: Value = composite(json!({"allOrNone": true, "compositeRequest": [
        {"method": "PATCH", "url": "/services/data/v64.0/sobjects/Contact/External_Id__c/cust-2", "referenceId": "contact", "body": {"LastName": "Jones"}},
        {"method": "POST", "url": "/services/data/v64.0/sobjects/Case", "referenceId": "case", "body": {"Subject": "Help", "ContactId": "@{contact.id}", "Origin": "Web"}},
        {"method": "GET", "url": "/services/data/v64.0/sobjects/Case/@{case.id}", "referenceId": "read"}
    ]})).await.unwrap().json().await.unwrap();
    let responses = answer["compositeResponse"].as_array().unwrap();
    assert_eq!(responses[1]["httpStatusCode"], 201);
    assert_eq!(
        responses[2]["body"]["ContactId"],
        responses[0]["body"]["id"]
    );
    assert_eq!(responses[2]["body"]["CaseNumber"], "00001001");
    // allOrNone: one bad subrequest rolls everything back.
    let answer: Value = composite(json!({"allOrNone": true, "compositeRequest": [
        {"method": "PATCH", "url": "/services/data/v64.0/sobjects/Contact/External_Id__c/cust-3", "referenceId": "ok", "body": {"LastName": "Lee"}},
        {"method": "POST", "url": "/services/data/v64.0/sobjects/Case", "referenceId": "bad", "body": {"Status": "Nope"}}
    ]})).await.unwrap().json().await.unwrap();
    assert_eq!(
        answer["compositeResponse"][0]["body"][0]["errorCode"],
        "PROCESSING_HALTED"
    );
    assert_eq!(
        answer["compositeResponse"][1]["body"][0]["errorCode"],
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    );
    assert_eq!(sf.records("Contact").len(), 2, "cust-3 rolled back");

    // Orders need an existing account, a date and a status; emails are checked.
    let account = sf.seed("Account", json!({"Name": "Web"})).unwrap();
    let answer: Value = composite(json!({"allOrNone": false, "compositeRequest": [
        {"method": "PATCH", "url": "/services/data/v64.0/sobjects/Order/External_Id__c/o%2D1", "referenceId": "missing", "body": {"Status": "Draft"}},
        {"method": "PATCH", "url": "/services/data/v64.0/sobjects/Order/External_Id__c/o-2", "referenceId": "dangling", "body": {"AccountId": "001000000000999AAA", "EffectiveDate": "2026-11-23", "Status": "Draft"}},
        {"method": "PATCH", "url": "/services/data/v64.0/sobjects/Order/External_Id__c/o-3", "referenceId": "ok", "body": {"AccountId": account, "EffectiveDate": "2026-11-23", "Status": "Draft"}},
        {"method": "PATCH", "url": "/services/data/v64.0/sobjects/Contact/External_Id__c/cust-4", "referenceId": "email", "body": {"LastName": "Kim", "Email": "kim-at-example"}}
    ]})).await.unwrap().json().await.unwrap();
    let codes: Vec<&Value> = answer["compositeResponse"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["body"][0]["errorCode"])
        .collect();
    assert_eq!(codes[0], "REQUIRED_FIELD_MISSING");
    assert_eq!(
        answer["compositeResponse"][0]["body"][0]["fields"],
        json!(["AccountId", "EffectiveDate"])
    );
    assert_eq!(codes[1], "INVALID_CROSS_REFERENCE_KEY");
    assert_eq!(answer["compositeResponse"][2]["httpStatusCode"], 201);
    assert_eq!(codes[3], "INVALID_EMAIL_ADDRESS");
    assert_eq!(sf.records("Order")[0].fields["External_Id__c"], "o-3");

    // Faults and expired sessions.
    sf.fail_next(1, Fault::RequestLimit);
    let limited = upsert(json!({"LastName": "Smith"})).await.unwrap();
    assert_eq!(limited.status(), 403);
    assert_eq!(
        limited.json::<Value>().await.unwrap()[0]["errorCode"],
        "REQUEST_LIMIT_EXCEEDED"
    );
    sf.expire_sessions();
    let expired = upsert(json!({"LastName": "Smith"})).await.unwrap();
    assert_eq!(expired.status(), 401);
    assert_eq!(
        expired.json::<Value>().await.unwrap()[0]["errorCode"],
        "INVALID_SESSION_ID"
    );
    assert!(sf.received().iter().any(|r| r.status == 401));
}
