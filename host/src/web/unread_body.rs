//! Answers given before a request's body is read: too large, not
//! authenticated, unknown route, wrong media type. Many clients (Python's
//! `http.client`, most backends' HTTP libraries) send the whole body before
//! they read anything; if the server answers and closes with the body still
//! arriving, its kernel resets the connection and the client sees a broken
//! pipe or a reset instead of the answer. So, as nginx's lingering close
//! does, the rest of the body is read and thrown away, within a bound of
//! bytes and time, before the answer goes out. A body too large to absorb
//! gets the answer at once, with `connection: close`.

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use tokio::time::Instant;

/// Most bytes of an unread body thrown away before an answer.
pub const DISCARD_MAX_BYTES: u64 = 64 << 20;

/// How much of an unread body is read and thrown away.
#[derive(Debug, Clone, Copy)]
pub struct Discard {
    /// Bytes, at most.
    pub max_bytes: u64,
    /// Time from the request's arrival, at most.
    pub max_time: Duration,
}

impl Discard {
    /// [`DISCARD_MAX_BYTES`] within `max_time` of the request's arrival.
    pub fn within(max_time: Duration) -> Self {
        Self {
            max_bytes: DISCARD_MAX_BYTES,
            max_time,
        }
    }
}

/// Middleware: run the request, then read and throw away whatever of its
/// body the handler left unread (bounded by `discard`), then answer.
pub async fn discard_unread(
    State(discard): State<Discard>,
    request: Request,
    next: Next,
) -> Response {
    if request.body().is_end_stream() {
        return next.run(request).await;
    }
    let arrived = Instant::now();
    // A client that asked `Expect: 100-continue` waits for the answer
    // before it sends the body, unless the handler began reading it.
    let awaits_continue = request
        .headers()
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let (parts, body) = request.into_parts();
    let shared = SharedBody::new(body);
    let mut response = next
        .run(Request::from_parts(parts, Body::new(shared.clone())))
        .await;
    if let Some(rest) = shared.take_unread(awaits_continue)
        && !read_to_end(rest, discard, arrived + discard.max_time).await
    {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Reads `body` to its end, throwing it away; false if it ends in an error
/// or does not end within the bounds.
async fn read_to_end(mut body: Body, discard: Discard, deadline: Instant) -> bool {
    if body.size_hint().lower() > discard.max_bytes {
        return false;
    }
    let drained = tokio::time::timeout_at(deadline, async {
        let mut read = 0u64;
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else { return false };
            read += frame.data_ref().map_or(0, |d| d.len() as u64);
            if read > discard.max_bytes {
                return false;
            }
        }
        true
    })
    .await;
    drained.unwrap_or(false)
}

/// What the handler and the middleware share of one request body.
struct Unread {
    body: Body,
    polled: bool,
    ended: bool,
}

impl Unread {
    /// Whether nothing of the body is left to read.
    fn finished(&self) -> bool {
        self.ended || self.body.is_end_stream()
    }
}

/// A request body the handler reads while the middleware keeps a handle
/// on what the handler leaves.
#[derive(Clone)]
struct SharedBody(Arc<Mutex<Unread>>);

impl SharedBody {
    fn new(body: Body) -> Self {
        Self(Arc::new(Mutex::new(Unread {
            body,
            polled: false,
            ended: false,
        })))
    }

    fn lock(&self) -> MutexGuard<'_, Unread> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The part of the body nobody read, if there is one to read: none
    /// when the body ended, or when the client waits for `100 Continue`
    /// that nobody asked for (it sends nothing more then).
    fn take_unread(&self, awaits_continue: bool) -> Option<Body> {
        let mut unread = self.lock();
        if unread.finished() || (awaits_continue && !unread.polled) {
            return None;
        }
        Some(std::mem::replace(&mut unread.body, Body::empty()))
    }
}

impl HttpBody for SharedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let mut unread = self.lock();
        unread.polled = true;
        let polled = Pin::new(&mut unread.body).poll_frame(cx);
        if let Poll::Ready(None) = polled {
            unread.ended = true;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.lock().finished()
    }

    fn size_hint(&self) -> SizeHint {
        self.lock().body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::http::StatusCode;
    use axum::routing::post;
    use futures::StreamExt;
    use tower::ServiceExt;

    /// Answers 401 without reading the body.
    fn app(discard: Discard) -> Router {
        Router::new()
            .route("/", post(|| async { StatusCode::UNAUTHORIZED }))
            .layer(axum::middleware::from_fn_with_state(
                discard,
                discard_unread,
            ))
    }

    /// A body of `chunks` chunks of 1 KiB, counting what is read of it.
    fn counted(chunks: usize, read: Arc<Mutex<usize>>) -> Body {
        Body::from_stream(futures::stream::iter(0..chunks).map(move |_| {
            *read.lock().unwrap() += 1;
            Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; 1024]))
        }))
    }

    #[tokio::test]
    async fn the_rest_of_an_unread_body_is_read_before_the_answer() {
        let read = Arc::new(Mutex::new(0));
        let request = Request::post("/").body(counted(100, read.clone())).unwrap();
        let answer = app(Discard::within(Duration::from_secs(5)))
            .oneshot(request)
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(*read.lock().unwrap(), 100);
        assert!(answer.headers().get(header::CONNECTION).is_none());
    }

    #[tokio::test]
    async fn a_body_beyond_the_bound_is_left_and_the_connection_closed() {
        let read = Arc::new(Mutex::new(0));
        let request = Request::post("/").body(counted(100, read.clone())).unwrap();
        let discard = Discard {
            max_bytes: 10 * 1024,
            max_time: Duration::from_secs(5),
        };
        let answer = app(discard).oneshot(request).await.unwrap();
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(answer.headers()[header::CONNECTION], "close");
        assert!(*read.lock().unwrap() <= 11);
    }

    #[tokio::test]
    async fn a_client_awaiting_continue_is_answered_without_reading() {
        let read = Arc::new(Mutex::new(0));
        let request = Request::post("/")
            .header(header::EXPECT, "100-continue")
            .body(counted(100, read.clone()))
            .unwrap();
        let answer = app(Discard::within(Duration::from_secs(5)))
            .oneshot(request)
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(*read.lock().unwrap(), 0);
    }
}
