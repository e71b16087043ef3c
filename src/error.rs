//! The one domain error. It knows nothing about HTTP: each dialect's adapter
//! (`api::rocketchat::RcError`, `api::saymon::SaymonError`) decides the status code and body.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A uniqueness rule was broken (e.g. a username taken by a concurrent request).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The store cannot serve the request right now (busy, read-only, disk full).
    /// Callers answer 503; the request may be retried.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or an unexpected state. Logged in full, answered opaquely.
    #[error("internal error: {0}")]
    Internal(String),
    /// A rule of the domain core refused the operation (`accounts::Refusal`). Returned from
    /// inside a write, it also rolls that write back. Each dialect renders it in its shape.
    #[error("refused: {0:?}")]
    Refused(crate::accounts::Refusal),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Logs the cause in full (it never reaches the client) and says whether the failure is
    /// transient (dialects answer 503) rather than a bug (500).
    pub fn log_and_is_unavailable(self) -> bool {
        match self {
            Error::Unavailable(cause) => {
                log::warn!("storage unavailable: {cause}");
                true
            }
            Error::Conflict(cause) | Error::Internal(cause) => {
                log::error!("internal error: {cause}");
                false
            }
            Error::Refused(refusal) => {
                log::error!("a refusal reached the generic error path: {refusal:?}");
                false
            }
        }
    }
}

impl From<actix_web::error::BlockingError> for Error {
    fn from(err: actix_web::error::BlockingError) -> Self {
        Error::Internal(format!("blocking task failed: {err}"))
    }
}
