//! Settings of what tokend tells its operator: where Prometheus metrics are served (off by
//! default, and never on the API's listener) and the log line format.

use super::{ConfigError, text, variables as v};
use std::net::SocketAddr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// env_logger's human-readable lines.
    Text,
    /// One JSON object a line (for Loki, journald exports, ...).
    Json,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observability {
    /// Where `GET /metrics` is served; `None`: metrics are off.
    pub metrics_bind: Option<SocketAddr>,
    pub log_format: LogFormat,
}

impl Observability {
    pub(super) fn from_variables(get: &impl Fn(&'static str) -> Option<String>) -> Result<Self, ConfigError> {
        let metrics_bind = match get(v::METRICS_BIND.variable) {
            None => None,
            Some(raw) => Some(raw.trim().parse().map_err(|_| ConfigError {
                variable: v::METRICS_BIND.variable,
                value: raw.clone(),
                fix:
                    "use host:port with a numeric address, e.g. 127.0.0.1:9300, or unset it to turn metrics off".into(),
            })?),
        };
        let raw = text(get, &v::LOG_FORMAT);
        let log_format = match raw.trim().to_ascii_lowercase().as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            _ => {
                return Err(ConfigError {
                    variable: v::LOG_FORMAT.variable,
                    value: raw,
                    fix: "use 'text' (default) or 'json' (one JSON object a line)".into(),
                });
            }
        };
        Ok(Observability { metrics_bind, log_format })
    }
}
