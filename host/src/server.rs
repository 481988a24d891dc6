//! `shopbridge serve`: wires the configuration, the database, the plugins,
//! the HTTP API and the workers together, and shuts them down in order
//! (stop accepting, finish requests, finish or hand back jobs).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::watch;

use crate::api::{self, AppState};
use crate::config::Config;
use crate::jobs::Workers;
use crate::lifecycle;
use crate::metrics::Metrics;
use crate::registry::{Registry, RegistryError};
use crate::runtime::{PluginError, Runtime, RuntimeConfig};
use crate::store::{Backend, Store, StoreError};

/// Why the server could not start or stopped on an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The wasm runtime.
    #[error("wasm runtime: {0}")]
    Runtime(#[from] PluginError),
    /// A plugin.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The listening socket or the HTTP server.
    #[error("HTTP server on {address}: {source}")]
    Http {
        /// Where.
        address: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The webhook client.
    #[error("HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Runs the server until `shutdown` resolves. `on_listening` is told the
/// bound address (useful with port 0).
pub async fn serve(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    // One process per SQLite file, held until this function returns.
    let _lock = crate::store::ProcessLock::acquire(&config.server.database)?;
    let store = Store::connect(&config.server.database).await?;
    if store.backend() == Backend::Sqlite {
        // One process per SQLite file (locked above): leases left by a
        // crash are ours.
        let released = store.release_leases(None).await?;
        if released > 0 {
            tracing::info!(
                released,
                "jobs left running by the last process are queued again"
            );
        }
        // A sync is not resumed: one the last process was running is failed,
        // and the next one runs normally.
        let interrupted = store.fail_interrupted_syncs().await?;
        if interrupted > 0 {
            tracing::warn!(
                interrupted,
                "catalog syncs interrupted by the last stop are marked failed"
            );
        }
    }
    let runtime = Arc::new(Runtime::new(&RuntimeConfig::default())?);
    let registry = Arc::new(Registry::load_cached(&config, runtime, &store).await?);
    // The versions activated through the API win over the file's.
    let switched = lifecycle::apply_active(&store, &registry)
        .await
        .map_err(|source| RegistryError::Load {
            name: "(activated versions)".into(),
            path: "the store".into(),
            source,
        })?;
    if switched > 0 {
        tracing::info!(
            switched,
            "bindings run the plugin versions activated in the store"
        );
    }
    let metrics = Arc::new(Metrics::new());
    let ready = Arc::new(AtomicBool::new(true));
    let state = AppState {
        store: store.clone(),
        registry: registry.clone(),
        metrics: metrics.clone(),
        replay_window: config.server.replay_window,
        max_body_bytes: config.server.max_body_bytes,
        max_plugin_bytes: config.server.max_plugin_bytes,
        plugin_jobs: Arc::new(tokio::sync::Semaphore::new(
            config.server.plugin_jobs.max(1),
        )),
        plugin_job_wait: config.server.plugin_job_wait,
        ready: ready.clone(),
    };

    let address = config.server.listen;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|source| ServeError::Http { address, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| ServeError::Http { address, source })?;
    tracing::info!(address = %bound, database = ?store.backend(), "listening");
    on_listening(bound);

    let (stop_workers, stopped) = watch::channel(false);
    let watcher = tokio::spawn(lifecycle::watch(
        store.clone(),
        registry.clone(),
        stopped.clone(),
    ));
    let workers = Arc::new(Workers::new(
        store,
        registry,
        metrics,
        config.server.clone(),
    )?);
    let worker_task = tokio::spawn(workers.run(stopped));

    axum::serve(listener, api::router(state))
        .with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down: no new requests");
            ready.store(false, Ordering::Relaxed);
        })
        .await
        .map_err(|source| ServeError::Http {
            address: bound,
            source,
        })?;
    let _ = stop_workers.send(true);
    let _ = watcher.await;
    match worker_task.await {
        Ok(result) => result?,
        Err(e) => tracing::error!(error = %e, "the workers panicked"),
    }
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
