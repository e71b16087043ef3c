//! tokend: one process, one SQLite file, two wire protocols for authentication tokens.

pub mod accounts;
pub mod admin;
pub mod api;
pub mod auth;
pub mod backup;
pub mod bench;
pub mod blocking;
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod healthcheck;
pub mod logging;
pub mod mail;
pub mod metrics;
pub mod startup;
pub mod web;
