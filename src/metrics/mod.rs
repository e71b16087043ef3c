//! Prometheus metrics: one registry for the process, served by `metrics::server` on its own
//! listen address (`TOKEND_METRICS_BIND`), never on the API's. Every label value is one of a
//! fixed set of constants or a route *pattern*: no username, user id, address or token can
//! reach a label, and the number of series stays bounded whatever clients send.
//!
//! The counters live in one process-wide value: they describe the process, the way its
//! memory or open files do, and the core records into them at the one place each event
//! happens (a login's outcome in `accounts::login`, a mint or revocation when its audit
//! record commits, ...). Recording is an atomic add or a short lock, cheap enough to stay on
//! while nothing scrapes; only the per-request HTTP series are skipped when metrics are off.

mod labels;
pub mod server;
pub mod uncommitted;

use labels::*;
pub use labels::{Dialect, LoginFailure, TokenActor};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::LazyLock;
use std::time::Duration;

/// Request latency buckets, seconds: a cached token lookup takes well under a millisecond,
/// a password check (bcrypt, cost 10) around 50 ms.
const LATENCY_BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
/// Waits for a pooled read connection, seconds: normally microseconds; the pool times out at 10 s.
const POOL_WAIT_BUCKETS: &[f64] = &[0.00001, 0.0001, 0.001, 0.01, 0.1, 1.0, 10.0];
/// Writes per group commit: 1 when idle, up to the writer's cap of 256 under load.
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily<RouteLabels>,
    logins: Family<DialectLabels, Counter>,
    login_failures: Family<FailureLabels, Counter>,
    lockouts: Family<LockoutLabels, Counter>,
    challenges: Family<MethodLabels, Counter>,
    second_factor_failures: Family<MethodLabels, Counter>,
    minted: Family<TokenLabels, Counter>,
    revoked: Family<TokenLabels, Counter>,
    rate_limited: Family<RateLimitLabels, Counter>,
    pool_wait: Histogram,
    write_batch: Histogram,
    cache: Family<CacheLabels, Counter>,
    hashes_promoted: Counter,
    /// The four series of `cache`, resolved once: a lookup is on every authenticated request,
    /// so it is one atomic add, not a label hash and a lock (on or off).
    cache_series: [Counter; 4],
}

/// The `cache` label values, in the order of `cache_series` (two results each).
const CACHES: [&str; 2] = ["rocketchat", "saymon"];

/// The process's metrics.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS.iter().copied())
}

impl Metrics {
    fn new() -> Self {
        let mut metrics = Metrics {
            registry: Registry::default(),
            requests: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            logins: Family::default(),
            login_failures: Family::default(),
            lockouts: Family::default(),
            challenges: Family::default(),
            second_factor_failures: Family::default(),
            minted: Family::default(),
            revoked: Family::default(),
            rate_limited: Family::default(),
            pool_wait: Histogram::new(POOL_WAIT_BUCKETS.iter().copied()),
            write_batch: Histogram::new(BATCH_BUCKETS.iter().copied()),
            cache: Family::default(),
            hashes_promoted: Counter::default(),
            cache_series: Default::default(),
        };
        for (i, cache) in CACHES.iter().enumerate() {
            for (j, result) in ["hit", "miss"].iter().enumerate() {
                metrics.cache_series[2 * i + j] = metrics.cache.get_or_create(&CacheLabels { cache, result }).clone();
            }
        }
        let r = &mut metrics.registry;
        r.register(
            "tokend_http_requests",
            "HTTP requests answered, by dialect, route pattern, method and status",
            metrics.requests.clone(),
        );
        r.register(
            "tokend_http_request_duration_seconds",
            "Time to answer an HTTP request, by dialect and route pattern",
            metrics.latency.clone(),
        );
        r.register("tokend_logins", "Completed password logins, by dialect", metrics.logins.clone());
        r.register(
            "tokend_login_failures",
            "Refused password logins, by dialect and reason",
            metrics.login_failures.clone(),
        );
        r.register(
            "tokend_lockouts",
            "Failed secret checks that reached a blocking limit, by scope (account or address)",
            metrics.lockouts.clone(),
        );
        r.register(
            "tokend_second_factor_challenges",
            "Second-factor challenges issued, by method",
            metrics.challenges.clone(),
        );
        r.register(
            "tokend_second_factor_failures",
            "Wrong second-factor codes, by method",
            metrics.second_factor_failures.clone(),
        );
        r.register(
            "tokend_tokens_minted",
            "Tokens created, by kind and by who acted (self, admin, cli)",
            metrics.minted.clone(),
        );
        r.register(
            "tokend_tokens_revoked",
            "Revocations, by kind (all: every credential of an account) and by who acted",
            metrics.revoked.clone(),
        );
        r.register(
            "tokend_rate_limited_requests",
            "Requests refused with 429, by dialect and by which limit",
            metrics.rate_limited.clone(),
        );
        r.register(
            "tokend_store_pool_wait_seconds",
            "Time spent waiting for a pooled read connection",
            metrics.pool_wait.clone(),
        );
        r.register(
            "tokend_store_write_batch_size",
            "Writes committed together in one group commit",
            metrics.write_batch.clone(),
        );
        r.register(
            "tokend_token_cache_lookups",
            "Token lookups by cache (rocketchat, saymon) and result (hit, miss)",
            metrics.cache.clone(),
        );
        r.register(
            "tokend_password_hashes_promoted",
            "Password hashes that ran a second at idle priority and were moved to nice 9 to finish: \
             other work was keeping them off the CPU",
            metrics.hashes_promoted.clone(),
        );
        let build = Family::<BuildLabels, Gauge>::default();
        build.get_or_create(&BuildLabels { version: env!("CARGO_PKG_VERSION") }).set(1);
        r.register("tokend_build_info", "Always 1; the version of the running binary is its label", build);
        metrics
    }

    /// The text exposition of every series.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// One answered request. `route` is the matched route pattern (never the raw path).
    pub fn request(&self, dialect: Dialect, route: &'static str, method: &'static str, status: u16, took: Duration) {
        let dialect = dialect.as_str();
        self.requests.get_or_create(&RequestLabels { dialect, route, method, status }).inc();
        self.latency.get_or_create(&RouteLabels { dialect, route }).observe(took.as_secs_f64());
    }

    pub fn login(&self, dialect: Dialect) {
        self.logins.get_or_create(&DialectLabels { dialect: dialect.as_str() }).inc();
    }

    pub fn login_failure(&self, dialect: Dialect, reason: LoginFailure) {
        self.login_failures.get_or_create(&FailureLabels { dialect: dialect.as_str(), reason: reason.as_str() }).inc();
    }

    /// A failed check reached the limit of the account's or the address's budget.
    pub fn lockout(&self, by_address: bool) {
        self.lockouts.get_or_create(&LockoutLabels { scope: if by_address { "address" } else { "account" } }).inc();
    }

    pub fn second_factor_challenge(&self, method: &'static str) {
        self.challenges.get_or_create(&MethodLabels { method }).inc();
    }

    pub fn second_factor_failure(&self, method: &'static str) {
        self.second_factor_failures.get_or_create(&MethodLabels { method }).inc();
    }

    /// `kind` is the audit log's token kind (login, pat, saymon, session, all).
    pub fn token_minted(&self, kind: &'static str, actor: TokenActor) {
        self.minted.get_or_create(&TokenLabels { kind, actor: actor.as_str() }).inc();
    }

    pub fn token_revoked(&self, kind: &'static str, actor: TokenActor) {
        self.revoked.get_or_create(&TokenLabels { kind, actor: actor.as_str() }).inc();
    }

    /// `limit`: `calls` (the route's window) or `failed_authentication`.
    pub fn rate_limited(&self, dialect: Dialect, limit: &'static str) {
        self.rate_limited.get_or_create(&RateLimitLabels { dialect: dialect.as_str(), limit }).inc();
    }

    pub fn pool_wait(&self, took: Duration) {
        self.pool_wait.observe(took.as_secs_f64());
    }

    pub fn write_batch(&self, jobs: usize) {
        self.write_batch.observe(jobs as f64);
    }

    /// A token lookup in `cache` (`rocketchat` or `saymon`) that was or was not answered from memory.
    pub fn cache_lookup(&self, cache: &'static str, hit: bool) {
        let i = CACHES.iter().position(|c| *c == cache).unwrap_or(0);
        self.cache_series[2 * i + usize::from(!hit)].inc();
    }

    /// A password hash starved at idle priority was promoted (`auth::hashing_pool`).
    pub fn hash_promoted(&self) {
        self.hashes_promoted.inc();
    }
}
