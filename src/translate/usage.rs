//! Token counts in one shape for both directions. Anthropic reports uncached input, cache reads and cache
//! writes separately; OpenAI reports one `prompt_tokens` total with the cached part inside it
//! (`prompt_tokens_details.cached_tokens`, or DeepSeek's `prompt_cache_hit_tokens`). The gateway accounts
//! from this struct whichever direction a request took.

use serde_json::{json, Value};

use super::read::count;

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
        let prompt = count(u.get("prompt_tokens"));
        let mut cached = count(u.pointer("/prompt_tokens_details/cached_tokens"));
        if cached == 0 {
            cached = count(u.get("prompt_cache_hit_tokens"));
        }
        let cached = cached.min(prompt);
        TokenUsage {
            input_tokens: prompt - cached,
            output_tokens: count(u.get("completion_tokens")),
            cache_read_input_tokens: cached,
            cache_creation_input_tokens: 0,
            reported: true,
        }
    }

    /// Reads an Anthropic `usage` object, overwriting only the counters it carries (a `message_delta`
    /// usage may repeat or omit the input counts of `message_start`).
    pub(crate) fn merge_anthropic(&mut self, u: &Value) {
        if let Some(v) = u.get("input_tokens").filter(|v| !v.is_null()) {
            self.input_tokens = count(Some(v));
        }
        if let Some(v) = u.get("output_tokens").filter(|v| !v.is_null()) {
            self.output_tokens = count(Some(v));
        }
        if let Some(v) = u.get("cache_read_input_tokens").filter(|v| !v.is_null()) {
            self.cache_read_input_tokens = count(Some(v));
        }
        if let Some(v) = u
            .get("cache_creation_input_tokens")
            .filter(|v| !v.is_null())
        {
            self.cache_creation_input_tokens = count(Some(v));
        }
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
