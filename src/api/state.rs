//! What every request handler can reach: the domain core (`Accounts`) and the HTTP-only
//! REST rate limiter. Handlers pass `&state` wherever the core expects `&Accounts`
//! (`Deref`), so a handler can call the core but the core never sees HTTP.

use crate::accounts::Accounts;
use crate::api::rate_limit::RateLimiter;
use std::ops::Deref;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub accounts: Accounts,
    pub rate_limiter: Arc<RateLimiter>,
}

impl AppState {
    pub fn new(accounts: Accounts) -> Self {
        let rate_limiter = Arc::new(RateLimiter::new(&accounts.config.limits.rate_limit));
        AppState { accounts, rate_limiter }
    }
}

impl Deref for AppState {
    type Target = Accounts;

    fn deref(&self) -> &Accounts {
        &self.accounts
    }
}
