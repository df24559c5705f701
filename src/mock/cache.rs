//! Prompt caching, as the real providers report it, for cost simulations: a conversation resends its
//! whole history every turn, and what it pays depends on how much of that prefix the provider had
//! cached. Off unless the mock runs with `--prompt-cache` (or a request sends `x-mock-prompt-cache:
//! on`), so tests that count tokens exactly keep `input tokens = ceil(bytes / 4)`.
//!
//! The prompt is a sequence of blocks in the order the provider reads it — tools, then the system
//! prompt, then each message's content blocks (Anthropic); tools, then each message (OpenAI) — and a
//! prefix is identified by a hash chained over its blocks, per model. A prefix's tokens are its
//! blocks' JSON bytes / 4, the mock's measure everywhere.
//!
//! - **Anthropic** caches explicitly: a block carrying `cache_control` is a breakpoint. A request reads
//!   the longest prefix an earlier request wrote (`cache_read_input_tokens`) and writes the prefix up
//!   to its last breakpoint (`cache_creation_input_tokens`: what the read did not cover), if that
//!   prefix is at least [`MIN_TOKENS`] long. `input_tokens` is the rest. Changing `thinking` (on,
//!   off, its budget) invalidates the cached messages but not the tools and system prompt, as
//!   Anthropic documents for extended thinking.
//! - **OpenAI-compatible** providers cache automatically: every message boundary of a prompt of at
//!   least [`MIN_TOKENS`] is remembered, and a later prompt sharing a prefix reports it as
//!   `prompt_tokens_details.cached_tokens`, in 128-token steps (within `prompt_tokens`).
//!
//! Entries live [`TTL`] (Anthropic's default five minutes, refreshed on each hit); the table is bounded
//! by [`MAX_ENTRIES`] and forgets its oldest half when full.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

pub(crate) const MIN_TOKENS: u64 = 1024;
pub(crate) const TTL: Duration = Duration::from_secs(300);
const MAX_ENTRIES: usize = 1 << 20;
/// OpenAI reports cached tokens in steps of this many.
const OPENAI_STEP: u64 = 128;

/// What the cache did for one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CacheUse {
    pub read: u64,
    pub written: u64,
}

#[derive(Default)]
pub(crate) struct PromptCache {
    entries: Mutex<HashMap<u64, Instant>>,
}

/// One block boundary of a prompt: the hash of everything up to it, and its length in tokens.
struct Boundary {
    hash: u64,
    tokens: u64,
    breakpoint: bool,
}

/// The boundaries of `blocks`; `salt`, if any, is hashed in before block `salt.0` (it counts no tokens).
fn boundaries(model: &str, blocks: &[&Value], salt: Option<(usize, &[u8])>) -> Vec<Boundary> {
    let mut hasher = DefaultHasher::new();
    model.hash(&mut hasher);
    let mut bytes = 0u64;
    blocks
        .iter()
        .enumerate()
        .map(|(i, block)| {
            if let Some((_, salt)) = salt.filter(|(at, _)| *at == i) {
                salt.hash(&mut hasher);
            }
            // The content is the key, not where the breakpoints sit: a turn that moves its
            // breakpoint to the newest message still reads what the last turn wrote.
            let json = match block.get("cache_control") {
                Some(_) => {
                    let mut bare = (*block).clone();
                    if let Some(map) = bare.as_object_mut() {
                        map.remove("cache_control");
                    }
                    serde_json::to_vec(&bare).unwrap_or_default()
                }
                None => serde_json::to_vec(block).unwrap_or_default(),
            };
            bytes += json.len() as u64;
            json.hash(&mut hasher);
            Boundary {
                hash: hasher.finish(),
                tokens: bytes.div_ceil(4),
                breakpoint: block.get("cache_control").is_some(),
            }
        })
        .collect()
}

/// Anthropic's reading order: tools, system, messages' content blocks; and where the messages start.
fn anthropic_blocks(body: &Value) -> (Vec<&Value>, usize) {
    let mut blocks: Vec<&Value> = Vec::new();
    blocks.extend(
        body.get("tools")
            .and_then(Value::as_array)
            .into_iter()
            .flatten(),
    );
    match body.get("system") {
        Some(Value::Array(system)) => blocks.extend(system),
        Some(other @ Value::String(_)) => blocks.push(other),
        _ => {}
    }
    let messages_start = blocks.len();
    for message in body
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match message.get("content") {
            Some(Value::Array(content)) => blocks.extend(content),
            _ => blocks.push(message),
        }
    }
    (blocks, messages_start)
}

fn openai_blocks(body: &Value) -> Vec<&Value> {
    let tools = body
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    tools
        .chain(
            body.get("messages")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        )
        .collect()
}

impl PromptCache {
    /// Looks up and records an Anthropic Messages request of `total` input tokens.
    pub(crate) fn anthropic(
        &self,
        model: &str,
        body: &Value,
        total: u64,
        now: Instant,
    ) -> CacheUse {
        // Changing the thinking settings invalidates the cached messages (tools and system stay cached),
        // as Anthropic documents: they are part of the messages' key.
        let (blocks, messages_start) = anthropic_blocks(body);
        let thinking = body
            .get("thinking")
            .map(|t| t.to_string())
            .unwrap_or_default();
        let bounds = boundaries(model, &blocks, Some((messages_start, thinking.as_bytes())));
        let mut entries = self.lock();
        let read = self.longest_hit(&mut entries, &bounds, now);
        let last_breakpoint = bounds
            .iter()
            .rev()
            .find(|b| b.breakpoint && b.tokens >= MIN_TOKENS);
        let written = last_breakpoint.map_or(0, |b| b.tokens.saturating_sub(read));
        for b in bounds
            .iter()
            .filter(|b| b.breakpoint && b.tokens >= MIN_TOKENS)
        {
            Self::insert(&mut entries, b.hash, now);
        }
        let read = read.min(total);
        CacheUse {
            read,
            written: written.min(total - read),
        }
    }

    /// Looks up and records an OpenAI chat request of `total` prompt tokens.
    pub(crate) fn openai(&self, model: &str, body: &Value, total: u64, now: Instant) -> CacheUse {
        let bounds = boundaries(model, &openai_blocks(body), None);
        let mut entries = self.lock();
        let read = self.longest_hit(&mut entries, &bounds, now);
        for b in bounds.iter().filter(|b| b.tokens >= MIN_TOKENS) {
            Self::insert(&mut entries, b.hash, now);
        }
        CacheUse {
            read: (read / OPENAI_STEP * OPENAI_STEP).min(total),
            written: 0,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Instant>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Tokens of the longest prefix still cached; refreshes it, as a hit does.
    fn longest_hit(
        &self,
        entries: &mut HashMap<u64, Instant>,
        bounds: &[Boundary],
        now: Instant,
    ) -> u64 {
        for b in bounds.iter().rev().filter(|b| b.tokens >= MIN_TOKENS) {
            if let Some(at) = entries.get_mut(&b.hash) {
                if now.saturating_duration_since(*at) < TTL {
                    *at = now;
                    return b.tokens;
                }
            }
        }
        0
    }

    fn insert(entries: &mut HashMap<u64, Instant>, hash: u64, now: Instant) {
        if entries.len() >= MAX_ENTRIES {
            let mut ages: Vec<Instant> = entries.values().copied().collect();
            ages.sort_unstable();
            let cut = ages[ages.len() / 2];
            entries.retain(|_, at| *at > cut);
        }
        entries.insert(hash, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn conversation(turns: usize) -> Value {
        let mut messages = vec![
            json!({"role": "user", "content": [{"type": "text", "text": "task ".repeat(400)}]}),
        ];
        for i in 0..turns {
            messages.push(json!({"role": "assistant", "content": [{"type": "text", "text": format!("step {i} ").repeat(100)}]}));
            messages.push(json!({"role": "user", "content": [{"type": "text", "text": format!("result {i} ").repeat(100), "cache_control": {"type": "ephemeral"}}]}));
        }
        json!({
            "model": "claude-x",
            "system": [{"type": "text", "text": "You are a coding agent. ".repeat(300), "cache_control": {"type": "ephemeral"}}],
            "tools": [{"name": "Bash", "description": "run", "input_schema": {"type": "object"}}],
            "messages": messages,
        })
    }

    #[test]
    fn anthropic_reads_what_the_last_turn_wrote() {
        let cache = PromptCache::default();
        let now = Instant::now();
        let total = |v: &Value| (serde_json::to_vec(v).unwrap().len() as u64).div_ceil(4);
        let first = conversation(1);
        let u1 = cache.anthropic("claude-x", &first, total(&first), now);
        assert_eq!(u1.read, 0);
        assert!(u1.written > MIN_TOKENS, "{u1:?}");
        let second = conversation(2);
        let u2 = cache.anthropic("claude-x", &second, total(&second), now);
        assert_eq!(u2.read, u1.written, "the whole prefix the first turn wrote");
        assert!(
            u2.written > 0 && u2.written < u1.written,
            "only the new turn is written: {u2:?}"
        );
        // Another model, or after the TTL: nothing cached.
        assert_eq!(
            cache
                .anthropic("claude-y", &second, total(&second), now)
                .read,
            0
        );
        assert_eq!(
            cache
                .anthropic(
                    "claude-x",
                    &conversation(3),
                    10_000,
                    now + TTL + Duration::from_secs(1)
                )
                .read,
            0
        );
    }

    #[test]
    fn moving_a_breakpoint_keeps_the_cached_prefix() {
        let cache = PromptCache::default();
        let now = Instant::now();
        let first = conversation(1);
        let written = cache.anthropic("claude-x", &first, 10_000, now).written;
        let mut second = conversation(2);
        // Claude Code keeps the breakpoint on the newest message only.
        second["messages"][2]["content"][0]
            .as_object_mut()
            .unwrap()
            .remove("cache_control");
        assert_eq!(
            cache.anthropic("claude-x", &second, 10_000, now).read,
            written
        );
    }

    #[test]
    fn switching_thinking_invalidates_the_messages_not_the_system_prompt() {
        let cache = PromptCache::default();
        let now = Instant::now();
        let first = conversation(1);
        let written = cache.anthropic("claude-x", &first, 10_000, now).written;
        let mut thinking = conversation(2);
        thinking["thinking"] = json!({"type": "enabled", "budget_tokens": 4000});
        let read = cache.anthropic("claude-x", &thinking, 10_000, now).read;
        assert!(
            read > 0 && read < written,
            "tools and system only: {read} of {written}"
        );
        let mut back = conversation(3);
        back.as_object_mut().unwrap().remove("thinking");
        assert!(
            cache.anthropic("claude-x", &back, 10_000, now).read >= written,
            "the earlier prefix is still there"
        );
    }

    #[test]
    fn anthropic_needs_a_breakpoint_and_a_long_enough_prefix() {
        let cache = PromptCache::default();
        let now = Instant::now();
        let mut plain = conversation(1);
        plain["system"][0]
            .as_object_mut()
            .unwrap()
            .remove("cache_control");
        for m in plain["messages"].as_array_mut().unwrap() {
            m["content"][0]
                .as_object_mut()
                .unwrap()
                .remove("cache_control");
        }
        assert_eq!(
            cache.anthropic("claude-x", &plain, 5000, now),
            CacheUse::default()
        );
        assert_eq!(
            cache.anthropic("claude-x", &plain, 5000, now),
            CacheUse::default()
        );
        let short = json!({"system": [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}], "messages": []});
        assert_eq!(
            cache.anthropic("claude-x", &short, 10, now),
            CacheUse::default()
        );
        assert_eq!(
            cache.anthropic("claude-x", &short, 10, now),
            CacheUse::default()
        );
    }

    #[test]
    fn openai_caches_shared_prefixes_automatically_in_steps() {
        let cache = PromptCache::default();
        let now = Instant::now();
        let turn = |n: usize| {
            let mut messages =
                vec![json!({"role": "system", "content": "You are a coding agent. ".repeat(400)})];
            for i in 0..n {
                messages.push(json!({"role": "user", "content": format!("do {i} ").repeat(50)}));
            }
            json!({"model": "glm", "messages": messages})
        };
        assert_eq!(cache.openai("glm", &turn(1), 3000, now).read, 0);
        let again = cache.openai("glm", &turn(2), 3200, now);
        assert!(
            again.read >= MIN_TOKENS && again.read % OPENAI_STEP == 0,
            "{again:?}"
        );
        assert_eq!(again.written, 0);
        assert_eq!(
            cache.openai("qwen", &turn(2), 3200, now).read,
            0,
            "per model"
        );
    }
}
