//! The mock's prompt cache: enough of what real providers do that cached-token usage shows up where it would,
//! so a gateway's cache handling (markers forwarded, counters translated) can be tested end to end.
//!
//! A request's prompt is a sequence of items — `tools`, then (Anthropic) `system`, then each message (Responses
//! API: `instructions`, then each `input` item) — and
//! every item boundary is a prefix the cache may know. Prefixes are compared by content: `cache_control`
//! markers are ignored and a string `content` reads as one text block, as the real APIs normalise them.
//!
//! - **Explicit caching** (the request carries `cache_control` markers — Anthropic, or OpenRouter for
//!   Anthropic and Gemini models): the prefixes ending at a marked item are written to the cache; a request
//!   reads the longest known prefix ending at or before its last marker (Anthropic looks back from each
//!   breakpoint). Reads are `cache_read_input_tokens` / `cached_tokens`; what the last breakpoint adds is
//!   `cache_creation_input_tokens` / OpenRouter's `cache_write_tokens`.
//! - **Automatic caching** (OpenAI API, no markers): every prefix is written; a request reads the longest
//!   known one, in 128-token steps, as `cached_tokens`; writes are not reported.
//!
//! Only prefixes of at least [`MIN_CACHED_TOKENS`] count, as with the real services. Tokens are estimated as
//! the bytes of a prefix's strings divided by four. The cache is per mock instance and bounded, and keyed by
//! model as well as content: one mock standing in for several providers (a cost simulation) must not let one
//! model read what another wrote. On the Anthropic API a change of `thinking` (on, off, budget) invalidates the
//! cached messages but not the tools and system prompt, as Anthropic documents for extended thinking.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use serde_json::Value;

use crate::mock::respond::Api;

/// The shortest prefix the real services cache.
pub(crate) const MIN_CACHED_TOKENS: u64 = 1024;
/// OpenAI reports automatic cache hits in steps of this many tokens.
const AUTOMATIC_STEP: u64 = 128;
/// Prefixes remembered before the cache starts afresh.
const MAX_ENTRIES: usize = 100_000;

/// Cached input of one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CacheUse {
    /// Input tokens read from the cache.
    pub read: u64,
    /// Input tokens written to the cache (explicit caching only).
    pub write: u64,
    /// The request used `cache_control` markers: report writes, in OpenRouter's shape on the OpenAI API.
    pub explicit: bool,
}

#[derive(Default)]
pub(crate) struct PromptCache {
    seen: Mutex<HashSet<u64>>,
}

/// One prefix: its content digest, its token estimate, whether it ends at a marked item.
struct Boundary {
    digest: u64,
    tokens: u64,
    marked: bool,
}

impl PromptCache {
    /// Looks the request's prefixes up, records the ones it writes, and says what was read and written.
    pub(crate) fn account(&self, body: &Value, body_len: usize, api: Api) -> CacheUse {
        if (body_len as u64) / 4 < MIN_CACHED_TOKENS {
            // Too short for any prefix to be cached: the common load-test request costs no walk.
            return CacheUse::default();
        }
        let boundaries = boundaries(body, api);
        let explicit = boundaries.iter().any(|b| b.marked);
        let Ok(mut seen) = self.seen.lock() else {
            return CacheUse::default();
        };
        if seen.len() > MAX_ENTRIES {
            seen.clear();
        }
        let cacheable = |b: &&Boundary| b.tokens >= MIN_CACHED_TOKENS;
        // The longest prefix among `candidates` the cache already holds.
        let longest_known = |candidates: &[Boundary]| {
            let known = candidates.iter().filter(cacheable).filter(|b| seen.contains(&b.digest));
            known.map(|b| b.tokens).max().unwrap_or(0)
        };
        if explicit {
            let last_marked = boundaries.iter().rposition(|b| b.marked).unwrap_or(0);
            let read = longest_known(&boundaries[..=last_marked]);
            let mut write = 0;
            for b in boundaries.iter().filter(|b| b.marked).filter(cacheable) {
                if seen.insert(b.digest) {
                    write = b.tokens.saturating_sub(read).max(write);
                }
            }
            CacheUse { read, write, explicit }
        } else if api == Api::OpenAi {
            let read = longest_known(&boundaries);
            for b in boundaries.iter().filter(cacheable) {
                seen.insert(b.digest);
            }
            CacheUse {
                read: read / AUTOMATIC_STEP * AUTOMATIC_STEP,
                write: 0,
                explicit,
            }
        } else {
            CacheUse::default()
        }
    }
}

/// The request's prefixes, shortest first.
fn boundaries(body: &Value, api: Api) -> Vec<Boundary> {
    let mut items: Vec<&Value> = Vec::new();
    if let Some(tools) = body.get("tools").filter(|t| !t.is_null()) {
        items.push(tools);
    }
    if api == Api::Anthropic {
        if let Some(system) = body.get("system").filter(|s| !s.is_null()) {
            items.push(system);
        }
    }
    // The Responses API: `instructions` first, then the `input` items (a string `input` is one item).
    if let Some(instructions) = body.get("instructions").filter(|i| !i.is_null()) {
        items.push(instructions);
    }
    match body.get("input") {
        Some(Value::Array(input)) => items.extend(input),
        Some(input @ Value::String(_)) => items.push(input),
        _ => {}
    }
    let messages_start = items.len();
    items.extend(body.get("messages").and_then(Value::as_array).into_iter().flatten());
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    body.get("model").and_then(Value::as_str).unwrap_or("").hash(&mut hasher);
    let thinking = (api == Api::Anthropic).then(|| body.get("thinking").map(Value::to_string).unwrap_or_default());
    let mut bytes = 0u64;
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            if let Some(thinking) = thinking.as_deref().filter(|_| i == messages_start) {
                thinking.hash(&mut hasher);
            }
            let mut marked = false;
            walk(item, &mut hasher, &mut bytes, &mut marked);
            Boundary {
                digest: hasher.finish(),
                tokens: bytes.div_ceil(4),
                marked,
            }
        })
        .collect()
}

/// Feeds a value's content into the running digest, skipping `cache_control` (noting that it was there) and
/// reading a string `content` as one text block.
fn walk(v: &Value, h: &mut impl Hasher, bytes: &mut u64, marked: &mut bool) {
    match v {
        Value::Object(m) => {
            h.write_u8(b'{');
            for (k, v) in m {
                if k == "cache_control" {
                    *marked |= !v.is_null();
                    continue;
                }
                text(k, h, bytes);
                match (k.as_str(), v) {
                    ("content", Value::String(s)) => {
                        h.write_u8(b'[');
                        h.write_u8(b'{');
                        text("text", h, bytes);
                        text(s, h, bytes);
                        text("type", h, bytes);
                        text("text", h, bytes);
                        h.write_u8(b'}');
                        h.write_u8(b']');
                    }
                    _ => walk(v, h, bytes, marked),
                }
            }
            h.write_u8(b'}');
        }
        Value::Array(a) => {
            h.write_u8(b'[');
            for v in a {
                walk(v, h, bytes, marked);
            }
            h.write_u8(b']');
        }
        Value::String(s) => text(s, h, bytes),
        other => {
            let s = other.to_string();
            text(&s, h, bytes);
        }
    }
}

fn text(s: &str, h: &mut impl Hasher, bytes: &mut u64) {
    s.hash(h);
    *bytes += s.len() as u64;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn long(tag: &str) -> String {
        format!("{tag} {}", "context ".repeat(700))
    }

    #[test]
    fn explicit_markers_write_their_prefix_and_the_next_turn_reads_it() {
        let cache = PromptCache::default();
        let turn1 = json!({"system": [{"type": "text", "text": long("sys"), "cache_control": {"type": "ephemeral"}}],
                           "messages": [{"role": "user", "content": [{"type": "text", "text": long("q1"), "cache_control": {"type": "ephemeral"}}]}]});
        let first = cache.account(&turn1, 1 << 20, Api::Anthropic);
        assert!(
            first.explicit && first.read == 0 && first.write > 2 * MIN_CACHED_TOKENS,
            "{first:?}"
        );
        // Turn 2: the old breakpoint's message is now a plain string, a new one is marked.
        let turn2 = json!({"system": [{"type": "text", "text": long("sys"), "cache_control": {"type": "ephemeral"}}],
                           "messages": [{"role": "user", "content": long("q1")}, {"role": "assistant", "content": "a"},
                                        {"role": "user", "content": [{"type": "text", "text": "q2", "cache_control": {"type": "ephemeral"}}]}]});
        let second = cache.account(&turn2, 1 << 20, Api::Anthropic);
        assert_eq!(second.read, first.write, "everything turn 1 wrote is read");
        assert!(
            second.write > 0 && second.write < 40,
            "only the new tail is written: {second:?}"
        );
        assert_eq!(cache.account(&turn2, 1 << 20, Api::Anthropic).write, 0);
    }

    #[test]
    fn each_model_has_its_own_cache_and_thinking_changes_invalidate_the_messages() {
        let cache = PromptCache::default();
        let turn = |model: &str, thinking: Value| {
            json!({"model": model, "thinking": thinking,
                   "system": [{"type": "text", "text": long("sys"), "cache_control": {"type": "ephemeral"}}],
                   "messages": [{"role": "user", "content": [{"type": "text", "text": long("q1"), "cache_control": {"type": "ephemeral"}}]}]})
        };
        let adaptive = json!({"type": "adaptive"});
        let written = cache
            .account(&turn("claude-a", adaptive.clone()), 1 << 20, Api::Anthropic)
            .write;
        assert_eq!(
            cache
                .account(&turn("claude-a", adaptive.clone()), 1 << 20, Api::Anthropic)
                .read,
            written
        );
        assert_eq!(
            cache
                .account(&turn("claude-b", adaptive), 1 << 20, Api::Anthropic)
                .read,
            0,
            "another model"
        );
        let enabled = cache.account(
            &turn(
                "claude-a",
                json!({"type": "enabled", "budget_tokens": 4000}),
            ),
            1 << 20,
            Api::Anthropic,
        );
        assert!(
            enabled.read > 0 && enabled.read < written,
            "the system prompt only: {enabled:?} of {written}"
        );
        let openai = json!({"model": "glm", "messages": [{"role": "system", "content": long("sys")}, {"role": "user", "content": "hi"}]});
        cache.account(&openai, 1 << 20, Api::OpenAi);
        let mut other = openai.clone();
        other["model"] = json!("qwen");
        assert_eq!(
            cache.account(&other, 1 << 20, Api::OpenAi).read,
            0,
            "no sharing across models"
        );
    }

    #[test]
    fn automatic_caching_is_openai_only_and_needs_a_long_prefix() {
        let cache = PromptCache::default();
        let body = json!({"messages": [{"role": "system", "content": long("sys")}, {"role": "user", "content": "hi"}]});
        assert_eq!(cache.account(&body, 1 << 20, Api::OpenAi), CacheUse::default());
        let again = cache.account(&body, 1 << 20, Api::OpenAi);
        assert!(
            again.read >= MIN_CACHED_TOKENS && again.read % AUTOMATIC_STEP == 0 && !again.explicit,
            "{again:?}"
        );
        let responses = json!({"instructions": long("codex"), "input": [{"type": "message", "role": "user", "content": "hi"}]});
        assert_eq!(cache.account(&responses, 1 << 20, Api::OpenAi).read, 0);
        let turn2 = json!({"instructions": long("codex"), "input": [{"type": "message", "role": "user", "content": "hi"},
                                                                    {"type": "message", "role": "user", "content": "more"}]});
        assert!(cache.account(&turn2, 1 << 20, Api::OpenAi).read >= MIN_CACHED_TOKENS, "Responses prefixes are cached too");
        let short = json!({"messages": [{"role": "user", "content": "hi"}]});
        cache.account(&short, 1 << 20, Api::OpenAi);
        assert_eq!(cache.account(&short, 1 << 20, Api::OpenAi).read, 0);
        assert_eq!(
            cache.account(&body, 1 << 20, Api::Anthropic),
            CacheUse::default(),
            "Anthropic caches only at markers"
        );
    }
}
