//! The `chat.completion.chunk` as the stream translators read it (Chat → Anthropic, Chat → Responses):
//! typed, borrowing and forgiving (`loose`), one definition for both — and for the usage extractor, which
//! reads an OpenAI-format upstream's stream with it. Its `usage` object is `usage::tokens::OpenAiUsage`.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::Value;

use crate::translate::loose::{Borrowing, First, Items, Loose};
use crate::usage::tokens::OpenAiUsage;

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
    pub(crate) usage: Loose<'a, OpenAiUsage<'a>>,
    #[serde(borrow)]
    pub(crate) choices: First<Loose<'a, Choice<'a>>>,
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

/// One piece of a tool call in a delta, ready for `tool_calls::ToolCalls`: absent and empty values read as
/// `None`, arguments as text.
pub(crate) struct ToolPiece<'d> {
    pub(crate) index: Option<u64>,
    pub(crate) id: Option<&'d str>,
    pub(crate) name: Option<&'d str>,
    /// A JSON string normally; an object a server sent is serialized.
    pub(crate) arguments: Cow<'d, str>,
}

impl Delta<'_> {
    /// The delta's tool-call pieces in order: the `tool_calls` entries, then the older single
    /// `function_call` (which has neither index nor id).
    pub(crate) fn tool_pieces(&self) -> impl Iterator<Item = ToolPiece<'_>> {
        let entries = self.tool_calls.0.iter().map(|call| {
            let call = call.obj();
            let f = call.and_then(|c| c.function.obj());
            ToolPiece::new(
                call.and_then(|c| c.index.u64()),
                call.and_then(|c| c.id.text()),
                f,
            )
        });
        let legacy = self
            .function_call
            .obj()
            .map(|f| ToolPiece::new(None, None, Some(f)));
        entries.chain(legacy)
    }

    /// `reasoning_content` or else `reasoning`, when non-empty.
    pub(crate) fn reasoning(&self) -> Option<&str> {
        self.reasoning_content
            .text()
            .or_else(|| self.reasoning.text())
    }
}

impl<'d> ToolPiece<'d> {
    fn new(index: Option<u64>, id: Option<&'d str>, f: Option<&'d Function<'_>>) -> Self {
        ToolPiece {
            index,
            id: id.filter(|i| !i.is_empty()),
            name: f.and_then(|f| f.name.str()).filter(|n| !n.is_empty()),
            arguments: match f.map(|f| &f.arguments) {
                Some(Loose::Str(s)) => Cow::Borrowed(s.as_ref()),
                Some(Loose::Obj(v)) => Cow::Owned(crate::translate::read::to_string(v)),
                _ => Cow::Borrowed(""),
            },
        }
    }
}
