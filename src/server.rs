//! Start-up: connect, migrate, make sure an admin exists, bind, and serve until SIGINT/SIGTERM.

use std::net::SocketAddr;

use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;

use crate::{app::users, config::Settings, state::AppState, store};

/// A bound, ready-to-run service (tests bind port 0 and read the port).
pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    /// Connects and migrates the database, then binds the listener.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = prepare_database(&settings).await?;
        Self::build_with_db(settings, db).await
    }

    /// Binds the listener on an already migrated database.
    pub async fn build_with_db(settings: Settings, db: DatabaseConnection) -> anyhow::Result<Self> {
        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let listener = TcpListener::bind(&address)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e}"))?;
        let state = AppState::new(db, settings);
        // Books written by an older version are corrected before the first request (idempotent; see repairs).
        crate::app::repairs::restore_restructured_interest(&state.db)
            .await
            .map_err(|e| anyhow::anyhow!("correcting restructured loans: {e}"))?;
        Ok(Self { listener, state })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// The shared state (for tests and jobs).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGINT or SIGTERM, finishing requests in flight.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let app = crate::http::router(self.state);
        axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        Ok(())
    }
}

/// Connects, migrates and initialises the fund state (business date): what every command that
/// touches the database does first.
pub async fn prepare_database(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let db = store::connect(&settings.database).await?;
    store::migrate(&db).await?;
    crate::app::fund::ensure_state(&db, settings).await?;
    crate::app::calendar::seed(&db, settings).await?;
    Ok(db)
}

/// Creates the first admin when there is none; prints a generated password once.
pub async fn bootstrap_admin(ctx: &crate::app::context::AppCtx) -> anyhow::Result<()> {
    let from_env = std::env::var("COOPFUND_ADMIN_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty());
    let had_password = from_env.is_some();
    match users::ensure_admin(ctx, from_env)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        Some(generated) => {
            println!("Created the first admin account.  username: admin  password: {generated}");
            println!("This password is shown only once: write it down, then change it.");
        }
        None if had_password => {
            tracing::debug!("admin exists or was created from COOPFUND_ADMIN_PASSWORD")
        }
        None => {}
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
