//! Client-credential pass-through: which provider credentials switchyard recognises, by exact
//! prefix, and which provider families may receive them. Nothing is forwarded by guess: a shape
//! not listed here is refused, and a recognised one goes only to a provider of its family.
//!
//! | prefix | shape | forwarded as |
//! |---|---|---|
//! | `sk-ant-api` | Anthropic API key | `x-api-key` |
//! | `sk-ant-oat` | Anthropic OAuth token (Claude subscriptions) | `Authorization: Bearer`, with `anthropic-beta: oauth-2025-04-20` |
//! | `sk-or-` | OpenRouter key | `Authorization: Bearer` |
//! | `sk-proj-`, `sk-svcacct-`, `sk-` (other) | OpenAI key | `Authorization: Bearer` |

use crate::secret::Secret;

/// The beta flag Anthropic requires with OAuth tokens.
pub const OAUTH_BETA: &str = "oauth-2025-04-20";

/// Which provider family a credential belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Anthropic,
    OpenRouter,
    OpenAi,
}

impl Family {
    pub fn parse(name: &str) -> Option<Option<Family>> {
        match name {
            "anthropic" => Some(Some(Family::Anthropic)),
            "openrouter" => Some(Some(Family::OpenRouter)),
            "openai" => Some(Some(Family::OpenAi)),
            "none" => Some(None),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    AnthropicApiKey,
    AnthropicOAuth,
    OpenRouter,
    OpenAi,
}

impl Shape {
    pub fn family(self) -> Family {
        match self {
            Shape::AnthropicApiKey | Shape::AnthropicOAuth => Family::Anthropic,
            Shape::OpenRouter => Family::OpenRouter,
            Shape::OpenAi => Family::OpenAi,
        }
    }
}

/// A provider credential the client presented.
#[derive(Debug, Clone)]
pub struct ClientCredential {
    pub shape: Shape,
    pub value: Secret,
}

/// Recognises a credential by its exact prefix; `None` for anything else.
pub fn classify(value: &str) -> Option<ClientCredential> {
    let value = value.trim();
    let shape = if value.starts_with("sk-ant-api") {
        Shape::AnthropicApiKey
    } else if value.starts_with("sk-ant-oat") {
        Shape::AnthropicOAuth
    } else if value.starts_with("sk-ant-") {
        return None;
    } else if value.starts_with("sk-or-") {
        Shape::OpenRouter
    } else if value.starts_with("sk-") && value.len() > 20 {
        Shape::OpenAi
    } else {
        return None;
    };
    Some(ClientCredential { shape, value: Secret::new(value) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_exactly_the_documented_prefixes() {
        let shape = |v: &str| classify(v).map(|c| c.shape);
        assert_eq!(shape("sk-ant-api03-abcdefghijklmnop"), Some(Shape::AnthropicApiKey));
        assert_eq!(shape("sk-ant-oat01-abcdefghijklmnop"), Some(Shape::AnthropicOAuth));
        assert_eq!(shape("sk-or-v1-0123456789abcdef"), Some(Shape::OpenRouter));
        assert_eq!(shape("sk-proj-0123456789abcdefghij"), Some(Shape::OpenAi));
        assert_eq!(shape("sk-0123456789abcdefghijklmn"), Some(Shape::OpenAi));
        assert_eq!(shape("sk-ant-admin01-xyz"), None, "other Anthropic key kinds are not guessed");
        assert_eq!(shape("sk-short"), None);
        assert_eq!(shape("ghp_0123456789"), None);
        assert_eq!(shape(""), None);
    }

    #[test]
    fn families() {
        assert_eq!(Shape::AnthropicOAuth.family(), Family::Anthropic);
        assert_eq!(Family::parse("none"), Some(None));
        assert_eq!(Family::parse("x"), None);
    }
}
