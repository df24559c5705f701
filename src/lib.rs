//! switchyard: an LLM API gateway on Pingora. The binary is `src/main.rs`; the library
//! holds everything so unit tests and the integration harness can reach the pure modules.

pub mod auth;
pub mod config;
pub mod routing;
pub mod secret;
