//! Revocations reach every replica at once on PostgreSQL: the transaction
//! that records a security event also sends `NOTIFY signet_security_events`
//! (delivered at commit, only if it commits), and each replica `LISTEN`s on
//! its own connection. A notification wakes this replica's followers (the
//! forward-auth verifier, long-polling feed readers), which read the table
//! from their cursor, so the table stays the truth and a notification
//! carries nothing. After a lost connection the followers read it again
//! (the catch-up path), and while no listener is connected they fall back
//! to polling every [`super::HUB_TICK`]. SQLite is one process: it polls.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement};
use secrecy::{ExposeSecret as _, SecretString};
use tokio::sync::watch;

/// The channel events are announced on.
pub const CHANNEL: &str = "signet_security_events";

/// With a listener connected, the followers still read the table this
/// often: a notification lost in a way the listener cannot see (behind
/// PgBouncer in transaction mode, `LISTEN` succeeds and nothing ever
/// arrives) costs at most this much delay, the 1 s that revocations are
/// promised in.
pub const SAFETY_READ: Duration = Duration::from_secs(1);

/// Queue the notification inside `txn`, the transaction recording events.
pub async fn announce(txn: &impl ConnectionTrait) -> Result<(), DbErr> {
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_notify($1, '')",
            [CHANNEL.into()],
        ))
        .await?;
    }
    Ok(())
}

/// Why a follower looks at the table now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// A notification came, or the listener (re)connected and may have missed some.
    Notified,
    /// The poll interval passed.
    Tick,
}

/// This replica's wake-ups: one listener task feeds them, any number of
/// followers wait on them.
#[derive(Clone)]
pub struct Wakeups {
    sender: Arc<watch::Sender<u64>>,
    listening: Arc<AtomicBool>,
}

impl Default for Wakeups {
    fn default() -> Self {
        Self {
            sender: Arc::new(watch::channel(0).0),
            listening: Arc::default(),
        }
    }
}

impl Wakeups {
    /// Whether a listener is connected (then polling slows to [`SAFETY_READ`]).
    pub fn listening(&self) -> bool {
        self.listening.load(Ordering::Relaxed)
    }

    fn wake(&self) {
        self.sender.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A follower's view: [`Follower::next`] says when to read the table.
    pub fn follower(&self) -> Follower {
        Follower {
            wakeups: self.clone(),
            receiver: self.sender.subscribe(),
            tick: {
                let mut tick = tokio::time::interval(super::HUB_TICK);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                tick
            },
            since_read: Duration::MAX,
        }
    }

    /// Listen on [`CHANNEL`] through a connection of its own to
    /// `database_url` until `stop` turns true, reconnecting with back-off
    /// (1 s doubling to 30 s).
    pub fn spawn_listener(&self, database_url: SecretString, mut stop: watch::Receiver<bool>) {
        let wakeups = self.clone();
        tokio::spawn(async move {
            let mut backoff = Duration::from_secs(1);
            loop {
                let session = wakeups.listen(database_url.expose_secret());
                let error = tokio::select! {
                    error = session => error,
                    _ = stop.changed() => return,
                };
                wakeups.listening.store(false, Ordering::Relaxed);
                tracing::warn!(%error, retry_in = ?backoff, "security-event listener lost; replicas' revocations are polled meanwhile");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stop.changed() => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        });
    }

    /// One listening session: returns only with the error that ended it.
    async fn listen(&self, url: &str) -> sea_orm::sqlx::Error {
        use sea_orm::sqlx::postgres::PgListener;
        let mut listener = match PgListener::connect(url).await {
            Ok(listener) => listener,
            Err(error) => return error,
        };
        if let Err(error) = listener.listen(CHANNEL).await {
            return error;
        }
        self.listening.store(true, Ordering::Relaxed);
        tracing::info!("listening for security events of every replica");
        // Whatever was recorded while no one listened is read now.
        self.wake();
        loop {
            match listener.try_recv().await {
                Ok(Some(_)) => self.wake(),
                // Reconnected inside sqlx: some may be lost; read them all.
                Ok(None) => self.wake(),
                Err(error) => return error,
            }
        }
    }
}

/// When one follower should read the table.
pub struct Follower {
    wakeups: Wakeups,
    receiver: watch::Receiver<u64>,
    tick: tokio::time::Interval,
    since_read: Duration,
}

impl Follower {
    /// Wait for the next reason to read: a wake-up, or a tick when no
    /// listener is connected (or [`SAFETY_READ`] passed without a read).
    pub async fn next(&mut self) -> Wake {
        loop {
            tokio::select! {
                // Never an error: `self.wakeups` keeps the sender alive.
                _ = self.receiver.changed() => {
                    self.since_read = Duration::ZERO;
                    return Wake::Notified;
                }
                _ = self.tick.tick() => {
                    self.since_read = self.since_read.saturating_add(super::HUB_TICK);
                    if !self.wakeups.listening() || self.since_read >= SAFETY_READ {
                        self.since_read = Duration::ZERO;
                        return Wake::Tick;
                    }
                }
            }
        }
    }
}
