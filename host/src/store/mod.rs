//! Durable state: orders, supplier orders, jobs, status history and events,
//! in SQLite (the default: one file, WAL, fsync on every commit) or
//! PostgreSQL (several `serve` processes sharing the work), through sqlx's
//! `Any` driver so that both run the very same queries.
//!
//! The two backends differ in three places only, each marked here: the
//! migrations (`migrations/sqlite`, `migrations/postgres`: identity columns),
//! how a write transaction begins (`BEGIN IMMEDIATE` on SQLite, so that a
//! read-then-write transaction never fails on a stale snapshot), and job
//! leasing (`FOR UPDATE SKIP LOCKED` on PostgreSQL).
//!
//! Times are Unix milliseconds; JSON documents are stored as text.

mod catalog;
mod events;
mod intake;
mod jobs;
mod orders;
mod plugins;
mod tapes;

use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub use catalog::{CatalogChange, CatalogWrite, ChangePage, SyncCounts, SyncEnd, SyncRun};
pub(crate) use events::rfc3339;
pub use events::{Event, EventPage};
pub use intake::{IntakeAnswer, IntakeOutcome, NewOrder, NewSupplierOrder};
pub use jobs::{Job, JobKind};
pub use orders::{
    OpenSupplierOrder, OrderRecord, Refusal, StatusEntry, SupplierOrderRecord, SupplierOrderState,
    Transition, WorkOrder, idempotency_key,
};
pub use plugins::{ActivePlugin, NewPluginVersion, PluginVersion, VersionInsert};
pub use tapes::{DispatchTape, NewTape, TAPES_KEPT};

/// What can go wrong with the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL is neither `sqlite:` nor `postgres:`.
    #[error("database URL '{0}' is neither sqlite://… nor postgres://…")]
    UnsupportedUrl(String),
    /// The database said no.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database folder could not be created.
    #[error("creating {path}: {source}")]
    Folder {
        /// The folder.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A stored document is not what this version writes.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// The group-commit writer has stopped (the process is shutting down).
    #[error("the order writer has stopped")]
    WriterStopped,
    /// Another process serves this SQLite file.
    #[error(
        "another shopbridge process serves {0} (one process per SQLite file: use PostgreSQL \
         for several)"
    )]
    InUse(String),
    /// The lock file could not be opened.
    #[error("locking {path}: {source}")]
    Lock {
        /// The lock file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// The lock a serving process holds on its SQLite file for its lifetime:
/// one process per file, since each takes every job lease of the file as
/// its own at start. Released when dropped, or when the process dies.
#[derive(Debug)]
pub struct ProcessLock {
    _file: std::fs::File,
}

impl ProcessLock {
    /// Locks the SQLite file of `url` (a `<file>.lock` beside it); `None`
    /// for PostgreSQL and in-memory databases, which need no lock.
    pub fn acquire(url: &str) -> Result<Option<ProcessLock>, StoreError> {
        let Some(path) = sqlite_file(url) else {
            return Ok(None);
        };
        let lock_path = format!("{path}.lock");
        let lock_error = |source| StoreError::Lock {
            path: lock_path.clone(),
            source,
        };
        if let Some(folder) = std::path::Path::new(&lock_path).parent()
            && !folder.as_os_str().is_empty()
        {
            std::fs::create_dir_all(folder).map_err(lock_error)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(lock_error)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(ProcessLock { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::InUse(path)),
            Err(std::fs::TryLockError::Error(e)) => Err(lock_error(e)),
        }
    }
}

/// The file of a `sqlite:` URL, unless it is in memory.
fn sqlite_file(url: &str) -> Option<String> {
    let path = url
        .strip_prefix("sqlite:")?
        .trim_start_matches("//")
        .split('?')
        .next()
        .unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| path.to_owned())
}

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, one file, one process.
    Sqlite,
    /// PostgreSQL, any number of processes.
    Postgres,
}

/// The database, shared by the API and the workers.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    intake: intake::Intake,
}

impl Store {
    /// Connects (creating the SQLite file and its folder if needed) and
    /// brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        let url = match backend {
            Backend::Sqlite => sqlite_url(url)?,
            Backend::Postgres => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    // One writer at a time anyway; a few readers beside it.
                    .max_connections(8)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // WAL: readers never block the writer. FULL: the
                            // WAL is fsynced at every commit, so an
                            // acknowledged order survives a power cut.
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                                 PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?
            }
        };
        match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await?,
            Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await?,
        }
        let intake = intake::Intake::start(pool.clone(), backend);
        Ok(Store {
            pool,
            backend,
            intake,
        })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Begins a transaction that will write.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        Ok(begin_write(&self.pool, self.backend).await?)
    }
}

async fn begin_write(
    pool: &AnyPool,
    backend: Backend,
) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
    match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
        Backend::Postgres => pool.begin().await,
    }
}

/// `sqlite://data/x.db` → the same with `mode=rwc`, its folder created.
fn sqlite_url(url: &str) -> Result<String, StoreError> {
    let path = url
        .trim_start_matches("sqlite:")
        .trim_start_matches("//")
        .split('?')
        .next()
        .unwrap_or_default();
    if !path.is_empty()
        && path != ":memory:"
        && let Some(folder) = std::path::Path::new(path).parent()
        && !folder.as_os_str().is_empty()
    {
        std::fs::create_dir_all(folder).map_err(|source| StoreError::Folder {
            path: folder.display().to_string(),
            source,
        })?;
    }
    Ok(if url.contains('?') {
        url.to_owned()
    } else {
        format!("{url}?mode=rwc")
    })
}

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}
