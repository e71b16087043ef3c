//! Log output: env_logger's text lines, or (`TOKEND_LOG_FORMAT=json`) one JSON object a line
//! with the time, level, target, message, the request id of the request being served and
//! any structured fields of the record (the access line's dialect, route pattern, status,
//! latency and user id). Nothing here adds a secret: the fields are what the code logs, and
//! no code logs a token, password, code or `api-token` (tests/api/no_plaintext.rs).

mod context;
mod output;
pub mod redact;
pub mod request_id;

pub use context::{RequestContext, note_user};
pub use output::Output;

use crate::config::LogFormat;
use log::kv::{Key, Value as KvValue, VisitSource};
use serde_json::{Map, Value};
use std::io::Write;

/// Starts logging for the process with `filter` (env_logger syntax, from `RUST_LOG`), to
/// stderr through a writer thread (`output`). Keep the returned `Output` until the process
/// ends: dropping it writes what is still queued.
pub fn init(filter: &str, format: LogFormat) -> Option<Output> {
    let mut builder = env_logger::Builder::new();
    builder.parse_filters(filter);
    if format == LogFormat::Json {
        builder.format(|buf, record| {
            let line = json_line(record);
            buf.write_all(line.as_bytes())?;
            buf.write_all(b"\n")
        });
    }
    let output = match Output::start(std::io::stderr()) {
        Ok((output, pipe)) => {
            // env_logger colours a pipe only when told to: as it would stderr.
            builder.write_style(if stderr_wants_colour() {
                env_logger::WriteStyle::Always
            } else {
                env_logger::WriteStyle::Never
            });
            builder.target(env_logger::Target::Pipe(Box::new(pipe)));
            Some(output)
        }
        Err(_) => None, // no thread for the writer: env_logger writes stderr itself
    };
    builder.init();
    output
}

/// What env_logger decides for stderr itself: a terminal, unless `NO_COLOR` is set or the
/// terminal is `dumb`.
fn stderr_wants_colour() -> bool {
    std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// One record as a JSON object (without the newline).
pub fn json_line(record: &log::Record) -> String {
    let mut line = Map::new();
    let time = time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339);
    line.insert("time".into(), Value::String(time.unwrap_or_default()));
    line.insert("level".into(), Value::String(record.level().as_str().to_ascii_lowercase()));
    line.insert("target".into(), Value::String(record.target().to_string()));
    line.insert("message".into(), Value::String(record.args().to_string()));
    context::with_current(|request| {
        line.insert("request_id".into(), Value::String(request.id().to_string()));
        if let Some(user) = request.user_id() {
            line.insert("user_id".into(), Value::String(user));
        }
    });
    // A field the record carries itself (the access line's) wins over the context's.
    let _ = record.key_values().visit(&mut Fields(&mut line));
    Value::Object(line).to_string()
}

struct Fields<'a>(&'a mut Map<String, Value>);

impl<'kvs> VisitSource<'kvs> for Fields<'_> {
    fn visit_pair(&mut self, key: Key<'kvs>, value: KvValue<'kvs>) -> Result<(), log::kv::Error> {
        let value = if let Some(n) = value.to_u64() {
            Value::from(n)
        } else if let Some(n) = value.to_i64() {
            Value::from(n)
        } else if let Some(x) = value.to_f64() {
            Value::from(x)
        } else if let Some(b) = value.to_bool() {
            Value::from(b)
        } else {
            Value::String(value.to_string())
        };
        self.0.insert(key.as_str().to_string(), value);
        Ok(())
    }
}
