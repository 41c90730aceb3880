//! Start-up: connect, migrate, make sure an admin exists, bind, and serve until SIGINT/SIGTERM.
//!
//! The service listens on `server.port` in plain HTTP, or — with `[server.tls] enabled` — in HTTPS
//! (rustls with the *ring* provider, the same rustls the database, mail and HTTP clients use), plus
//! then an optional plain-HTTP listener that redirects every request to HTTPS. Every request first
//! passes [`crate::forwarded::believe`], which decides the client's address and scheme.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{header, HeaderMap, HeaderValue, StatusCode, Uri},
    response::{IntoResponse, Response},
    Router,
};
use hyper_util::rt::{TokioIo, TokioTimer};
use sea_orm::DatabaseConnection;
use tokio::{net::TcpListener, sync::watch};
use tokio_rustls::{
    rustls::{
        self,
        pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer},
    },
    TlsAcceptor,
};
use tower::ServiceExt;

use crate::{
    app::users,
    config::{ConfigError, ServerSettings, Settings},
    forwarded::{OverTls, TrustedProxies},
    state::AppState,
    store,
};

/// A client that opens a connection and never finishes the TLS handshake gives up its socket
/// after this long (otherwise idle sockets could exhaust the process's file descriptors).
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A bound, ready-to-run service (tests bind port 0 and read the port).
pub struct Application {
    listener: TcpListener,
    /// Present when the service serves HTTPS itself.
    tls: Option<TlsAcceptor>,
    /// The plain-HTTP listener that redirects to HTTPS (`server.tls.redirect_http`).
    redirect: Option<TcpListener>,
    state: AppState,
}

impl Application {
    /// Connects and migrates the database, then binds the listener.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = prepare_database(&settings).await?;
        Self::build_with_db(settings, db).await
    }

    /// Binds the listener(s) on an already migrated database; with TLS enabled, reads the
    /// certificate and key first (an unreadable one is a [`ConfigError`] naming its key).
    pub async fn build_with_db(settings: Settings, db: DatabaseConnection) -> anyhow::Result<Self> {
        let tls = if settings.server.tls.enabled {
            Some(TlsAcceptor::from(Arc::new(tls_config(&settings.server)?)))
        } else {
            None
        };
        let listener = bind(&settings.server.host, settings.server.port).await?;
        let redirect = match &tls {
            Some(_) if settings.server.tls.redirect_http => {
                Some(bind(&settings.server.host, settings.server.tls.redirect_port).await?)
            }
            _ => None,
        };
        let state = AppState::new(db, settings);
        // Books written by an older version are corrected before the first request (idempotent; see repairs).
        crate::app::repairs::restore_restructured_interest(
            &state.db,
            &state.ctx.policy.classification,
            &*state.ctx.clock,
        )
        .await
        .map_err(|e| anyhow::anyhow!("correcting restructured loans: {e}"))?;
        Ok(Self {
            listener,
            tls,
            redirect,
            state,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        local_addr(&self.listener)
    }

    /// Whether [`Self::local_addr`] serves HTTPS.
    pub fn is_https(&self) -> bool {
        self.tls.is_some()
    }

    /// The address of the plain-HTTP redirect to HTTPS, when there is one.
    pub fn redirect_addr(&self) -> Option<SocketAddr> {
        self.redirect.as_ref().map(local_addr)
    }

    /// The shared state (for tests and jobs).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGINT or SIGTERM, finishing requests in flight.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let trusted = TrustedProxies::parse(&self.state.settings.server.trusted_proxies).map_err(
            |reason| ConfigError::Invalid {
                key: "server.trusted_proxies",
                reason,
            },
        )?;
        let https_port = self.local_addr().port();
        let app = crate::http::router(self.state).layer(axum::middleware::from_fn_with_state(
            trusted,
            crate::forwarded::believe,
        ));
        // One signal stops every listener.
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(async move {
            shutdown_signal().await;
            let _ = stop.send(true);
        });
        let redirect = self.redirect.map(|listener| {
            let stopped = stopped.clone();
            let redirect = Router::new()
                .fallback(to_https)
                .with_state(https_port)
                .into_make_service();
            tokio::spawn(async move {
                axum::serve(listener, redirect)
                    .with_graceful_shutdown(wait_for_stop(stopped))
                    .await
            })
        });
        let served = match self.tls {
            Some(acceptor) => serve_tls(self.listener, acceptor, app, stopped).await,
            None => axum::serve(
                self.listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(wait_for_stop(stopped))
            .await
            .map_err(anyhow::Error::from),
        };
        if let Some(redirect) = redirect {
            redirect.await??;
        }
        served
    }
}

async fn bind(host: &str, port: u16) -> anyhow::Result<TcpListener> {
    let address = format!("{host}:{port}");
    TcpListener::bind(&address)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e}"))
}

fn local_addr(listener: &TcpListener) -> SocketAddr {
    listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
}

/// The rustls configuration from `server.tls`: the certificate chain and key read from their PEM
/// files; an unreadable or unusable file is an error naming its configuration key and path.
pub fn tls_config(server: &ServerSettings) -> Result<rustls::ServerConfig, ConfigError> {
    let tls = &server.tls;
    let unusable = |key: &'static str, path: &std::path::Path, why: String| ConfigError::Invalid {
        key,
        reason: format!("{}: {why}", path.display()),
    };
    let read = |key: &'static str, path: &std::path::Path| {
        std::fs::read(path).map_err(|e| unusable(key, path, format!("cannot be read: {e}")))
    };
    let cert_pem = read("server.tls.cert_path", &tls.cert_path)?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            unusable(
                "server.tls.cert_path",
                &tls.cert_path,
                format!("not PEM: {e}"),
            )
        })?;
    if chain.is_empty() {
        return Err(unusable(
            "server.tls.cert_path",
            &tls.cert_path,
            "holds no CERTIFICATE section".into(),
        ));
    }
    let key_pem = read("server.tls.key_path", &tls.key_path)?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        unusable(
            "server.tls.key_path",
            &tls.key_path,
            format!("holds no usable PRIVATE KEY section: {e}"),
        )
    })?;
    // The provider the rest of the process's rustls uses (sqlx, lettre, reqwest): ring.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| unusable("server.tls.cert_path", &tls.cert_path, e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| {
            unusable(
                "server.tls.key_path",
                &tls.key_path,
                format!(
                    "does not go with the certificate in {}: {e}",
                    tls.cert_path.display()
                ),
            )
        })?;
    // The router speaks HTTP/1.1 only.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Accepts TLS connections until `stopped`, then waits for the requests in flight.
async fn serve_tls(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    app: Router,
    stopped: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = wait_for_stop(stopped.clone()) => break,
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let stream =
                match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(%peer, "TLS handshake timed out");
                        return;
                    }
                };
            let service =
                hyper::service::service_fn(move |mut request: Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(peer));
                    request.extensions_mut().insert(OverTls);
                    app.clone().oneshot(request)
                });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .serve_connection(TokioIo::new(stream), service);
            if let Err(e) = watcher.watch(connection).await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// The redirect listener's one answer: 308 to the same host, path and query over HTTPS.
async fn to_https(State(https_port): State<u16>, headers: HeaderMap, uri: Uri) -> Response {
    let Some(host) = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .and_then(host_without_port)
    else {
        return (
            StatusCode::BAD_REQUEST,
            "Thiếu tiêu đề Host; hãy mở địa chỉ https:// của dịch vụ. / Missing Host header; open the service's https:// address.",
        )
            .into_response();
    };
    let port = if https_port == 443 {
        String::new()
    } else {
        format!(":{https_port}")
    };
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    match HeaderValue::from_str(&format!("https://{host}{port}{path}")) {
        Ok(location) => (
            StatusCode::PERMANENT_REDIRECT,
            [(header::LOCATION, location)],
        )
            .into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

/// `example.vn` from `example.vn:80`, `[::1]` from `[::1]:80`; `None` for anything that is not a
/// plain host name or address (so the redirect never carries what a client smuggled in).
fn host_without_port(host: &str) -> Option<&str> {
    let name = if host.starts_with('[') {
        &host[..=host.find(']')?]
    } else {
        host.split(':').next()?
    };
    let plain = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
    (!name.is_empty() && plain).then_some(name)
}

/// Resolves once the stop signal has been sent (or its sender is gone).
async fn wait_for_stop(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}

/// Connects, migrates and initialises the fund state (business date): what every command that
/// touches the database does first.
pub async fn prepare_database(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let db = store::connect(&settings.database).await?;
    store::migrate(&db).await?;
    crate::app::fund::ensure_state(&db, settings, &crate::app::context::SystemClock).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_redirect_keeps_only_a_plain_host() {
        assert_eq!(
            host_without_port("quy.example.vn:80"),
            Some("quy.example.vn")
        );
        assert_eq!(host_without_port("quy.example.vn"), Some("quy.example.vn"));
        assert_eq!(host_without_port("[::1]:8080"), Some("[::1]"));
        assert_eq!(host_without_port("192.168.1.10"), Some("192.168.1.10"));
        assert_eq!(host_without_port("evil.vn/path"), None);
        assert_eq!(host_without_port("a@b"), None);
        assert_eq!(host_without_port(""), None);
    }
}
