//! The job queue: dispatches, cancellations, status polls and webhooks, as
//! rows that workers lease for a while. A job is deleted in the same
//! transaction that records its outcome, so a crash at any moment leaves it
//! either done or still queued; a crashed worker's lease runs out and
//! another worker takes the job over.

use std::time::Duration;

use sqlx::{AnyConnection, Row};

use super::{Backend, Store, StoreError, now_ms};

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Submit a supplier order (target: its id).
    Dispatch,
    /// Cancel a submitted supplier order (target: its id).
    Cancel,
    /// Poll the status of a binding's open supplier orders (target: binding id).
    Poll,
    /// Deliver an event to its shop's callback URL (target: event id).
    Webhook,
    /// Run a catalog sync (target: sync run id).
    Sync,
    /// Start a binding's scheduled sync when due (target: `binding/kind`).
    Schedule,
}

impl JobKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            JobKind::Dispatch => "dispatch",
            JobKind::Cancel => "cancel",
            JobKind::Poll => "poll",
            JobKind::Webhook => "webhook",
            JobKind::Sync => "sync",
            JobKind::Schedule => "schedule",
        }
    }

    fn parse(text: &str) -> Option<JobKind> {
        Some(match text {
            "dispatch" => JobKind::Dispatch,
            "cancel" => JobKind::Cancel,
            "poll" => JobKind::Poll,
            "webhook" => JobKind::Webhook,
            "sync" => JobKind::Sync,
            "schedule" => JobKind::Schedule,
            _ => return None,
        })
    }
}

/// A leased job.
#[derive(Debug, Clone)]
pub struct Job {
    /// Row id.
    pub id: i64,
    /// What to do.
    pub kind: JobKind,
    /// On what.
    pub target: String,
    /// Times it was leased, this one included.
    pub attempts: i64,
    /// Who holds the lease.
    pub owner: String,
}

pub(super) async fn enqueue(
    conn: &mut AnyConnection,
    kind: JobKind,
    target: &str,
    run_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO jobs (kind, target, run_at) VALUES ($1, $2, $3)")
        .bind(kind.as_str())
        .bind(target)
        .bind(run_at)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes a finished job, if this worker still holds it. False when the
/// lease was lost (the job ran too long and another worker took it over).
pub(super) async fn finish(conn: &mut AnyConnection, job: &Job) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM jobs WHERE id = $1 AND lease_owner = $2")
        .bind(job.id)
        .bind(&job.owner)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

impl Store {
    /// Leases up to `limit` due jobs for `lease`.
    pub async fn lease_jobs(
        &self,
        owner: &str,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<Job>, StoreError> {
        let now = now_ms();
        let until = now + lease.as_millis() as i64;
        // PostgreSQL: several processes lease at once; SKIP LOCKED lets each
        // take different rows without waiting. SQLite: one writer at a time.
        let lock = match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE jobs SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM jobs WHERE dead = 0 AND run_at <= $3 \
                          AND (lease_until IS NULL OR lease_until < $3) \
                          ORDER BY run_at LIMIT $4 {lock}) \
             RETURNING id, kind, target, attempts"
        );
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(&sql)
            .bind(owner)
            .bind(until)
            .bind(now)
            .bind(limit as i64)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut jobs = Vec::with_capacity(rows.len());
        for row in rows {
            let kind: String = row.try_get(1)?;
            jobs.push(Job {
                id: row.try_get(0)?,
                kind: JobKind::parse(&kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("job kind '{kind}'")))?,
                target: row.try_get(2)?,
                attempts: row.try_get(3)?,
                owner: owner.to_owned(),
            });
        }
        Ok(jobs)
    }

    /// Deletes a finished job that changed nothing else.
    pub async fn finish_job(&self, job: &Job) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        finish(&mut tx, job).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Runs the job again at `run_at`, noting why.
    pub async fn retry_job(&self, job: &Job, run_at: i64, error: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE jobs SET run_at = $1, lease_owner = NULL, lease_until = NULL, last_error = $2 \
             WHERE id = $3 AND lease_owner = $4",
        )
        .bind(run_at)
        .bind(error)
        .bind(job.id)
        .bind(&job.owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Keeps holding a long job (a catalog sync) for another `lease`.
    pub async fn extend_lease(&self, job: &Job, lease: Duration) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE jobs SET lease_until = $1 WHERE id = $2 AND lease_owner = $3")
                .bind(now_ms() + lease.as_millis() as i64)
                .bind(job.id)
                .bind(&job.owner)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Runs a recurring job (a status poll) again at `run_at`.
    pub async fn reschedule_job(&self, job: &Job, run_at: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE jobs SET run_at = $1, lease_owner = NULL, lease_until = NULL, attempts = 0, \
             last_error = NULL WHERE id = $2 AND lease_owner = $3",
        )
        .bind(run_at)
        .bind(job.id)
        .bind(&job.owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Gives up on a job, keeping it (dead) for operators to see.
    pub async fn bury_job(&self, job: &Job, error: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE jobs SET dead = 1, lease_owner = NULL, lease_until = NULL, last_error = $1 \
             WHERE id = $2 AND lease_owner = $3",
        )
        .bind(error)
        .bind(job.id)
        .bind(&job.owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Hands back every job `owner` holds (graceful shutdown), or, with
    /// `None`, every lease (SQLite at start: no other process can hold one).
    pub async fn release_leases(&self, owner: Option<&str>) -> Result<u64, StoreError> {
        let done = match owner {
            Some(owner) => {
                sqlx::query(
                    "UPDATE jobs SET lease_owner = NULL, lease_until = NULL, attempts = attempts - 1 \
                     WHERE lease_owner = $1",
                )
                .bind(owner)
                .execute(&self.pool)
                .await?
            }
            None => {
                sqlx::query(
                    "UPDATE jobs SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL",
                )
                .execute(&self.pool)
                .await?
            }
        };
        Ok(done.rows_affected())
    }

    /// Makes sure a recurring job exists (one per target): a binding's
    /// status poll, or one of its sync schedules.
    pub async fn ensure_recurring_job(
        &self,
        kind: JobKind,
        target: &str,
        run_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO jobs (kind, target, run_at) VALUES ($1, $2, $3) \
             ON CONFLICT (kind, target) WHERE kind IN ('poll', 'schedule') DO NOTHING",
        )
        .bind(kind.as_str())
        .bind(target)
        .bind(run_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Jobs waiting or running, by kind, and dead ones.
    pub async fn queue_depth(&self) -> Result<Vec<(String, i64, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT kind, CAST(SUM(1 - dead) AS BIGINT), CAST(SUM(dead) AS BIGINT) FROM jobs GROUP BY kind",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }
}
