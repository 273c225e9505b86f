//! auth-server replicas on one PostgreSQL database behind a local nginx
//! load balancer (deploy/nginx/auth-replicas.conf.template). Two, started at
//! the same moment (migrations and key bootstrap race): sign-up on one and
//! login on the other, a refresh token raced across both rotates exactly
//! once, and a key rotation is seen and used by both. Three: the sign-in
//! limit holds across them, a logout on one reaches forward-auth on another
//! within a second, and one killed under load loses no request.

use std::collections::HashSet;
use std::time::Duration;

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::Value;
use signet_e2e::{
    fresh_database, json_body, key_encryption_key, kid_of, log_in, log_in_for, run_command,
    sign_up, test_tuning, Backend, Nginx, Service, ACCOUNT_AUDIENCE,
};

async fn jwks_kids(http: &reqwest::Client, auth: &str) -> HashSet<String> {
    let jwks = json_body(
        http.get(format!("{auth}/.well-known/jwks.json"))
            .send()
            .await
            .expect("jwks"),
    )
    .await;
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|key| key["kid"].as_str().expect("kid").to_owned())
        .collect()
}

async fn refresh(http: &reqwest::Client, auth: &str, refresh_token: &str) -> (StatusCode, Value) {
    let response = http
        .post(format!("{auth}/oauth/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .send()
        .await
        .expect("refresh");
    let status = response.status();
    (status, json_body(response).await)
}

/// Poll `check` every 100 ms for up to 30 s.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..300 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never happened: {what}");
}

/// What every replica of one deployment is given (the settings that must
/// agree: one database, one issuer, one key store, the balancer trusted),
/// with `extra` after the test tuning so that it wins; the key store is
/// seeded once, as an operator would. The database URL and the settings.
async fn replica_settings(
    dir: &tempfile::TempDir,
    name: &str,
    extra: &[(&'static str, &str)],
) -> (String, Vec<(&'static str, String)>) {
    let database_url = fresh_database(Backend::Postgres, dir, name).await;
    let mut env = vec![
        ("DATABASE_URL", database_url.clone()),
        // One issuer for all replicas: the public name clients reach them by.
        ("JWT_ISSUER", "https://auth.signet.test".to_owned()),
        ("KEY_ENCRYPTION_KEY", key_encryption_key()),
        ("KEYS_DIR", dir.path().join("keys").display().to_string()),
        ("GENERATE_DEV_KEY", "false".to_owned()),
        ("TRUSTED_PROXIES", "127.0.0.1".to_owned()),
    ];
    env.extend(test_tuning());
    env.extend(
        extra
            .iter()
            .map(|(name, value)| (*name, (*value).to_owned())),
    );
    // The operator's first step: one key, given to every replica to seed the store.
    run_command("auth-server", dir.path(), &env, &["keys", "generate"]);
    (database_url, env)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(signet_postgres, signet_nginx)),
    ignore = "needs PostgreSQL and nginx: install them (Debian: postgresql, nginx) or set TEST_DATABASE_URL and NGINX_BIN"
)]
async fn two_replicas_on_one_database_behave_as_one_server() {
    let http = reqwest::Client::new();
    let dir = signet_e2e::shared_tempdir();
    let (database_url, env) = replica_settings(
        &dir,
        "replicas",
        &[
            ("KEY_REFRESH_INTERVAL", "500ms"),
            ("JWKS_MAX_AGE", "1s"),
            ("KEY_PUBLISH_DELAY", "2s"),
        ],
    )
    .await;

    // Both at once: the migrations and the key bootstrap race, and must not clash.
    let mut replica_a = Service::start("auth-server", dir.path(), &env);
    let mut replica_b = Service::start("auth-server", dir.path(), &env);
    replica_a.wait_ready().await;
    replica_b.wait_ready().await;
    let (a, b) = (replica_a.url.clone(), replica_b.url.clone());
    let first_kids = jwks_kids(&http, &a).await;
    assert_eq!(first_kids.len(), 1, "one seeded key: {first_kids:?}");
    assert_eq!(jwks_kids(&http, &b).await, first_kids);

    let balancer = Nginx::start(
        "auth-replicas.conf.template",
        &[
            ("AUTH_REPLICA_A", a.trim_start_matches("http://").to_owned()),
            ("AUTH_REPLICA_B", b.trim_start_matches("http://").to_owned()),
            // Two replicas: B takes the third share.
            ("AUTH_REPLICA_C", b.trim_start_matches("http://").to_owned()),
        ],
    )
    .await;

    // Sign up on one, log in on the other, and through the balancer.
    assert_eq!(
        sign_up(&http, &a, "shared@example.com").await,
        StatusCode::ACCEPTED
    );
    // The second replica answers a taken address like any other (no
    // enumeration); logging in there below shows it sees the first's user.
    assert_eq!(
        sign_up(&http, &b, "shared@example.com").await,
        StatusCode::ACCEPTED
    );
    let on_b = log_in_for(&http, &b, "shared@example.com", Some(ACCOUNT_AUDIENCE)).await;
    let on_b_for_services = log_in(&http, &b, "shared@example.com").await;
    for _ in 0..4 {
        log_in(&http, &balancer.url, "shared@example.com").await;
    }
    let me = http
        .get(format!("{a}/api/v1/users/me"))
        .bearer_auth(on_b["access_token"].as_str().expect("token"))
        .send()
        .await
        .expect("me");
    assert_eq!(me.status(), StatusCode::OK, "a token from B is good on A");

    // One refresh token, presented to both replicas at once, eight times.
    assert_eq!(
        sign_up(&http, &b, "race@example.com").await,
        StatusCode::ACCEPTED
    );
    let session = log_in(&http, &a, "race@example.com").await;
    let presented = session["refresh_token"].as_str().expect("rt").to_owned();
    let racers: Vec<_> = (0..8)
        .map(|i| {
            let (http, presented) = (http.clone(), presented.clone());
            let target = match i % 4 {
                0 | 1 => a.clone(),
                2 => b.clone(),
                _ => balancer.url.clone(),
            };
            tokio::spawn(async move { refresh(&http, &target, &presented).await })
        })
        .collect();
    let mut successors = HashSet::new();
    for racer in racers {
        let (status, body) = racer.await.expect("racer");
        assert_eq!(status, StatusCode::OK, "{body}");
        successors.insert(body["refresh_token"].as_str().expect("rt").to_owned());
    }
    assert_eq!(
        successors.len(),
        1,
        "one rotation won; the others, inside the grace window, got its result"
    );
    let db = sea_orm::Database::connect(&database_url).await.expect("db");
    let rows = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT count(*) FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id \
             JOIN users u ON u.id = s.user_id WHERE u.email = 'race@example.com'",
        ))
        .await
        .expect("query")
        .expect("row")
        .try_get_by_index::<i64>(0)
        .expect("count");
    assert_eq!(rows, 2, "the first token and exactly one successor");
    let successor = successors.into_iter().next().expect("one");
    let (status, _) = refresh(&http, &b, &successor).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the winner's token works on either replica"
    );

    // Rotate once, from the command line: both replicas publish the new key,
    // then both sign with it.
    let rotated = run_command("auth-server", dir.path(), &env, &["keys", "rotate"]);
    let printed = String::from_utf8_lossy(&rotated.stdout).into_owned();
    let new_kid = printed
        .split("published ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("expected `published <kid>; …`, got {printed}"))
        .to_owned();
    assert!(!first_kids.contains(&new_kid));
    for replica in [&a, &b] {
        eventually(&format!("{replica} publishes {new_kid}"), || {
            let (http, replica, new_kid) = (http.clone(), replica.clone(), new_kid.clone());
            async move { jwks_kids(&http, &replica).await.contains(&new_kid) }
        })
        .await;
    }
    for replica in [&a, &b] {
        eventually(&format!("{replica} signs with {new_kid}"), || {
            let (http, replica, new_kid) = (http.clone(), replica.clone(), new_kid.clone());
            async move {
                let tokens = log_in(&http, &replica, "shared@example.com").await;
                kid_of(tokens["access_token"].as_str().expect("token")) == new_kid
            }
        })
        .await;
    }
    // Tokens signed with the old key still verify on both while it is retired.
    for replica in [&a, &b] {
        let verified = http
            .get(format!("{replica}/api/v1/auth/verify"))
            .bearer_auth(on_b_for_services["access_token"].as_str().expect("token"))
            .send()
            .await
            .expect("verify");
        assert_eq!(verified.status(), StatusCode::OK);
    }
    for replica in [&replica_a, &replica_b] {
        let errors = replica.errors_logged();
        assert!(errors.is_empty(), "{errors:#?}");
    }
}

/// A login attempt through `url` as client `ip` (nginx passes the address
/// on in X-Forwarded-For; the replicas trust nginx).
async fn login_from(http: &reqwest::Client, url: &str, ip: &str, password: &str) -> StatusCode {
    http.post(format!("{url}/api/v1/auth/login"))
        .header("x-forwarded-for", ip)
        .json(&serde_json::json!({ "email": "three@example.com", "password": password }))
        .send()
        .await
        .map_or(StatusCode::BAD_GATEWAY, |r| r.status())
}

/// What the load run saw.
#[derive(Default, Debug)]
struct LoadCounts {
    ok: u64,
    /// Answers that came from the balancer, not a replica (502, 503, 504),
    /// or no answer at all: each was retried once.
    balancer_failures: u64,
    /// Retries that failed too: requests lost.
    lost: u64,
    /// Successful answers after the kill.
    ok_after_kill: u64,
}

/// Three replicas behind nginx on one PostgreSQL database give the
/// guarantees of one server: a 5/min sign-in limit allows 5 in all (not 15);
/// a logout on one replica is refused by forward-auth on another within a
/// second; and killing a replica under load loses no request (the balancer
/// retries what never reached it; what was in flight on it is retried by
/// the client, and counted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(signet_postgres, signet_nginx)),
    ignore = "needs PostgreSQL and nginx: install them (Debian: postgresql, nginx) or set TEST_DATABASE_URL and NGINX_BIN"
)]
async fn three_replicas_behind_nginx_keep_the_guarantees_of_one_under_a_replica_failure() {
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Instant;

    let http = reqwest::Client::new();
    let dir = signet_e2e::shared_tempdir();
    // The limit under test.
    let (_, env) = replica_settings(&dir, "three", &[("RATE_LIMIT_LOGIN_PER_IP", "5/1m")]).await;
    let mut replicas: Vec<Service> = (0..3)
        .map(|_| Service::start("auth-server", dir.path(), &env))
        .collect();
    for replica in &mut replicas {
        replica.wait_ready().await;
    }
    let urls: Vec<String> = replicas.iter().map(|r| r.url.clone()).collect();
    let address = |i: usize| urls[i].trim_start_matches("http://").to_owned();
    let balancer = Nginx::start(
        "auth-replicas.conf.template",
        &[
            ("AUTH_REPLICA_A", address(0)),
            ("AUTH_REPLICA_B", address(1)),
            ("AUTH_REPLICA_C", address(2)),
        ],
    )
    .await;
    assert_eq!(
        sign_up(&http, &urls[0], "three@example.com").await,
        StatusCode::ACCEPTED
    );

    // 1. Fifteen guesses from one address, spread over the three replicas
    // by the balancer: five are checked, ten refused.
    let mut statuses = Vec::new();
    for _ in 0..15 {
        statuses.push(login_from(&http, &balancer.url, "198.51.100.7", "a guess").await);
    }
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((checked, refused), (5, 10), "{statuses:?}");

    // 2. A logout on the first replica; forward-auth on the second.
    let session = log_in(&http, &urls[0], "three@example.com").await;
    let token = session["access_token"].as_str().expect("token").to_owned();
    let verify_on = |url: &str| {
        http.get(format!("{url}/api/v1/auth/verify"))
            .bearer_auth(&token)
            .send()
    };
    assert_eq!(
        verify_on(&urls[1]).await.expect("verify").status(),
        StatusCode::OK
    );
    let logout = http
        .post(format!("{}/api/v1/auth/logout", urls[0]))
        .bearer_auth(&token)
        .send()
        .await
        .expect("logout");
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let logged_out = Instant::now();
    while verify_on(&urls[1]).await.expect("verify").status() != StatusCode::UNAUTHORIZED {
        assert!(
            logged_out.elapsed() < Duration::from_secs(1),
            "the second replica still accepts a token logged out on the first"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let refused_after = logged_out.elapsed();
    println!("logout on A refused by forward-auth on B after {refused_after:?}");

    // 3. Load through the balancer (forward-auth checks and logins, each
    // login from its own address so the limit above stays out of the way);
    // the third replica is killed in the middle of it.
    let live = log_in(&http, &balancer.url, "three@example.com").await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let stop = Arc::new(AtomicBool::new(false));
    let killed = Arc::new(AtomicBool::new(false));
    let counts = Arc::new(Mutex::new(LoadCounts::default()));
    let next_ip = Arc::new(AtomicU32::new(0));
    let workers: Vec<_> = (0..6)
        .map(|worker| {
            let (http, url, live) = (http.clone(), balancer.url.clone(), live.clone());
            let (stop, killed, counts, next_ip) = (
                stop.clone(),
                killed.clone(),
                counts.clone(),
                next_ip.clone(),
            );
            tokio::spawn(async move {
                let mut round = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    round += 1;
                    let login = (worker + round as usize).is_multiple_of(3);
                    let ip = std::net::Ipv4Addr::from(
                        0x0A00_0000 + next_ip.fetch_add(1, Ordering::Relaxed),
                    );
                    let attempt = || async {
                        if login {
                            login_from(&http, &url, &ip.to_string(), signet_e2e::PASSWORD).await
                        } else {
                            http.get(format!("{url}/api/v1/auth/verify"))
                                .bearer_auth(&live)
                                .send()
                                .await
                                .map_or(StatusCode::BAD_GATEWAY, |r| r.status())
                        }
                    };
                    let from_balancer = |s: StatusCode| {
                        matches!(
                            s,
                            StatusCode::BAD_GATEWAY
                                | StatusCode::SERVICE_UNAVAILABLE
                                | StatusCode::GATEWAY_TIMEOUT
                        )
                    };
                    let first = attempt().await;
                    let status = if from_balancer(first) {
                        counts.lock().expect("counts").balancer_failures += 1;
                        attempt().await
                    } else {
                        first
                    };
                    let mut counts = counts.lock().expect("counts");
                    if status == StatusCode::OK {
                        counts.ok += 1;
                        if killed.load(Ordering::Relaxed) {
                            counts.ok_after_kill += 1;
                        }
                    } else {
                        assert!(from_balancer(status), "a replica answered {status}");
                        counts.lost += 1;
                    }
                }
            })
        })
        .collect();
    // Paced by answers, not by time: the kill comes after 500 answers
    // (all three replicas serving), the load stops 1,000 answers later.
    let answered = |after_kill: bool| {
        let counts = counts.lock().expect("counts");
        if after_kill {
            counts.ok_after_kill
        } else {
            counts.ok
        }
    };
    let wait_for = |after_kill: bool, target: u64| async move {
        let deadline = Instant::now() + Duration::from_secs(60);
        while answered(after_kill) < target {
            assert!(Instant::now() < deadline, "the load stalled");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    wait_for(false, 500).await;
    replicas[2].kill();
    killed.store(true, Ordering::Relaxed);
    wait_for(true, 1000).await;
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.expect("worker");
    }
    let counts = counts.lock().expect("counts");
    println!("load through the balancer, one replica killed: {counts:?}");
    assert_eq!(counts.lost, 0, "{counts:?}");
    assert!(counts.ok_after_kill >= 1000, "{counts:?}");
    for replica in &replicas[..2] {
        let errors = replica.errors_logged();
        assert!(errors.is_empty(), "{errors:#?}");
    }
}
