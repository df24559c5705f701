//! The mock's prompt cache: enough of what real providers do that cached-token usage shows up where it would,
//! so a gateway's cache handling (markers forwarded, counters translated, usage accounted) can be tested end
//! to end.
//!
//! A request's prompt is a sequence of items — `tools`, then (Anthropic) `system`, then each message (Responses
//! API: `instructions`, then each `input` item) — and every item boundary is a prefix the cache may know.
//! Prefixes are compared by content: `cache_control` markers are ignored and a string `content` reads as one
//! text block, as the real APIs normalise them.
//!
//! - **Explicit caching** (the request carries `cache_control` markers — Anthropic, or OpenRouter for
//!   Anthropic and Gemini models): the prefixes ending at a marked item are written to the cache; a request
//!   reads the longest known prefix ending at or before its last marker (Anthropic looks back from each
//!   breakpoint). Reads are `cache_read_input_tokens` / `cached_tokens`; what the breakpoints add beyond the
//!   read is `cache_creation_input_tokens` / OpenRouter's `cache_write_tokens`. A marker's `ttl: "1h"` keeps
//!   its prefix for an hour, any other for 5 minutes; the stretch a breakpoint closes is written with its
//!   time-to-live, which Anthropic reports as `cache_creation.ephemeral_5m_input_tokens` /
//!   `ephemeral_1h_input_tokens`.
//! - **Automatic caching** (OpenAI API — Chat Completions and Responses — without markers): every prefix is
//!   written for 5 minutes; a request reads the longest known one, in 128-token steps, as `cached_tokens`;
//!   writes are not reported.
//!
//! Only prefixes of at least [`MIN_CACHED_TOKENS`] count, as with the real services. Tokens are estimated as
//! the bytes of a prefix's strings divided by four, so a read plus its writes never exceed the request's
//! input tokens (its body bytes / 4). The cache is per mock instance and bounded; a prefix read again is kept
//! for its time-to-live from then on, as Anthropic refreshes a hit. It is keyed by model as well as content:
//! one mock standing in for several providers (a cost simulation) must not let one model read what another
//! wrote. On the Anthropic API a change of `thinking` (on, off, budget) invalidates the cached messages but
//! not the tools and system prompt, as Anthropic documents for extended thinking.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::mock::respond::Api;

/// The shortest prefix the real services cache.
pub(crate) const MIN_CACHED_TOKENS: u64 = 1024;
/// OpenAI reports automatic cache hits in steps of this many tokens.
const AUTOMATIC_STEP: u64 = 128;
/// Prefixes remembered at most; beyond this the expired ones go, then (if still too many) all.
const MAX_ENTRIES: usize = 100_000;

const FIVE_MINUTES: Duration = Duration::from_secs(300);
const ONE_HOUR: Duration = Duration::from_secs(3600);

/// Cached input of one request, in tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CacheUse {
    /// Input tokens read from the cache.
    pub read: u64,
    /// Input tokens written to the cache with the 5-minute time-to-live (explicit caching only).
    pub write_5m: u64,
    /// Input tokens written to the cache with the 1-hour time-to-live (explicit caching only).
    pub write_1h: u64,
    /// The request used `cache_control` markers: report writes, in OpenRouter's shape on the OpenAI API.
    pub explicit: bool,
}

impl CacheUse {
    /// Every input token written to the cache, whatever its time-to-live.
    pub(crate) fn write(&self) -> u64 {
        self.write_5m + self.write_1h
    }
}

#[derive(Default)]
pub(crate) struct PromptCache {
    /// Known prefixes by content digest, with the instant each expires.
    entries: Mutex<HashMap<u64, Instant>>,
}

/// One prefix: its content digest, its token estimate, and — when it ends at a marked item — how long the
/// marker asks for it to be kept.
struct Boundary {
    digest: u64,
    tokens: u64,
    marker: Option<Duration>,
}

impl PromptCache {
    /// Looks the request's prefixes up, records the ones it writes, and says what was read and written.
    pub(crate) fn account(&self, body: &Value, body_len: usize, api: Api) -> CacheUse {
        if (body_len as u64) / 4 < MIN_CACHED_TOKENS {
            // Too short for any prefix to be cached: the common load-test request costs no walk.
            return CacheUse::default();
        }
        let boundaries = boundaries(body, api);
        let explicit = boundaries.iter().any(|b| b.marker.is_some());
        if !explicit && api != Api::OpenAi {
            return CacheUse::default();
        }
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() > MAX_ENTRIES {
            entries.retain(|_, expiry| *expiry > now);
            if entries.len() > MAX_ENTRIES {
                entries.clear();
            }
        }
        let known = |b: &Boundary| {
            b.tokens >= MIN_CACHED_TOKENS && entries.get(&b.digest).is_some_and(|e| *e > now)
        };
        if explicit {
            let last_marked = boundaries
                .iter()
                .rposition(|b| b.marker.is_some())
                .unwrap_or(0);
            let read = boundaries[..=last_marked]
                .iter()
                .filter(|b| known(b))
                .map(|b| b.tokens)
                .max()
                .unwrap_or(0);
            let mut used = CacheUse {
                read,
                explicit,
                ..CacheUse::default()
            };
            // Each breakpoint writes the stretch it closes beyond what is already covered, with its own TTL.
            let mut covered = read;
            let mut remember = Vec::new();
            for b in boundaries.iter().filter(|b| b.tokens >= MIN_CACHED_TOKENS) {
                let Some(ttl) = b.marker else { continue };
                let stretch = if known(b) {
                    0
                } else {
                    b.tokens.saturating_sub(covered)
                };
                if ttl == ONE_HOUR {
                    used.write_1h += stretch;
                } else {
                    used.write_5m += stretch;
                }
                covered = covered.max(b.tokens);
                remember.push((b.digest, ttl));
            }
            for (digest, ttl) in remember {
                keep(&mut entries, digest, now + ttl);
            }
            used
        } else {
            let read = boundaries
                .iter()
                .filter(|b| known(b))
                .map(|b| b.tokens)
                .max()
                .unwrap_or(0);
            for b in boundaries.iter().filter(|b| b.tokens >= MIN_CACHED_TOKENS) {
                keep(&mut entries, b.digest, now + FIVE_MINUTES);
            }
            CacheUse {
                read: read / AUTOMATIC_STEP * AUTOMATIC_STEP,
                ..CacheUse::default()
            }
        }
    }
}

/// Keeps a prefix until `expiry`, or longer if it is already kept longer (a 1-hour entry read by a 5-minute
/// breakpoint stays an hour).
fn keep(entries: &mut HashMap<u64, Instant>, digest: u64, expiry: Instant) {
    let slot = entries.entry(digest).or_insert(expiry);
    *slot = (*slot).max(expiry);
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
            let mut marker = None;
            walk(item, &mut hasher, &mut bytes, &mut marker);
            Boundary {
                digest: hasher.finish(),
                tokens: bytes.div_ceil(4),
                marker,
            }
        })
        .collect()
}

/// Feeds a value's content into the running digest, skipping `cache_control` (noting the longest time-to-live
/// a marker in it asks for) and reading a string `content` as one text block.
fn walk(v: &Value, h: &mut impl Hasher, bytes: &mut u64, marker: &mut Option<Duration>) {
    match v {
        Value::Object(m) => {
            h.write_u8(b'{');
            for (k, v) in m {
                if k == "cache_control" {
                    if !v.is_null() {
                        let ttl = if v.get("ttl").and_then(Value::as_str) == Some("1h") {
                            ONE_HOUR
                        } else {
                            FIVE_MINUTES
                        };
                        *marker = Some(marker.map_or(ttl, |m| m.max(ttl)));
                    }
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
                    _ => walk(v, h, bytes, marker),
                }
            }
            h.write_u8(b'}');
        }
        Value::Array(a) => {
            h.write_u8(b'[');
            for v in a {
                walk(v, h, bytes, marker);
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
            first.explicit
                && first.read == 0
                && first.write() > 2 * MIN_CACHED_TOKENS
                && first.write_1h == 0,
            "{first:?}"
        );
        // Turn 2: the old breakpoint's message is now a plain string, a new one is marked.
        let turn2 = json!({"system": [{"type": "text", "text": long("sys"), "cache_control": {"type": "ephemeral"}}],
                           "messages": [{"role": "user", "content": long("q1")}, {"role": "assistant", "content": "a"},
                                        {"role": "user", "content": [{"type": "text", "text": "q2", "cache_control": {"type": "ephemeral"}}]}]});
        let second = cache.account(&turn2, 1 << 20, Api::Anthropic);
        assert_eq!(
            second.read,
            first.write(),
            "everything turn 1 wrote is read"
        );
        assert!(
            second.write() > 0 && second.write() < 40,
            "only the new tail is written: {second:?}"
        );
        assert_eq!(cache.account(&turn2, 1 << 20, Api::Anthropic).write(), 0);
    }

    #[test]
    fn writes_split_by_the_time_to_live_of_the_breakpoint_closing_each_stretch() {
        let cache = PromptCache::default();
        let body = |question: &str| {
            json!({
                "system": [{"type": "text", "text": long("sys"), "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
                "messages": [
                    {"role": "user", "content": [{"type": "text", "text": long("ctx"), "cache_control": {"type": "ephemeral"}}]},
                    {"role": "user", "content": question},
                ],
            })
        };
        let first = cache.account(&body("a?"), 1 << 20, Api::Anthropic);
        assert_eq!(first.read, 0);
        assert!(
            first.write_1h >= MIN_CACHED_TOKENS && first.write_5m >= MIN_CACHED_TOKENS,
            "{first:?}"
        );
        let second = cache.account(&body("b?"), 1 << 20, Api::Anthropic);
        assert_eq!(
            second,
            CacheUse {
                read: first.write(),
                write_5m: 0,
                write_1h: 0,
                explicit: true
            },
            "the whole marked prefix is read, nothing written"
        );
        // A marked prefix too short to cache is neither written nor read.
        let short = json!({"system": [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}], "messages": []});
        assert_eq!(cache.account(&short, 1 << 20, Api::Anthropic).write(), 0);
        assert_eq!(cache.account(&short, 1 << 20, Api::Anthropic).read, 0);
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
            .write();
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
        assert_eq!(
            cache.account(&body, 1 << 20, Api::OpenAi),
            CacheUse::default()
        );
        let again = cache.account(&body, 1 << 20, Api::OpenAi);
        assert!(
            again.read >= MIN_CACHED_TOKENS
                && again.read % AUTOMATIC_STEP == 0
                && !again.explicit
                && again.write() == 0,
            "{again:?}"
        );
        let responses = json!({"instructions": long("codex"), "input": [{"type": "message", "role": "user", "content": "hi"}]});
        assert_eq!(cache.account(&responses, 1 << 20, Api::OpenAi).read, 0);
        let turn2 = json!({"instructions": long("codex"), "input": [{"type": "message", "role": "user", "content": "hi"},
                                                                    {"type": "message", "role": "user", "content": "more"}]});
        assert!(
            cache.account(&turn2, 1 << 20, Api::OpenAi).read >= MIN_CACHED_TOKENS,
            "Responses prefixes are cached too"
        );
        let short = json!({"messages": [{"role": "user", "content": "hi"}]});
        cache.account(&short, 1 << 20, Api::OpenAi);
        assert_eq!(cache.account(&short, 1 << 20, Api::OpenAi).read, 0);
        assert_eq!(
            cache.account(&body, 1 << 20, Api::Anthropic),
            CacheUse::default(),
            "Anthropic caches only at markers"
        );
        assert_eq!(
            cache.account(&body, 100, Api::OpenAi),
            CacheUse::default(),
            "a short body is never cached"
        );
    }
}
