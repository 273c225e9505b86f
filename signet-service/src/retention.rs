//! Deleting what no one needs any more, in bounded batches, by one replica at a time.
//!
//! Every service that keeps history (sessions, audit events, scrape runs)
//! purges it through [`purge_in_batches`]: each batch is one short
//! transaction deleting at most `batch` rows, so a purge never holds a long
//! lock or a huge transaction; on PostgreSQL each batch first takes a
//! transaction-level advisory lock named after the purge, and a replica that
//! finds it taken skips this round (another is doing the work).

use std::future::Future;
use std::time::Duration;

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QuerySelect, QueryTrait, Statement,
};

/// At most this many batches per purge run: a huge backlog is worked off over
/// several runs instead of in one long burst.
pub const MAX_BATCHES_PER_RUN: u32 = 100;

/// Delete the rows of `E` that match `condition`, `batch` at a time, until
/// none match or [`MAX_BATCHES_PER_RUN`] batches are done. `id` is the
/// primary-key column. Returns how many rows were deleted (0 also when another
/// replica holds the purge lock).
pub async fn purge_in_batches<E>(
    db: &DatabaseConnection,
    lock_name: &str,
    id: E::Column,
    condition: Condition,
    batch: u64,
) -> Result<u64, DbErr>
where
    E: EntityTrait,
{
    let mut deleted = 0;
    for _ in 0..MAX_BATCHES_PER_RUN {
        let txn = crate::db::begin_write(db).await?;
        if db.get_database_backend() == DatabaseBackend::Postgres {
            let locked = txn
                .query_one_raw(Statement::from_sql_and_values(
                    DatabaseBackend::Postgres,
                    "SELECT pg_try_advisory_xact_lock($1) AS locked",
                    [crate::db::lock_id(lock_name).into()],
                ))
                .await?
                .map(|row| row.try_get::<bool>("", "locked"))
                .transpose()?
                .unwrap_or(false);
            if !locked {
                txn.rollback().await?;
                return Ok(deleted);
            }
        }
        let ids = E::find()
            .select_only()
            .column(id)
            .filter(condition.clone())
            .limit(batch)
            .into_query();
        let result = E::delete_many()
            .filter(id.in_subquery(ids))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        deleted += result.rows_affected;
        if result.rows_affected < batch {
            break;
        }
    }
    Ok(deleted)
}

/// Run `job` every `interval` (the first run one interval after the start),
/// until `stop` turns true. Errors are the job's to log.
pub fn spawn_every<F, Fut>(
    interval: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
    mut job: F,
) -> tokio::task::JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => job().await,
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        break;
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    #[tokio::test(start_paused = true)]
    async fn a_scheduled_job_runs_once_per_interval_and_stops_when_told() {
        let runs = Arc::new(AtomicU32::new(0));
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let counter = runs.clone();
        let handle = spawn_every(Duration::from_secs(3600), stopped, move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        tokio::time::sleep(Duration::from_secs(3599)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 0, "not at start");
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        tokio::time::sleep(Duration::from_secs(3 * 3600)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 4);
        stop.send(true).expect("send");
        handle.await.expect("task ends");
    }
}
