//! Deterministic ids. A translated response's id is derived from the upstream's id (a hash, so it has the
//! target format's prefix and charset and the same upstream answer always maps to the same id — useful
//! when correlating logs). When the upstream sent no id, the seed is the body itself: no randomness, so a
//! stream translates to the same bytes however it was chunked. Tool-call ids are kept verbatim whenever the
//! upstream gave one, because the caller sends them back in the next turn and the upstream must recognise
//! its own ids.

use sha2::{Digest, Sha256};

/// `prefix` + the first 24 hex digits of SHA-256(seed).
pub(crate) fn derive(prefix: &str, seed: &[u8]) -> String {
    let digest = Sha256::digest(seed);
    let mut id = String::with_capacity(prefix.len() + 24);
    id.push_str(prefix);
    id.push_str(&hex::encode(&digest[..12]));
    id
}

/// Anthropic message id for an OpenAI completion id.
pub fn anthropic_message_id(upstream_id: &str) -> String {
    derive("msg_", upstream_id.as_bytes())
}

/// OpenAI completion id for an Anthropic message id.
pub fn openai_completion_id(upstream_id: &str) -> String {
    derive("chatcmpl-", upstream_id.as_bytes())
}

/// A tool-call id for a call the upstream sent without one.
pub(crate) fn fallback_tool_id(prefix: &str, message_id: &str, position: usize) -> String {
    derive(prefix, format!("{message_id}#{position}").as_bytes())
}

/// SHA-256 hex of a string: used to bound OpenAI's `user` field.
pub(crate) fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}
