//! Token counts in one shape for both directions. Anthropic reports uncached input, cache reads and cache
//! writes separately; OpenAI reports one `prompt_tokens` total with the cached part inside it
//! (`prompt_tokens_details.cached_tokens`, or DeepSeek's `prompt_cache_hit_tokens`) and, from OpenRouter,
//! the part written to the cache (`prompt_tokens_details.cache_write_tokens`, for Anthropic and Gemini
//! models with `cache_control`). The gateway accounts from this struct whichever direction a request took.

use serde_json::{json, Value};

use super::read::count;

/// The counters of an Anthropic `usage` object; `None` leaves the merged value as it was.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AnthropicCounts {
    pub(crate) input: Option<u64>,
    pub(crate) output: Option<u64>,
    pub(crate) cache_read: Option<u64>,
    pub(crate) cache_creation: Option<u64>,
}

/// Tokens of one exchange, in Anthropic's split.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenUsage {
    /// Input tokens not read from a cache.
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_input_tokens: u64,
    pub cache_creation_input_tokens: u64,
    /// True when the upstream reported the numbers; false when they are the translator's estimate
    /// (a stream that was cut before its usage arrived).
    pub reported: bool,
}

impl TokenUsage {
    /// All input tokens, cached or not: OpenAI's `prompt_tokens`.
    pub fn prompt_tokens(&self) -> u64 {
        self.input_tokens
            .saturating_add(self.cache_read_input_tokens)
            .saturating_add(self.cache_creation_input_tokens)
    }

    /// Reads an OpenAI `usage` object.
    pub(crate) fn from_openai(u: &Value) -> Self {
        Self::from_openai_counts(
            count(u.get("prompt_tokens")),
            count(u.get("completion_tokens")),
            count(u.pointer("/prompt_tokens_details/cached_tokens")),
            count(u.get("prompt_cache_hit_tokens")),
        )
        .with_cache_writes(count(u.pointer("/prompt_tokens_details/cache_write_tokens")))
    }

    /// Moves `writes` input tokens (OpenRouter's `cache_write_tokens`, part of `prompt_tokens`) from
    /// uncached input to cache creation, Anthropic's split.
    pub(crate) fn with_cache_writes(mut self, writes: u64) -> Self {
        let writes = writes.min(self.input_tokens);
        self.input_tokens -= writes;
        self.cache_creation_input_tokens = self.cache_creation_input_tokens.saturating_add(writes);
        self
    }

    /// The counters of an OpenAI `usage` object, however they were read: `cached` is
    /// `prompt_tokens_details.cached_tokens`, `cache_hit` DeepSeek's `prompt_cache_hit_tokens`.
    pub(crate) fn from_openai_counts(
        prompt: u64,
        completion: u64,
        cached: u64,
        cache_hit: u64,
    ) -> Self {
        let cached = if cached == 0 { cache_hit } else { cached }.min(prompt);
        TokenUsage {
            input_tokens: prompt - cached,
            output_tokens: completion,
            cache_read_input_tokens: cached,
            cache_creation_input_tokens: 0,
            reported: true,
        }
    }

    /// Reads an Anthropic `usage` object, overwriting only the counters it carries (a `message_delta`
    /// usage may repeat or omit the input counts of `message_start`).
    pub(crate) fn merge_anthropic(&mut self, u: &Value) {
        let present = |key: &str| u.get(key).filter(|v| !v.is_null()).map(|v| count(Some(v)));
        self.merge_anthropic_counts(AnthropicCounts {
            input: present("input_tokens"),
            output: present("output_tokens"),
            cache_read: present("cache_read_input_tokens"),
            cache_creation: present("cache_creation_input_tokens"),
        });
    }

    /// The counters an Anthropic `usage` object carried (`None`: absent or null), however they were read.
    pub(crate) fn merge_anthropic_counts(&mut self, c: AnthropicCounts) {
        let set = |slot: &mut u64, v: Option<u64>| *slot = v.unwrap_or(*slot);
        set(&mut self.input_tokens, c.input);
        set(&mut self.output_tokens, c.output);
        set(&mut self.cache_read_input_tokens, c.cache_read);
        set(&mut self.cache_creation_input_tokens, c.cache_creation);
        self.reported = true;
    }

    pub(crate) fn to_anthropic_json(self) -> Value {
        json!({
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
        })
    }

    pub(crate) fn to_openai_json(self) -> Value {
        let prompt = self.prompt_tokens();
        json!({
            "prompt_tokens": prompt,
            "completion_tokens": self.output_tokens,
            "total_tokens": prompt.saturating_add(self.output_tokens),
            "prompt_tokens_details": { "cached_tokens": self.cache_read_input_tokens },
        })
    }
}
