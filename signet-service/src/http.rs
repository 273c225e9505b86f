//! The layers and fallbacks every service's router gets.

use std::any::Any;
use std::future::Future;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::error::{log_server_errors, problem_response};

async fn not_found() -> Response {
    problem_response(
        StatusCode::NOT_FOUND,
        "not-found",
        Some("no route for this path".into()),
        Vec::new(),
    )
}

async fn method_not_allowed() -> Response {
    problem_response(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        Some("this method is not allowed on this path".into()),
        Vec::new(),
    )
}

fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "unknown panic".to_owned());
    crate::error::ApiError::Internal(anyhow::anyhow!("panic: {message}")).into_response()
}

/// A body whose declared length is over the limit is refused before routing,
/// whatever the handler would do with it: `DefaultBodyLimit` alone applies
/// only where a handler reads the body, so a large upload to an endpoint that
/// ignores its body would otherwise be accepted.
async fn refuse_declared_oversized_bodies(
    axum::extract::State(max_body_bytes): axum::extract::State<usize>,
    request: axum::extract::Request,
    next: middleware::Next,
) -> Response {
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max_body_bytes as u64) {
        return crate::error::ApiError::PayloadTooLarge.into_response();
    }
    next.run(request).await
}

/// Query parameters whose values are credentials (RFC 6750 §2.3 allows
/// `access_token` in the query; OAuth redirects carry `code`).
const SECRET_QUERY_PARAMETERS: [&str; 7] = [
    "access_token",
    "refresh_token",
    "id_token_hint",
    "token",
    "code",
    "client_secret",
    "password",
];

/// The request URI as logs may show it: credential-bearing query values replaced.
pub fn redacted_uri(uri: &axum::http::Uri) -> String {
    let Some(query) = uri.query() else {
        return uri.path().to_owned();
    };
    let redacted: Vec<String> = query
        .split('&')
        .map(|pair| {
            let name = pair.split_once('=').map_or(pair, |(name, _)| name);
            let decoded = url::form_urlencoded::parse(name.as_bytes())
                .next()
                .map(|(name, _)| name.to_ascii_lowercase())
                .unwrap_or_default();
            if SECRET_QUERY_PARAMETERS.contains(&decoded.as_str()) {
                format!("{name}=[redacted]")
            } else {
                pair.to_owned()
            }
        })
        .collect();
    format!("{}?{}", uri.path(), redacted.join("&"))
}

/// The span every request's log lines sit in: method, redacted URI, request id.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // INFO, so the span (and its request id) is on every line a request logs
    // at the default level, the 5xx line included.
    tracing::info_span!(
        "request",
        method = crate::metrics::method_label(request.method()),
        uri = %redacted_uri(request.uri()),
        request_id,
    )
}

/// The one line a service logs once it accepts requests: the URL to open,
/// the database (without its password) and anything else worth knowing at a
/// glance (`details`, e.g. where the signing key came from).
pub fn announce_listening(
    service: &str,
    addr: std::net::SocketAddr,
    database_url: &str,
    details: &str,
) {
    let url = format!("http://{addr}");
    let database = crate::db::display_url(database_url);
    let details = if details.is_empty() {
        String::new()
    } else {
        format!(", {details}")
    };
    tracing::info!(
        %url,
        %database,
        "{service} listening on {url} (database {database}{details})"
    );
}

/// `document` as a service serves it at `/openapi.json`: `server` (the URL
/// clients address the service by) as its `servers` entry, and the `bearer`
/// security scheme its protected operations name.
pub fn openapi_document(
    mut document: utoipa::openapi::OpenApi,
    server: &str,
) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
    document.servers = Some(vec![utoipa::openapi::Server::new(server)]);
    document
        .components
        .get_or_insert_with(Default::default)
        .add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An RS256 access token (RFC 9068) from the auth server",
                    ))
                    .build(),
            ),
        );
    document
}

/// The address a listener is bound to (the port the OS chose for port 0).
pub fn bound_addr(listener: &TcpListener) -> std::net::SocketAddr {
    listener
        .local_addr()
        .unwrap_or_else(|_| std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
}

/// Bind the metrics listener, naming the variable on failure.
pub async fn bind_metrics(addr: std::net::SocketAddr) -> anyhow::Result<TcpListener> {
    use anyhow::Context as _;
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("METRICS_ADDR: cannot listen on {addr}"))
}

/// The router of the metrics listener: `GET /metrics`, 404 for anything else.
pub fn metrics_router<H, T, S>(handler: H, state: S) -> Router
where
    H: axum::handler::Handler<T, S>,
    T: 'static,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/metrics", axum::routing::get(handler))
        .fallback(not_found)
        .with_state(state)
}

/// Which requests get CORS answers: browsers on `origins`, for the paths
/// `applies_to` accepts (a service's cross-origin API).
#[derive(Debug, Clone)]
pub struct Cors {
    pub origins: crate::config::CorsOrigins,
    pub applies_to: fn(&str) -> bool,
}

/// The CORS layer for `cors`, outermost, so preflights are answered before
/// routing (a route's own 405 for OPTIONS, or its token check, never sees
/// them). An origin is allowed only on a path `applies_to` accepts. Methods
/// GET, POST, PATCH and DELETE; request headers `Authorization`,
/// `Content-Type` and `DPoP`; `WWW-Authenticate`, `DPoP-Nonce`, `Retry-After`
/// and `x-request-id` readable by the page. Never credentials: these
/// endpoints take tokens, not cookies.
fn cors_layer(cors: &Cors) -> Option<tower_http::cors::CorsLayer> {
    use axum::http::{header, Method};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let applies_to = cors.applies_to;
    let allow_origin = match &cors.origins {
        crate::config::CorsOrigins::None => return None,
        crate::config::CorsOrigins::Any => {
            AllowOrigin::predicate(move |_, parts| applies_to(parts.uri.path()))
        }
        crate::config::CorsOrigins::List(list) => {
            let list: Vec<axum::http::HeaderValue> = list
                .iter()
                .filter_map(|origin| axum::http::HeaderValue::from_str(origin).ok())
                .collect();
            AllowOrigin::predicate(move |origin, parts| {
                applies_to(parts.uri.path()) && list.iter().any(|allowed| allowed == origin)
            })
        }
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::PATCH])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("dpop"),
            ])
            .expose_headers([
                header::WWW_AUTHENTICATE,
                header::RETRY_AFTER,
                HeaderName::from_static("dpop-nonce"),
                HeaderName::from_static("x-request-id"),
            ])
            .allow_credentials(false)
            .max_age(Duration::from_secs(600)),
    )
}

/// One INFO line per request (`ACCESS_LOG=true`): method, route template
/// (never the path itself, which may hold identifiers), status, and the time
/// until the response's head was ready. It sits in the request's span, so it
/// carries the request id.
async fn access_log(request: axum::extract::Request, next: middleware::Next) -> Response {
    let started = std::time::Instant::now();
    let method = crate::metrics::method_label(request.method());
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .cloned();
    let response = next.run(request).await;
    tracing::info!(
        target: "access",
        method,
        route = route.as_ref().map_or("unmatched", axum::extract::MatchedPath::as_str),
        status = response.status().as_u16(),
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    response
}

/// JSON 404/405 fallbacks, a body limit, request ids, request tracing (every
/// line logged for a request carries its `request_id`), one log line per 5xx,
/// an optional access log, and panics turned into a 500 problem.
pub fn standard_layers<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    max_body_bytes: usize,
    access_log_enabled: bool,
    cors: &Cors,
    metrics: &crate::metrics::Metrics,
) -> Router<S> {
    let x_request_id = HeaderName::from_static("x-request-id");
    let router = if access_log_enabled {
        router.layer(middleware::from_fn(access_log))
    } else {
        router
    };
    router
        .layer(middleware::from_fn_with_state(
            metrics.clone(),
            crate::metrics::count_requests,
        ))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(middleware::from_fn_with_state(
            max_body_bytes,
            refuse_declared_oversized_bodies,
        ))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(
                    x_request_id.clone(),
                    MakeRequestUuid,
                ))
                // Spans only: each 5xx is logged once, with its cause, by
                // `log_server_errors`; tower-http would log it a second time.
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_failure(()),
                )
                .option_layer(cors_layer(cors))
                .layer(PropagateRequestIdLayer::new(x_request_id))
                .layer(middleware::from_fn(log_server_errors))
                .layer(CatchPanicLayer::custom(panic_response))
                // Every answer is what its Content-Type says: no browser sniffing.
                .layer(SetResponseHeaderLayer::if_not_present(
                    axum::http::header::X_CONTENT_TYPE_OPTIONS,
                    axum::http::HeaderValue::from_static("nosniff"),
                )),
        )
}

static SHUTDOWN: std::sync::OnceLock<tokio::sync::watch::Receiver<bool>> =
    std::sync::OnceLock::new();

/// Register the SIGINT/SIGTERM handlers now. Call it first thing in `main`
/// (`process::run` does): tokio otherwise registers a handler only when its
/// future is first polled, and a SIGTERM arriving before that — during start-up,
/// after the port is bound — would kill the process instead of stopping it.
/// Idempotent; needs a Tokio runtime.
pub fn install_signal_handlers() {
    SHUTDOWN.get_or_init(|| {
        let (tx, rx) = tokio::sync::watch::channel(false);
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let terminate = signal(SignalKind::terminate()).ok();
            let interrupt = signal(SignalKind::interrupt()).ok();
            tokio::spawn(async move {
                let terminated = async {
                    match terminate {
                        Some(mut s) => {
                            s.recv().await;
                        }
                        None => std::future::pending::<()>().await,
                    }
                };
                let interrupted = async {
                    match interrupt {
                        Some(mut s) => {
                            s.recv().await;
                        }
                        None => std::future::pending::<()>().await,
                    }
                };
                tokio::select! {
                    () = terminated => {},
                    () = interrupted => {},
                }
                let _ = tx.send(true);
            });
        }
        #[cfg(not(unix))]
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = tx.send(true);
            }
        });
        rx
    });
}

/// Resolves once SIGINT or SIGTERM has arrived (at any time since the handlers
/// were installed).
/// Whether SIGTERM/SIGINT has arrived (for long jobs that check between steps).
pub fn shutdown_requested() -> bool {
    SHUTDOWN.get().is_some_and(|receiver| *receiver.borrow())
}

pub async fn shutdown_signal() {
    install_signal_handlers();
    if let Some(receiver) = SHUTDOWN.get() {
        let mut receiver = receiver.clone();
        if receiver.wait_for(|stop| *stop).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// How long a client may take and how many connections it may hold: the
/// defence against slow clients (slowloris) that `axum::serve` lacks (it
/// sets no timer, so a half-sent request header is kept open for good).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// A request's header must arrive within this (`HTTP_HEADER_READ_TIMEOUT`).
    /// The clock also runs while a kept-alive connection waits for its next
    /// request, so it is the idle timeout too.
    pub header_read_timeout: Duration,
    /// The longest wait for the next piece of a request body
    /// (`HTTP_BODY_READ_TIMEOUT`); then the request is refused and the
    /// connection closed.
    pub body_read_timeout: Duration,
    /// Connections served at once (`HTTP_MAX_CONNECTIONS`); further ones wait
    /// in the listen queue until one closes.
    pub max_connections: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            max_connections: 512,
        }
    }
}

impl ServerLimits {
    /// `HTTP_HEADER_READ_TIMEOUT`, `HTTP_BODY_READ_TIMEOUT`, `HTTP_MAX_CONNECTIONS`.
    pub fn from_env<F: Fn(&str) -> Option<String>>(
        env: &crate::config::Env<F>,
    ) -> Result<Self, crate::config::ConfigError> {
        let default = Self::default();
        Ok(Self {
            header_read_timeout: env
                .duration("HTTP_HEADER_READ_TIMEOUT", default.header_read_timeout)?,
            body_read_timeout: env.duration("HTTP_BODY_READ_TIMEOUT", default.body_read_timeout)?,
            max_connections: env.positive("HTTP_MAX_CONNECTIONS", default.max_connections)?,
        })
    }
}

/// Serve `router` on `listener` until `shutdown` resolves, then stop
/// accepting and let in-flight requests finish for at most `grace`.
/// `metrics`, when given, is served on its own listener (`METRICS_ADDR`,
/// loopback by default) until the same moment, so the public port never
/// exposes it. Each connection is HTTP/1.1 under `limits`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    metrics: Option<(TcpListener, Router)>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
    limits: ServerLimits,
) -> std::io::Result<()> {
    let (stopping_tx, stopping_rx) = tokio::sync::watch::channel(false);
    if let Some((metrics_listener, metrics_router)) = metrics {
        let stopping = stopping_rx.clone();
        tokio::spawn(async move {
            if let Err(error) =
                serve_connections(metrics_listener, metrics_router, limits, stopping, grace).await
            {
                tracing::error!(%error, "metrics listener failed");
            }
        });
    }
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutdown requested; finishing in-flight requests");
        let _ = stopping_tx.send(true);
    });
    serve_connections(listener, router, limits, stopping_rx, grace).await
}

/// Resolves once `stopping` is true (or its sender is gone).
async fn stopped(stopping: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stop| *stop).await;
}

/// The accept loop: at most `limits.max_connections` at once, each with the
/// header timer on; when `stopping` turns true, no more accepts, and
/// in-flight requests get `grace`.
async fn serve_connections(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    mut stopping: tokio::sync::watch::Receiver<bool>,
    grace: Duration,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt as _;

    let router = router.layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
        limits.body_read_timeout,
    ));
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    loop {
        // A free slot first: beyond the cap, clients wait in the listen queue.
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = stopped(&mut stopping) => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, or a connection reset before
                    // accept: wait a moment rather than spin.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stopped(&mut stopping) => break,
        };
        let _ = stream.set_nodelay(true);
        let service = router.clone().map_request(
            move |mut request: axum::extract::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                request
            },
        );
        let connection = http.serve_connection(
            TokioIo::new(stream),
            hyper_util::service::TowerToHyperService::new(service),
        );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A timed-out or reset connection is the client's business.
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => Ok(()),
        () = tokio::time::sleep(grace) => {
            tracing::warn!(?grace, "grace period elapsed; dropping remaining connections");
            Ok(())
        }
    }
}

#[cfg(test)]
mod limits_tests {
    use super::ServerLimits;
    use std::time::Duration;

    fn limits(vars: &[(&str, &str)]) -> Result<ServerLimits, crate::config::ConfigError> {
        let env = crate::config::Env::new(|name: &str| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        });
        ServerLimits::from_env(&env)
    }

    #[test]
    fn server_limits_come_from_the_environment_and_bad_values_name_their_variable() {
        assert_eq!(limits(&[]).expect("defaults"), ServerLimits::default());
        let set = limits(&[
            ("HTTP_HEADER_READ_TIMEOUT", "3s"),
            ("HTTP_BODY_READ_TIMEOUT", "1m"),
            ("HTTP_MAX_CONNECTIONS", "64"),
        ])
        .expect("valid");
        assert_eq!(set.header_read_timeout, Duration::from_secs(3));
        assert_eq!(set.body_read_timeout, Duration::from_secs(60));
        assert_eq!(set.max_connections, 64);
        for (name, value) in [
            ("HTTP_HEADER_READ_TIMEOUT", "soon"),
            ("HTTP_HEADER_READ_TIMEOUT", "0s"),
            ("HTTP_BODY_READ_TIMEOUT", "-1"),
            ("HTTP_MAX_CONNECTIONS", "0"),
            ("HTTP_MAX_CONNECTIONS", "many"),
        ] {
            let error = limits(&[(name, value)]).expect_err(value);
            assert_eq!(error.variable, name);
        }
    }
}

#[cfg(test)]
mod redaction_tests {
    use super::redacted_uri;

    #[test]
    fn credentials_in_query_strings_never_reach_a_log_line() {
        let uri: axum::http::Uri = "/api/v1/posts?limit=5&access_token=eyJhbGc.secret.sig&ACCESS%5FTOKEN=x&code=abc&state=ok"
            .parse()
            .expect("uri");
        let shown = redacted_uri(&uri);
        assert_eq!(
            shown,
            "/api/v1/posts?limit=5&access_token=[redacted]&ACCESS%5FTOKEN=[redacted]&code=[redacted]&state=ok"
        );
        assert!(!shown.contains("secret"));
        let plain: axum::http::Uri = "/healthz".parse().expect("uri");
        assert_eq!(redacted_uri(&plain), "/healthz");
    }
}
