//! Prompt caching the way the providers report it, so the usage a gateway records can be checked
//! for cache reads and writes. The mock keeps a table of cached prompt prefixes (by hash, with an
//! expiry) shared by every connection.
//!
//! - **Anthropic** (explicit): the prompt is read in cache order — `tools`, `system`, then each
//!   message's content blocks — and every block carrying `cache_control` is a breakpoint
//!   (`ttl: "1h"` for the 1-hour cache, else 5 minutes). The longest breakpoint prefix already in the
//!   table is a cache **read**; from there to the last breakpoint is a cache **write**, split into
//!   5 m and 1 h by the breakpoint closing each stretch. Prefixes under [`MIN_CACHEABLE`] tokens are
//!   not cached, as the real API does for Sonnet and Opus.
//! - **OpenAI** (automatic): a prompt of at least [`MIN_CACHEABLE`] tokens is remembered message by
//!   message; a later prompt that starts with a remembered prefix reads it from the cache, rounded
//!   down to 128-token steps (`prompt_tokens_details.cached_tokens`).
//!
//! A prefix's tokens are its JSON length / 4, rounded up (the mock's token count); a read or write
//! never exceeds the request's input tokens.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Fewest tokens a cached prefix has (Anthropic's minimum for Sonnet and Opus; OpenAI's too).
pub(crate) const MIN_CACHEABLE: u64 = 1024;
/// Entries kept at most; the table is cleared of expired ones, then emptied, beyond this.
const MAX_ENTRIES: usize = 100_000;

/// How the cache served one request, in tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CacheUse {
    pub read: u64,
    pub write_5m: u64,
    pub write_1h: u64,
}

#[derive(Default)]
pub(crate) struct PromptCache {
    entries: Mutex<HashMap<u64, Instant>>,
}

/// A point in the prompt where a prefix may be cached: its hash, tokens and time-to-live.
#[derive(Debug, Clone, Copy)]
struct Breakpoint {
    hash: u64,
    tokens: u64,
    ttl: Duration,
}

/// Hashes and measures a prompt prefix piece by piece.
struct Prefix {
    hash: u64,
    bytes: u64,
}

impl Prefix {
    fn new() -> Prefix {
        Prefix {
            hash: 0xcbf2_9ce4_8422_2325,
            bytes: 0,
        }
    }

    fn add(&mut self, piece: &Value) {
        let text = serde_json::to_vec(piece).unwrap_or_default();
        for b in &text {
            self.hash = (self.hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.bytes += text.len() as u64;
    }

    fn tokens(&self) -> u64 {
        self.bytes.div_ceil(4)
    }
}

const FIVE_MINUTES: Duration = Duration::from_secs(300);
const ONE_HOUR: Duration = Duration::from_secs(3600);

fn blocks(content: Option<&Value>) -> Vec<&Value> {
    match content {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other @ Value::String(_)) => vec![other],
        _ => Vec::new(),
    }
}

impl PromptCache {
    /// Anthropic's explicit caching for one Messages request with `input_tokens` in all.
    pub(crate) fn anthropic(&self, body: &Value, input_tokens: u64) -> CacheUse {
        let mut prefix = Prefix::new();
        let mut breakpoints = Vec::new();
        let system = blocks(body.get("system"));
        let tools: Vec<&Value> = body
            .get("tools")
            .and_then(Value::as_array)
            .map(|t| t.iter().collect())
            .unwrap_or_default();
        let messages: Vec<&Value> = body
            .get("messages")
            .and_then(Value::as_array)
            .map(|m| m.iter().flat_map(|m| blocks(m.get("content"))).collect())
            .unwrap_or_default();
        for piece in tools.into_iter().chain(system).chain(messages) {
            prefix.add(piece);
            if let Some(control) = piece.get("cache_control").filter(|c| c.is_object()) {
                let ttl = if control.get("ttl").and_then(Value::as_str) == Some("1h") {
                    ONE_HOUR
                } else {
                    FIVE_MINUTES
                };
                breakpoints.push(Breakpoint {
                    hash: prefix.hash,
                    tokens: prefix.tokens().min(input_tokens),
                    ttl,
                });
            }
        }
        breakpoints.retain(|b| b.tokens >= MIN_CACHEABLE);
        if breakpoints.is_empty() {
            return CacheUse::default();
        }
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let hit = breakpoints
            .iter()
            .rposition(|b| entries.get(&b.hash).is_some_and(|expiry| *expiry > now));
        let mut used = CacheUse {
            read: hit.map_or(0, |i| breakpoints[i].tokens),
            ..CacheUse::default()
        };
        let mut covered = used.read;
        for b in &breakpoints[hit.map_or(0, |i| i + 1)..] {
            let stretch = b.tokens.saturating_sub(covered);
            if b.ttl == ONE_HOUR {
                used.write_1h += stretch;
            } else {
                used.write_5m += stretch;
            }
            covered = covered.max(b.tokens);
        }
        Self::remember(
            &mut entries,
            breakpoints.iter().map(|b| (b.hash, b.ttl)),
            now,
        );
        used
    }

    /// OpenAI's automatic caching for one Chat Completions request with `input_tokens` in all.
    pub(crate) fn openai(&self, body: &Value, input_tokens: u64) -> CacheUse {
        if input_tokens < MIN_CACHEABLE {
            return CacheUse::default();
        }
        let mut prefix = Prefix::new();
        if let Some(tools) = body.get("tools") {
            prefix.add(tools);
        }
        let mut boundaries = Vec::new();
        for message in body
            .get("messages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            prefix.add(message);
            boundaries.push((prefix.hash, prefix.tokens().min(input_tokens)));
        }
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let read = boundaries
            .iter()
            .rev()
            .find(|(hash, tokens)| {
                *tokens >= MIN_CACHEABLE && entries.get(hash).is_some_and(|expiry| *expiry > now)
            })
            .map_or(0, |(_, tokens)| tokens / 128 * 128);
        Self::remember(
            &mut entries,
            boundaries.iter().map(|(hash, _)| (*hash, FIVE_MINUTES)),
            now,
        );
        CacheUse {
            read,
            ..CacheUse::default()
        }
    }

    fn remember(
        entries: &mut HashMap<u64, Instant>,
        prefixes: impl Iterator<Item = (u64, Duration)>,
        now: Instant,
    ) {
        if entries.len() > MAX_ENTRIES {
            entries.retain(|_, expiry| *expiry > now);
            if entries.len() > MAX_ENTRIES {
                entries.clear();
            }
        }
        for (hash, ttl) in prefixes {
            let expiry = now + ttl;
            let slot = entries.entry(hash).or_insert(expiry);
            *slot = (*slot).max(expiry);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn long(n: usize) -> String {
        "cache me ".repeat(n)
    }

    #[test]
    fn anthropic_writes_then_reads_and_splits_by_ttl() {
        let cache = PromptCache::default();
        let body = |question: &str| {
            json!({
                "system": [{"type": "text", "text": long(600), "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
                "messages": [
                    {"role": "user", "content": [{"type": "text", "text": long(600), "cache_control": {"type": "ephemeral"}}]},
                    {"role": "user", "content": question},
                ],
            })
        };
        let first = cache.anthropic(&body("a?"), 10_000);
        assert_eq!(first.read, 0);
        assert!(
            first.write_1h >= MIN_CACHEABLE && first.write_5m >= MIN_CACHEABLE,
            "{first:?}"
        );
        let second = cache.anthropic(&body("b?"), 10_000);
        assert_eq!(
            second,
            CacheUse {
                read: first.write_1h + first.write_5m,
                write_5m: 0,
                write_1h: 0
            }
        );
        // Too short a prefix is not cached at all.
        let short = json!({"system": [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}], "messages": []});
        assert_eq!(cache.anthropic(&short, 10_000), CacheUse::default());
        assert_eq!(cache.anthropic(&short, 10_000), CacheUse::default());
    }

    #[test]
    fn openai_reads_a_remembered_prefix_in_128_token_steps() {
        let cache = PromptCache::default();
        let turn1 = json!({"messages": [{"role": "system", "content": long(800)}, {"role": "user", "content": "hi"}]});
        assert_eq!(cache.openai(&turn1, 2_000), CacheUse::default());
        let turn2 = json!({"messages": [{"role": "system", "content": long(800)}, {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}, {"role": "user", "content": "more"}]});
        let used = cache.openai(&turn2, 2_100);
        assert!(
            used.read >= MIN_CACHEABLE && used.read % 128 == 0 && used.write_5m == 0,
            "{used:?}"
        );
        assert_eq!(
            cache.openai(&turn2, 500),
            CacheUse::default(),
            "short prompts are not cached"
        );
    }
}
