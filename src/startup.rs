//! Builds the application the same way for `main` and for tests: open and migrate the
//! store, create the first admin if the store is empty, bind (port 0 in tests), serve.

use crate::api::state::AppState;
use crate::api::{observe, rate_limit, request_limits, rocketchat, saymon as saymon_api};
use crate::auth::password::PasswordDigest;
use crate::auth::random;
use crate::clock::now_ms;
use crate::config::{Config, ConfigError, LogFormat};
use crate::db::users::NewUser;
use crate::db::{Db, OpenError, Scope, Sql, saymon, tokens, users};
use actix_web::dev::Server;
use actix_web::middleware::{Condition, DefaultHeaders, Logger, from_fn};
use actix_web::{App, HttpServer, web};
use std::net::TcpListener;
use std::time::Duration;

/// Largest request body accepted (auth payloads are small; see spec/security.md §6.B).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Why the server could not start. Each message tells the operator what to do.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Database(#[from] OpenError),
    #[error("cannot listen on {addr}: {cause}. Set TOKEND_BIND to a free address")]
    Bind { addr: String, cause: std::io::Error },
    #[error("cannot serve metrics on {addr}: {cause}. Set TOKEND_METRICS_BIND to a free address, or unset it")]
    MetricsBind { addr: String, cause: std::io::Error },
    #[error(transparent)]
    Vault(#[from] crate::accounts::vault_key::KeyError),
    #[error(transparent)]
    Clock(#[from] crate::accounts::clock_check::ClockError),
    #[error("cannot create the first admin: {0}")]
    Bootstrap(String),
}

pub struct Application {
    port: u16,
    server: Server,
    /// The metrics listener and its port, when metrics are on.
    metrics: Option<(Server, u16)>,
    state: AppState,
}

impl Application {
    pub fn build(config: Config) -> Result<Application, StartupError> {
        let db = Db::open(&config)?;
        crate::accounts::clock_check::check_at_start(&db)?;
        let state = AppState::new(crate::accounts::Accounts::new(config, db)?);
        bootstrap_admin(&state)?;
        let addr = state.config.bind;
        let listener = TcpListener::bind(addr).map_err(|cause| StartupError::Bind { addr: addr.to_string(), cause })?;
        let port = listener.local_addr().map_err(|cause| StartupError::Bind { addr: addr.to_string(), cause })?.port();
        let data = web::Data::new(state.clone());
        // In JSON format the access line is `observe`'s, with the route pattern and request id.
        let text_log = state.config.observability.log_format == LogFormat::Text;
        let metrics = match state.config.observability.metrics_bind {
            None => None,
            Some(addr) => Some(
                crate::metrics::server::bind(addr)
                    .map_err(|cause| StartupError::MetricsBind { addr: addr.to_string(), cause })?,
            ),
        };
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
                .wrap(from_fn(rate_limit::enforce))
                .wrap(from_fn(request_limits::enforce))
                // Path only: query strings may carry credentials and are never logged, and a
                // path segment long enough to be a token is redacted too.
                .wrap(Condition::new(
                    text_log,
                    Logger::new("%a \"%{method}xi %{path}xi\" %s %b %Dms")
                        // Polled many times a second by load balancers; its failures are logged.
                        .exclude(rocketchat::ready::PATH)
                        .custom_request_replace("method", |r| r.method().to_string())
                        .custom_request_replace("path", |r| crate::logging::redact::redact_long_segments(r.path())),
                ))
                .wrap(
                    DefaultHeaders::new()
                        .add(("Cache-Control", "no-store"))
                        .add(("Pragma", "no-cache"))
                        .add(("X-Content-Type-Options", "nosniff"))
                        .add(("X-Frame-Options", "DENY"))
                        .add(("Referrer-Policy", "no-referrer")),
                )
                // Outermost: ids, metrics and the JSON access line cover every answer,
                // refusals of the limits above included.
                .wrap(from_fn(observe::observe))
                .configure(rocketchat::routes)
                .configure(saymon_api::routes)
                .configure(crate::web::routes)
                .default_service(web::to(rocketchat::fallback))
        })
        .client_request_timeout(state.config.limits.request_timeout)
        .disable_signals()
        .shutdown_timeout(30);
        if let Some(workers) = state.config.workers {
            server = server.workers(workers);
        }
        let server =
            server.listen(listener).map_err(|cause| StartupError::Bind { addr: addr.to_string(), cause })?.run();
        log::info!("tokend listening on {}:{port}, database {}", addr.ip(), state.db.describe());
        if let Some((_, metrics_port)) = &metrics {
            log::info!(
                "metrics at http://{}:{metrics_port}/metrics",
                state.config.observability.metrics_bind.map_or_else(String::new, |a| a.ip().to_string())
            );
        }
        log_create_token_mode(&state.config);
        match &state.config.smtp {
            Some(smtp) => log::info!("e-mail 2FA: codes are sent through {} as {}", smtp.redacted_url(), smtp.from()),
            None => log::info!("e-mail 2FA: unavailable (TOKEND_SMTP_URL is unset)"),
        }
        Ok(Application { port, server, metrics, state })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port serving `/metrics`, when `TOKEND_METRICS_BIND` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(_, port)| *port)
    }

    /// Serves until the server is stopped, purging expired tokens (and refreshing the query
    /// planner's statistics) periodically.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let purge = tokio::spawn(purge_expired_tokens(self.state.clone()));
        let last_use = tokio::spawn(write_last_uses(self.state.clone()));
        // Without the watcher the caches' lease runs out and every lookup reads the store.
        let watch = self.state.db.watch_feed(WATCH_INTERVAL);
        if let Err(e) = &watch {
            log::error!("{e}: token lookups will always read the store");
        }
        let metrics = self.metrics.map(|(server, _)| {
            let handle = server.handle();
            actix_web::rt::spawn(server);
            handle
        });
        let result = self.server.await;
        if let Some(metrics) = metrics {
            metrics.stop(true).await;
        }
        purge.abort();
        last_use.abort();
        if let Err(e) = crate::accounts::last_use::flush(&self.state).await {
            log::warn!("writing the last uses of credentials failed: {e}");
        }
        drop(watch);
        if let Err(e) = self.state.db.checkpoint() {
            log::warn!("final checkpoint failed: {e}");
        }
        log::info!("tokend stopped");
        result
    }

    /// As `run_until_stopped`, and SIGTERM or SIGINT stop it gracefully: no new
    /// connections, in-flight requests finish (up to 30 s), then the database is closed.
    pub async fn run_until_signalled(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        actix_web::rt::spawn(async move {
            wait_for_shutdown_signal().await;
            log::info!("shutdown signal received; finishing in-flight requests");
            handle.stop(true).await;
        });
        self.run_until_stopped().await
    }
}

/// Says at startup whether `users.createToken` is on, and why not when the operator
/// probably meant it to be (a value such as `TRUE` or `1`).
fn log_create_token_mode(config: &Config) {
    if config.create_tokens_secret.is_some() {
        log::info!("users.createToken: enabled in 8.x mode (CREATE_TOKENS_FOR_USERS_SECRET is set)");
    } else if config.create_tokens_for_users {
        log::info!("users.createToken: enabled (CREATE_TOKENS_FOR_USERS)");
    } else if let Some(value) = &config.create_tokens_for_users_ignored {
        log::warn!(
            "users.createToken stays disabled: CREATE_TOKENS_FOR_USERS={value:?} is not exactly 'yes' or 'true' (as in Rocket.Chat)"
        );
    }
}

async fn wait_for_shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// How often the invalidation feed is polled for writes by other processes (`tokend admin`,
/// other nodes): a revocation made there takes effect within this (see `accounts::cache`).
const WATCH_INTERVAL: Duration = Duration::from_millis(100);

/// How often the queued last uses of credentials are written (each at most once a minute).
const LAST_USE_INTERVAL: Duration = Duration::from_secs(10);

async fn write_last_uses(state: AppState) {
    let mut interval = tokio::time::interval(LAST_USE_INTERVAL);
    loop {
        interval.tick().await;
        if let Err(e) = crate::accounts::last_use::flush(&state).await {
            log::warn!("writing the last uses of credentials failed: {e}");
        }
    }
}

async fn purge_expired_tokens(state: AppState) {
    let mut interval = tokio::time::interval(state.config.purge_interval);
    loop {
        interval.tick().await;
        let purge = |tx: &dyn Sql| {
            let now = now_ms();
            // Every process reads the invalidation feed within a second; an hour is plenty.
            crate::db::invalidations::purge(tx, now, 3_600_000)?;
            crate::db::password_resets::purge_expired(tx, now)?;
            Ok(tokens::purge_expired(tx, now)? + saymon::purge_expired_sessions(tx, now)?)
        };
        // Each purge statement deletes what is past its time on its own: nothing to serialise.
        // Of several nodes on one PostgreSQL database, one purges at a time.
        match state.db.write_once(purge).await {
            Ok(None | Some(0)) => {}
            Ok(Some(n)) => log::info!("purged {n} expired tokens"),
            Err(e) => log::warn!("purging expired tokens failed: {e}"),
        }
        match crate::accounts::expiry_warning::send_due(&state).await {
            Ok(0) => {}
            Ok(n) => log::info!("warned the owners of {n} personal access tokens that expire within 7 days"),
            Err(e) => log::warn!("sending token expiry warnings failed: {e}"),
        }
        crate::accounts::clock_check::recheck(&state).await;
        if let Err(e) = crate::accounts::budget::purge(&state).await {
            log::warn!("purging old failed-check counters failed: {e}");
        }
        let db = state.db.clone();
        if let Err(e) = crate::blocking::run(move || db.optimize()).await {
            log::warn!("refreshing the query planner's statistics failed: {e}");
        }
    }
}

/// On an empty database, creates the first admin. A generated password is printed once
/// on stderr (never logged).
fn bootstrap_admin(state: &AppState) -> Result<(), StartupError> {
    let bootstrap = |e: crate::error::Error| StartupError::Bootstrap(e.to_string());
    if state.db.read_now(users::count).map_err(bootstrap)? > 0 {
        return Ok(());
    }
    let config = &state.config;
    let (password, generated) = match &config.admin_password {
        Some(p) => (p.expose().to_string(), false),
        None => (random::id_of_length(20), true),
    };
    if password.chars().count() < config.password_min_length {
        return Err(ConfigError {
            variable: crate::config::variables::ADMIN_PASSWORD.variable,
            value: "(hidden)".into(),
            fix: format!("use at least {} characters, or unset it to have one generated", config.password_min_length),
        }
        .into());
    }
    let hash = state.passwords.hash_blocking(&PasswordDigest::of_plaintext(&password)).map_err(bootstrap)?;
    let admin = NewUser {
        id: random::user_id(),
        username: config.admin_username.clone(),
        name: "Administrator".into(),
        email: None,
        email_verified: false,
        password_hash: Some(hash),
        active: true,
        user_type: "user".into(),
        require_password_change: false,
        nickname: None,
        bio: None,
        status_text: None,
        roles: vec!["admin".into(), "user".into()],
        permissions: Vec::new(),
    };
    // Counted again under the global scope: of several nodes starting on one empty store,
    // only the first creates an admin.
    let created = state.db.write_now(Scope::global(), |tx| {
        if users::count(tx)? > 0 {
            return Ok(false);
        }
        users::insert(tx, &admin, now_ms())?;
        Ok(true)
    });
    if !created.map_err(bootstrap)? {
        return Ok(());
    }
    log::info!("created the first admin '{}' ({})", admin.username, admin.id);
    if generated {
        eprintln!(
            "tokend: created the first admin user '{}' with the generated password: {password}\n\
             tokend: this is shown only once. Log in and change it with POST /api/v1/users.update \
             (data.password), or set TOKEND_ADMIN_PASSWORD before the first start next time.",
            admin.username
        );
    }
    Ok(())
}
