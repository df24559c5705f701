//! switchyard: an LLM API gateway on Pingora. The binary is `src/main.rs`; the library
//! holds everything so unit tests and the integration harness can reach the pure modules.

pub mod admin;
pub mod api;
pub mod auth;
pub mod body;
pub mod config;
pub mod dashboard;
pub mod errors;
pub mod keys;
pub mod ledger;
pub mod limits;
pub mod listener_tls;
pub mod metrics;
pub mod mock;
pub mod models;
pub mod pool;
pub mod pricing;
pub mod proxy;
pub mod reload;
pub mod routing;
pub mod rules;
pub mod secret;
pub mod server;
pub mod shutdown;
pub mod stream_usage;
pub mod translate;
pub mod usage;
pub mod upstream;
