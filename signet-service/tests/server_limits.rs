//! Slow clients (slowloris) against `signet_service::http::serve`, the
//! server every service runs: half-sent request headers and stalled bodies
//! are cut off, connections beyond the cap wait, and a normal client is
//! still served. Time is paused: tokio moves the clock forward whenever
//! every task waits, so the timeouts fire without the test sleeping.

use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use signet_service::http::{serve, ServerLimits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const LIMITS: ServerLimits = ServerLimits {
    header_read_timeout: Duration::from_secs(10),
    body_read_timeout: Duration::from_secs(30),
    max_connections: 4,
};

async fn start() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/echo", post(|body: axum::body::Bytes| async move { body }));
    tokio::spawn(serve(
        listener,
        router,
        None,
        std::future::pending(),
        Duration::from_secs(1),
        LIMITS,
    ));
    address
}

/// Bytes until the server closes the connection (or 64 KiB).
async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return answer,
            Ok(n) => {
                answer.extend_from_slice(&buffer[..n]);
                if answer.len() > 65536 {
                    return answer;
                }
            }
        }
    }
}

async fn healthz(address: std::net::SocketAddr) -> String {
    let mut stream = TcpStream::connect(address).await.expect("connect");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .expect("write");
    String::from_utf8_lossy(&read_to_close(&mut stream).await).into_owned()
}

#[tokio::test(start_paused = true)]
async fn a_half_sent_header_is_closed_after_the_header_timeout() {
    let address = start().await;
    let started = tokio::time::Instant::now();
    let mut slow = TcpStream::connect(address).await.expect("connect");
    slow.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-slow: ")
        .await
        .expect("write");
    let answer = read_to_close(&mut slow).await;
    let waited = started.elapsed();
    assert!(
        waited >= LIMITS.header_read_timeout && waited < LIMITS.header_read_timeout * 2,
        "closed after {waited:?}"
    );
    // hyper answers a header timeout with nothing, or with 408.
    let text = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
    assert!(healthz(address).await.starts_with("HTTP/1.1 200"));
}

#[tokio::test(start_paused = true)]
async fn an_idle_kept_alive_connection_is_closed_too() {
    let address = start().await;
    let mut idle = TcpStream::connect(address).await.expect("connect");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .expect("write");
    let started = tokio::time::Instant::now();
    let answer = read_to_close(&mut idle).await;
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
    assert!(started.elapsed() >= LIMITS.header_read_timeout);
}

#[tokio::test(start_paused = true)]
async fn a_stalled_body_is_refused_after_the_body_timeout() {
    let address = start().await;
    let mut slow = TcpStream::connect(address).await.expect("connect");
    slow.write_all(b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\nabc")
        .await
        .expect("write");
    let started = tokio::time::Instant::now();
    let answer = read_to_close(&mut slow).await;
    let waited = started.elapsed();
    assert!(
        waited >= LIMITS.body_read_timeout,
        "closed after {waited:?}"
    );
    let text = String::from_utf8_lossy(&answer);
    assert!(!text.starts_with("HTTP/1.1 200"), "{text}");
}

#[tokio::test(start_paused = true)]
async fn slow_clients_beyond_the_cap_do_not_lock_out_a_normal_one_for_long() {
    let address = start().await;
    // As many slow connections as the cap allows, and more waiting behind.
    let mut slow = Vec::new();
    for _ in 0..LIMITS.max_connections * 3 {
        let mut stream = TcpStream::connect(address).await.expect("connect");
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
            .await
            .expect("write");
        slow.push(stream);
    }
    let started = tokio::time::Instant::now();
    let answer = healthz(address).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Served once the slow ones ahead of it timed out, three rounds at most.
    assert!(
        started.elapsed() <= LIMITS.header_read_timeout * 4,
        "{:?}",
        started.elapsed()
    );
    for stream in &mut slow {
        read_to_close(stream).await;
    }
}
