//! Usage: how many tokens of each kind one exchange used, read from what the provider reported.
//! Pure (no Pingora types): the proxy feeds the upstream response to a [`UsageExtractor`] chunk by
//! chunk and hands the [`Extracted`] result to the ledger.
//!
//! - `tokens` — [`TokenUsage`], the one shape every count is normalised to (uncached input, cache
//!   read, cache write 5 m / 1 h, output, reasoning), and the `usage` objects of both APIs;
//! - `extract` — the extractor state machine over Anthropic/OpenAI JSON bodies and SSE streams;
//! - `sse` — event framing by position, shared by extraction and usage-chunk stripping;
//! - `delta` — the text of a streamed delta in the providers' own shape, read without a JSON parse;
//! - `who` — who a request is for: the end user a client names, bounded and cleaned.

mod delta;
pub mod extract;
mod sse;
pub mod tokens;
pub mod who;

#[cfg(test)]
mod tests;

pub use extract::{Extracted, Fed, UsageExtractor};
pub use tokens::TokenUsage;
