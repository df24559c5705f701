//! Token counts in one shape for both APIs. Anthropic reports uncached input, cache reads and cache
//! writes separately (writes split by time-to-live in `cache_creation`); OpenAI reports one
//! `prompt_tokens` total with the cached part inside it (`prompt_tokens_details.cached_tokens`, or
//! DeepSeek's `prompt_cache_hit_tokens`), from OpenRouter the part written to the cache
//! (`prompt_tokens_details.cache_write_tokens`, for Anthropic and Gemini models with `cache_control`),
//! and the reasoning part of `completion_tokens` in `completion_tokens_details.reasoning_tokens`. The translators render from this struct and the
//! ledger accounts from it, whichever direction a request took.
//!
//! The `usage` objects are read here once, as borrowing structs ([`AnthropicUsage`],
//! [`OpenAiUsage`]) that both the stream translators and the usage extractor deserialize.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::translate::loose::Loose;
use crate::translate::read::count;

/// The counters of an Anthropic `usage` object; `None` leaves the merged value as it was.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AnthropicCounts {
    pub(crate) input: Option<u64>,
    pub(crate) output: Option<u64>,
    pub(crate) cache_read: Option<u64>,
    pub(crate) cache_creation: Option<u64>,
    /// `cache_creation.ephemeral_5m_input_tokens` / `ephemeral_1h_input_tokens`.
    pub(crate) cache_5m: Option<u64>,
    pub(crate) cache_1h: Option<u64>,
}

/// Tokens of one exchange, in Anthropic's split.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenUsage {
    /// Input tokens neither read from nor written to a cache.
    pub input_tokens: u64,
    /// Output tokens, reasoning included (both APIs bill reasoning as output).
    pub output_tokens: u64,
    pub cache_read_input_tokens: u64,
    /// Every cache write, whatever its time-to-live.
    pub cache_creation_input_tokens: u64,
    /// The part of `cache_creation_input_tokens` written with the 1-hour time-to-live; the rest is 5-minute.
    pub cache_creation_1h_input_tokens: u64,
    /// The reasoning part of `output_tokens`, where the provider says (OpenAI `reasoning_tokens`).
    pub reasoning_tokens: u64,
    /// True when the upstream reported the numbers; false when they are an estimate (a stream that was
    /// cut before its usage arrived).
    pub reported: bool,
}

impl TokenUsage {
    /// All input tokens, cached or not: OpenAI's `prompt_tokens`.
    pub fn prompt_tokens(&self) -> u64 {
        self.input_tokens
            .saturating_add(self.cache_read_input_tokens)
            .saturating_add(self.cache_creation_input_tokens)
    }

    /// Cache writes with the default 5-minute time-to-live.
    pub fn cache_creation_5m_input_tokens(&self) -> u64 {
        self.cache_creation_input_tokens
            .saturating_sub(self.cache_creation_1h_input_tokens)
    }

    /// Reads an OpenAI `usage` object.
    pub(crate) fn from_openai(u: &Value) -> Self {
        Self::from_openai_counts(
            count(u.get("prompt_tokens")),
            count(u.get("completion_tokens")),
            count(u.pointer("/prompt_tokens_details/cached_tokens")),
            count(u.get("prompt_cache_hit_tokens")),
            count(u.pointer("/completion_tokens_details/reasoning_tokens")),
        )
        .with_cache_writes(count(
            u.pointer("/prompt_tokens_details/cache_write_tokens"),
        ))
    }

    /// Moves `writes` input tokens (OpenRouter's `cache_write_tokens`, part of `prompt_tokens`) from
    /// uncached input to cache creation, Anthropic's split (OpenRouter does not say which time-to-live,
    /// so they count as 5-minute writes).
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
        reasoning: u64,
    ) -> Self {
        let cached = if cached == 0 { cache_hit } else { cached }.min(prompt);
        TokenUsage {
            input_tokens: prompt - cached,
            output_tokens: completion,
            cache_read_input_tokens: cached,
            cache_creation_input_tokens: 0,
            cache_creation_1h_input_tokens: 0,
            reasoning_tokens: reasoning.min(completion),
            reported: true,
        }
    }

    /// Reads an Anthropic `usage` object, overwriting only the counters it carries (a `message_delta`
    /// usage may repeat or omit the input counts of `message_start`).
    pub(crate) fn merge_anthropic(&mut self, u: &Value) {
        let present = |v: Option<&Value>| v.filter(|v| !v.is_null()).map(|v| count(Some(v)));
        self.merge_anthropic_counts(AnthropicCounts {
            input: present(u.get("input_tokens")),
            output: present(u.get("output_tokens")),
            cache_read: present(u.get("cache_read_input_tokens")),
            cache_creation: present(u.get("cache_creation_input_tokens")),
            cache_5m: present(u.pointer("/cache_creation/ephemeral_5m_input_tokens")),
            cache_1h: present(u.pointer("/cache_creation/ephemeral_1h_input_tokens")),
        });
    }

    /// The counters an Anthropic `usage` object carried (`None`: absent or null), however they were
    /// read. The last value of each counter wins; the 1-hour split is kept within the write total.
    pub(crate) fn merge_anthropic_counts(&mut self, c: AnthropicCounts) {
        let set = |slot: &mut u64, v: Option<u64>| *slot = v.unwrap_or(*slot);
        set(&mut self.input_tokens, c.input);
        set(&mut self.output_tokens, c.output);
        set(&mut self.cache_read_input_tokens, c.cache_read);
        set(&mut self.cache_creation_input_tokens, c.cache_creation);
        if c.cache_5m.is_some() || c.cache_1h.is_some() {
            self.cache_creation_1h_input_tokens = c.cache_1h.unwrap_or(0);
            if c.cache_creation.is_none() {
                self.cache_creation_input_tokens = c
                    .cache_5m
                    .unwrap_or(0)
                    .saturating_add(self.cache_creation_1h_input_tokens);
            }
        }
        self.cache_creation_1h_input_tokens = self
            .cache_creation_1h_input_tokens
            .min(self.cache_creation_input_tokens);
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

/// An Anthropic `usage` object as it appears in a message, `message_start` or `message_delta`,
/// borrowed from the event text; fields of the wrong type read as absent.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct AnthropicUsage<'a> {
    #[serde(borrow)]
    input_tokens: Loose<'a>,
    #[serde(borrow)]
    output_tokens: Loose<'a>,
    #[serde(borrow)]
    cache_read_input_tokens: Loose<'a>,
    #[serde(borrow)]
    cache_creation_input_tokens: Loose<'a>,
    #[serde(borrow)]
    cache_creation: Loose<'a, CacheCreation<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CacheCreation<'a> {
    #[serde(borrow)]
    ephemeral_5m_input_tokens: Loose<'a>,
    #[serde(borrow)]
    ephemeral_1h_input_tokens: Loose<'a>,
}

impl AnthropicUsage<'_> {
    pub(crate) fn counts(&self) -> AnthropicCounts {
        let split = self.cache_creation.obj();
        AnthropicCounts {
            input: self.input_tokens.count(),
            output: self.output_tokens.count(),
            cache_read: self.cache_read_input_tokens.count(),
            cache_creation: self.cache_creation_input_tokens.count(),
            cache_5m: split.and_then(|s| s.ephemeral_5m_input_tokens.count()),
            cache_1h: split.and_then(|s| s.ephemeral_1h_input_tokens.count()),
        }
    }

    /// Whether this object carried the final output count (any `output_tokens`).
    pub(crate) fn has_output(&self) -> bool {
        self.output_tokens.count().is_some()
    }
}

/// An OpenAI chat `usage` object, borrowed from the chunk or body text.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct OpenAiUsage<'a> {
    #[serde(borrow)]
    prompt_tokens: Loose<'a>,
    #[serde(borrow)]
    completion_tokens: Loose<'a>,
    #[serde(borrow)]
    prompt_tokens_details: Loose<'a, PromptDetails<'a>>,
    #[serde(borrow)]
    completion_tokens_details: Loose<'a, CompletionDetails<'a>>,
    /// DeepSeek's count of prompt tokens read from its cache.
    #[serde(borrow)]
    prompt_cache_hit_tokens: Loose<'a>,
}

/// Chat's `prompt_tokens_details`; the Responses API's `input_tokens_details` has the same fields.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct PromptDetails<'a> {
    #[serde(borrow)]
    pub(crate) cached_tokens: Loose<'a>,
    /// OpenRouter (and the Responses API): input written to the cache (explicit `cache_control` caching).
    #[serde(borrow)]
    pub(crate) cache_write_tokens: Loose<'a>,
}

/// Chat's `completion_tokens_details`; the Responses API's `output_tokens_details` has the same field.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct CompletionDetails<'a> {
    #[serde(borrow)]
    pub(crate) reasoning_tokens: Loose<'a>,
}

impl OpenAiUsage<'_> {
    pub(crate) fn token_usage(&self) -> TokenUsage {
        let n = |l: &Loose<'_>| l.count().unwrap_or(0);
        let details = self.prompt_tokens_details.obj();
        TokenUsage::from_openai_counts(
            n(&self.prompt_tokens),
            n(&self.completion_tokens),
            details.map_or(0, |d| n(&d.cached_tokens)),
            n(&self.prompt_cache_hit_tokens),
            self.completion_tokens_details
                .obj()
                .map_or(0, |d| n(&d.reasoning_tokens)),
        )
        .with_cache_writes(details.map_or(0, |d| n(&d.cache_write_tokens)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anthropic(text: &str) -> TokenUsage {
        let mut u = TokenUsage::default();
        u.merge_anthropic_counts(
            serde_json::from_str::<AnthropicUsage<'_>>(text)
                .unwrap()
                .counts(),
        );
        u
    }

    #[test]
    fn anthropic_cache_writes_split_by_ttl() {
        let u = anthropic(
            r#"{"input_tokens":12,"cache_creation_input_tokens":300,"cache_read_input_tokens":40,"output_tokens":7,
                "cache_creation":{"ephemeral_5m_input_tokens":100,"ephemeral_1h_input_tokens":200}}"#,
        );
        assert_eq!(
            (
                u.input_tokens,
                u.cache_creation_input_tokens,
                u.cache_creation_1h_input_tokens,
                u.cache_creation_5m_input_tokens()
            ),
            (12, 300, 200, 100)
        );
        assert_eq!(
            (
                u.cache_read_input_tokens,
                u.output_tokens,
                u.prompt_tokens()
            ),
            (40, 7, 352)
        );
        // Without the split every write is a 5-minute one; with only the split the total is its sum.
        assert_eq!(
            anthropic(r#"{"cache_creation_input_tokens":50}"#).cache_creation_5m_input_tokens(),
            50
        );
        let split_only = anthropic(
            r#"{"cache_creation":{"ephemeral_5m_input_tokens":5,"ephemeral_1h_input_tokens":6}}"#,
        );
        assert_eq!(
            (
                split_only.cache_creation_input_tokens,
                split_only.cache_creation_1h_input_tokens
            ),
            (11, 6)
        );
    }

    #[test]
    fn value_and_borrowed_reads_agree() {
        let text = r#"{"input_tokens":3,"output_tokens":9,"cache_read_input_tokens":null,"cache_creation":{"ephemeral_1h_input_tokens":4},"cache_creation_input_tokens":4}"#;
        let mut from_value = TokenUsage::default();
        from_value.merge_anthropic(&serde_json::from_str(text).unwrap());
        assert_eq!(from_value, anthropic(text));
        let openai = r#"{"prompt_tokens":100,"completion_tokens":20,"prompt_tokens_details":{"cached_tokens":60},"completion_tokens_details":{"reasoning_tokens":5}}"#;
        let borrowed = serde_json::from_str::<OpenAiUsage<'_>>(openai)
            .unwrap()
            .token_usage();
        assert_eq!(
            borrowed,
            TokenUsage::from_openai(&serde_json::from_str(openai).unwrap())
        );
        assert_eq!(
            (
                borrowed.input_tokens,
                borrowed.cache_read_input_tokens,
                borrowed.output_tokens,
                borrowed.reasoning_tokens
            ),
            (40, 60, 20, 5)
        );
    }

    #[test]
    fn openrouter_cache_writes_count_as_cache_creation() {
        let text = r#"{"prompt_tokens":3000,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":1024,"cache_write_tokens":1500}}"#;
        let borrowed = serde_json::from_str::<OpenAiUsage<'_>>(text)
            .unwrap()
            .token_usage();
        assert_eq!(
            (
                borrowed.input_tokens,
                borrowed.cache_read_input_tokens,
                borrowed.cache_creation_input_tokens,
                borrowed.cache_creation_5m_input_tokens()
            ),
            (476, 1024, 1500, 1500)
        );
        assert_eq!(
            borrowed,
            TokenUsage::from_openai(&serde_json::from_str(text).unwrap())
        );
        assert_eq!(borrowed.prompt_tokens(), 3000);
    }

    #[test]
    fn deepseek_cache_hits_count_as_cache_reads() {
        let u = serde_json::from_str::<OpenAiUsage<'_>>(r#"{"prompt_tokens":50,"completion_tokens":2,"prompt_cache_hit_tokens":30,"prompt_cache_miss_tokens":20}"#).unwrap().token_usage();
        assert_eq!((u.input_tokens, u.cache_read_input_tokens), (20, 30));
    }
}
