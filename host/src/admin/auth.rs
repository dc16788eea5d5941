//! Bearer-token check of every admin request.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AdminState;
use crate::web::problem::Problem;

/// Pass requests carrying `Authorization: Bearer <admin.token>`; answer
/// others 401 with a problem body and `WWW-Authenticate: Bearer`.
pub async fn require_token(
    State(state): State<AdminState>,
    request: Request,
    next: Next,
) -> Response {
    let given = crate::auth::bearer(request.headers());
    if given.is_some_and(|g| crate::auth::same(g.as_bytes(), state.token.as_bytes())) {
        return next.run(request).await;
    }
    Problem::unauthorized("admin requests need `Authorization: Bearer <admin.token>`")
        .into_response()
}
