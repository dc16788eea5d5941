//! The double's stand-in for the card issuer's 3-D Secure challenge: the
//! page a `redirect_to_url` next action sends the shopper to, with a
//! button to complete and one to fail the authentication. Either ends the
//! `requires_action` intent (webhooks included) and sends the shopper back
//! to the `return_url` with `payment_intent`, its client secret and
//! `redirect_status`, as Stripe does.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::Shared;
use super::webhooks::deliver_due;

/// `GET /3ds/{id}`: the challenge.
pub(super) async fn page(State(shared): State<Shared>, Path(id): Path<String>) -> Response {
    let intent = shared.lock().ledger.intents.get(&id).cloned();
    let Some(intent) = intent.filter(|i| i.status == "requires_action") else {
        return (
            StatusCode::NOT_FOUND,
            Html("<p>No payment waits for authentication here.</p>"),
        )
            .into_response();
    };
    let amount = format!(
        "{}.{:02} {}",
        intent.amount / 100,
        intent.amount % 100,
        intent.currency.to_uppercase()
    );
    Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>3-D Secure test page</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 28em; margin: 3em auto">
<h1>Test bank</h1>
<p>Authenticate the payment of <strong id="amount">{amount}</strong>?</p>
<form method="post"><input type="hidden" name="outcome" value="complete"><button id="complete">Complete authentication</button></form>
<form method="post" style="margin-top: 1em"><input type="hidden" name="outcome" value="fail"><button id="fail">Fail authentication</button></form>
</body></html>"#
    ))
    .into_response()
}

/// `POST /3ds/{id}`: end the challenge, then back to the shop.
pub(super) async fn answer(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    body: String,
) -> Response {
    let succeeded = form_urlencoded::parse(body.as_bytes())
        .any(|(name, value)| name == "outcome" && value == "complete");
    let (status, intent) = {
        let mut inner = shared.lock();
        let (status, _) = inner.ledger.authenticate(&id, succeeded);
        (status, inner.ledger.intents.get(&id).cloned())
    };
    deliver_due(&shared).await;
    let Some(intent) = intent.filter(|_| status == 200) else {
        return (
            StatusCode::CONFLICT,
            Html("<p>This payment no longer waits for authentication.</p>"),
        )
            .into_response();
    };
    let Some(return_url) = &intent.return_url else {
        return Html("<p>Done. You may close this window.</p>").into_response();
    };
    let mut back = return_url.clone();
    back.push(if back.contains('?') { '&' } else { '?' });
    back.push_str(
        &form_urlencoded::Serializer::new(String::new())
            .append_pair("payment_intent", &intent.id)
            .append_pair("payment_intent_client_secret", &intent.client_secret())
            .append_pair(
                "redirect_status",
                if succeeded { "succeeded" } else { "failed" },
            )
            .finish(),
    );
    (StatusCode::SEE_OTHER, [(header::LOCATION, back)]).into_response()
}
