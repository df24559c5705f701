//! The `chat.completion.chunk` as the stream translators read it (Chat → Anthropic, Chat → Responses):
//! typed, borrowing and forgiving (`loose`), one definition for both.

use serde::Deserialize;
use serde_json::Value;

use crate::translate::loose::{Borrowing, First, Items, Loose};
use crate::translate::usage::TokenUsage;

/// One `chat.completion.chunk`, or anything else the upstream sent as data: what is not an object reads
/// as a chunk without fields.
pub(crate) type ChunkData<'a> = Loose<'a, Chunk<'a>>;

pub(crate) struct ChunkOf;

impl Borrowing for ChunkOf {
    type Of<'a> = ChunkData<'a>;
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct Chunk<'a> {
    #[serde(borrow)]
    pub(crate) id: Loose<'a>,
    /// OpenRouter and others report a failure mid-stream as `{"error": …}`; rare, so kept as a `Value`.
    pub(crate) error: Option<Value>,
    #[serde(borrow)]
    pub(crate) usage: Loose<'a, Usage<'a>>,
    #[serde(borrow)]
    pub(crate) choices: First<Loose<'a, Choice<'a>>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct Usage<'a> {
    #[serde(borrow)]
    pub(crate) prompt_tokens: Loose<'a>,
    #[serde(borrow)]
    pub(crate) completion_tokens: Loose<'a>,
    #[serde(borrow)]
    pub(crate) prompt_tokens_details: Loose<'a, PromptDetails<'a>>,
    #[serde(borrow)]
    pub(crate) prompt_cache_hit_tokens: Loose<'a>,
    #[serde(borrow)]
    pub(crate) completion_tokens_details: Loose<'a, CompletionDetails<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct CompletionDetails<'a> {
    #[serde(borrow)]
    pub(crate) reasoning_tokens: Loose<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct PromptDetails<'a> {
    #[serde(borrow)]
    pub(crate) cached_tokens: Loose<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct Choice<'a> {
    #[serde(borrow)]
    pub(crate) delta: Loose<'a, Delta<'a>>,
    #[serde(borrow)]
    pub(crate) finish_reason: Loose<'a>,
    /// vLLM's name for the matched stop string.
    #[serde(borrow)]
    pub(crate) stop_reason: Loose<'a>,
    /// SGLang's name for the matched stop string.
    #[serde(borrow)]
    pub(crate) matched_stop: Loose<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct Delta<'a> {
    #[serde(borrow)]
    pub(crate) content: Loose<'a>,
    #[serde(borrow)]
    pub(crate) refusal: Loose<'a>,
    /// DeepSeek, vLLM, Qwen.
    #[serde(borrow)]
    pub(crate) reasoning_content: Loose<'a>,
    /// OpenRouter, Ollama.
    #[serde(borrow)]
    pub(crate) reasoning: Loose<'a>,
    #[serde(borrow)]
    pub(crate) tool_calls: Items<Loose<'a, ToolCall<'a>>>,
    /// The pre-`tools` single function call.
    #[serde(borrow)]
    pub(crate) function_call: Loose<'a, Function<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ToolCall<'a> {
    #[serde(borrow)]
    pub(crate) id: Loose<'a>,
    #[serde(borrow)]
    pub(crate) index: Loose<'a>,
    #[serde(borrow)]
    pub(crate) function: Loose<'a, Function<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct Function<'a> {
    #[serde(borrow)]
    pub(crate) name: Loose<'a>,
    /// A JSON string normally; some servers send the object itself.
    #[serde(borrow)]
    pub(crate) arguments: Loose<'a, Value>,
}

impl Usage<'_> {
    pub(crate) fn token_usage(&self) -> TokenUsage {
        let n = |l: &Loose<'_>| l.count().unwrap_or(0);
        let cached = self
            .prompt_tokens_details
            .obj()
            .map_or(0, |d| n(&d.cached_tokens));
        TokenUsage::from_openai_counts(
            n(&self.prompt_tokens),
            n(&self.completion_tokens),
            cached,
            n(&self.prompt_cache_hit_tokens),
        )
    }
}

impl Delta<'_> {
    /// `reasoning_content` or else `reasoning`, when non-empty.
    pub(crate) fn reasoning(&self) -> Option<&str> {
        self.reasoning_content
            .text()
            .or_else(|| self.reasoning.text())
    }
}
