//! The one way async code reaches blocking work (SQLite, bcrypt): a closure run on
//! actix's blocking thread pool, so the HTTP workers never stall.

use crate::error::{Error, Result};

pub async fn run<F, T>(work: F) -> Result<T>
where
    F: FnOnce() -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    actix_web::web::block(work).await.map_err(Error::from)?
}
