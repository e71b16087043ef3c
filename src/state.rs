//! What every request handler can reach: configuration, the store, the password hasher.

use crate::auth::password::PasswordHasher;
use crate::config::Config;
use crate::db::Db;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub passwords: PasswordHasher,
}

impl AppState {
    pub fn new(config: Config, db: Db) -> Self {
        let passwords = PasswordHasher::new(config.bcrypt_cost);
        AppState { config: Arc::new(config), db, passwords }
    }
}
