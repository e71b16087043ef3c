//! The HTTP dialects tokend speaks. Each has its own error envelope and route table.

pub mod rocketchat;
pub mod saymon;
pub mod strict_json;
