//! The models `GET /v1/models` lists. The mock answers for any model name it is sent; this list only exists so
//! that model discovery (Claude Code's gateway model picker, OpenAI clients' model lists) has something real-looking
//! to show. Both API shapes are rendered from this one table, once, when the server starts.

/// One listed model, with the fields either API's list needs.
pub(crate) struct ModelInfo {
    pub id: &'static str,
    pub display_name: &'static str,
    /// RFC 3339, for Anthropic's `created_at`.
    pub created_at: &'static str,
    /// Unix seconds, for OpenAI's `created`.
    pub created: u64,
    pub owned_by: &'static str,
}

pub(crate) const MODELS: &[ModelInfo] = &[
    ModelInfo {
        id: "claude-opus-4-5",
        display_name: "Claude Opus 4.5",
        created_at: "2025-11-24T00:00:00Z",
        created: 1_763_942_400,
        owned_by: "anthropic",
    },
    ModelInfo {
        id: "claude-sonnet-4-5",
        display_name: "Claude Sonnet 4.5",
        created_at: "2025-09-29T00:00:00Z",
        created: 1_759_104_000,
        owned_by: "anthropic",
    },
    ModelInfo {
        id: "claude-haiku-4-5",
        display_name: "Claude Haiku 4.5",
        created_at: "2025-10-15T00:00:00Z",
        created: 1_760_486_400,
        owned_by: "anthropic",
    },
    ModelInfo {
        id: "gpt-4o",
        display_name: "GPT-4o",
        created_at: "2024-05-10T19:10:49Z",
        created: 1_715_367_049,
        owned_by: "openai",
    },
    ModelInfo {
        id: "gpt-4o-mini",
        display_name: "GPT-4o mini",
        created_at: "2024-07-16T23:32:21Z",
        created: 1_721_172_741,
        owned_by: "openai",
    },
    ModelInfo {
        id: "switchyard-mock",
        display_name: "Switchyard Mock",
        created_at: "2025-01-01T00:00:00Z",
        created: 1_735_689_600,
        owned_by: "switchyard",
    },
];
