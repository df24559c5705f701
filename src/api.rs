//! The client-facing API surface: which endpoint a request is for and which wire format
//! (Anthropic Messages, OpenAI Chat Completions or OpenAI Responses) its caller speaks — which
//! decides the shape of every error it gets.

/// The wire format a client or a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiFormat {
    Anthropic,
    /// OpenAI Chat Completions (and every OpenAI-compatible server).
    OpenAi,
    /// OpenAI Responses (`POST /v1/responses`, what Codex CLI speaks). Its errors have the
    /// OpenAI shape; its streams are typed events.
    Responses,
}

impl ApiFormat {
    /// The format's name in usage records and the request log.
    pub fn label(self) -> &'static str {
        match self {
            ApiFormat::Anthropic => "anthropic",
            ApiFormat::OpenAi => "openai",
            ApiFormat::Responses => "responses",
        }
    }
}

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /v1/messages`
    Messages,
    /// `POST /v1/messages/count_tokens`
    CountTokens,
    /// `POST /v1/chat/completions`
    ChatCompletions,
    /// `POST /v1/responses`
    Responses,
    /// `GET /v1/models`
    Models,
    /// `GET /healthz`
    Health,
    /// `GET /readyz`
    Ready,
    /// `HEAD|GET /api/hello` — Claude Code's connectivity probe.
    Hello,
    /// Anything else: answered with 404 (or 405) in the caller's format.
    Unknown,
}

impl Endpoint {
    /// Classifies by method and path (query string excluded).
    pub fn classify(method: &str, path: &str) -> (Endpoint, bool) {
        let path = path.strip_suffix('/').filter(|p| !p.is_empty()).unwrap_or(path);
        let (endpoint, wants) = match path {
            "/v1/messages" => (Endpoint::Messages, "POST"),
            "/v1/messages/count_tokens" => (Endpoint::CountTokens, "POST"),
            "/v1/chat/completions" | "/chat/completions" => (Endpoint::ChatCompletions, "POST"),
            "/v1/responses" | "/responses" => (Endpoint::Responses, "POST"),
            "/v1/models" | "/models" => (Endpoint::Models, "GET"),
            "/healthz" => (Endpoint::Health, "GET"),
            "/readyz" => (Endpoint::Ready, "GET"),
            "/api/hello" => (Endpoint::Hello, "GET"),
            _ => (Endpoint::Unknown, ""),
        };
        let method_ok = method == wants || (method == "HEAD" && wants == "GET") || endpoint == Endpoint::Unknown;
        (endpoint, method_ok)
    }

    /// The format implied by the endpoint itself, if any.
    pub fn format(self) -> Option<ApiFormat> {
        match self {
            Endpoint::Messages | Endpoint::CountTokens => Some(ApiFormat::Anthropic),
            Endpoint::ChatCompletions => Some(ApiFormat::OpenAi),
            Endpoint::Responses => Some(ApiFormat::Responses),
            _ => None,
        }
    }

    /// Every endpoint, in [`Endpoint::index`] order.
    pub const ALL: [Endpoint; 9] = [
        Endpoint::Messages,
        Endpoint::CountTokens,
        Endpoint::ChatCompletions,
        Endpoint::Responses,
        Endpoint::Models,
        Endpoint::Health,
        Endpoint::Ready,
        Endpoint::Hello,
        Endpoint::Unknown,
    ];

    /// Whether requests to this endpoint go to a provider.
    pub fn is_proxied(self) -> bool {
        matches!(self, Endpoint::Messages | Endpoint::CountTokens | Endpoint::ChatCompletions | Endpoint::Responses)
    }

    /// A dense index, for tables built once per endpoint (metric handles).
    pub fn index(self) -> usize {
        self as usize
    }

    /// A bounded label for metrics.
    pub fn label(self) -> &'static str {
        match self {
            Endpoint::Messages => "messages",
            Endpoint::CountTokens => "count_tokens",
            Endpoint::ChatCompletions => "chat_completions",
            Endpoint::Responses => "responses",
            Endpoint::Models => "models",
            Endpoint::Health => "healthz",
            Endpoint::Ready => "readyz",
            Endpoint::Hello => "hello",
            Endpoint::Unknown => "unknown",
        }
    }
}

/// The caller's format: from the endpoint, else Anthropic when it sent `anthropic-version`.
pub fn caller_format(endpoint: Endpoint, has_anthropic_version: bool) -> ApiFormat {
    endpoint.format().unwrap_or(if has_anthropic_version { ApiFormat::Anthropic } else { ApiFormat::OpenAi })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_endpoint_at_its_index() {
        for (i, endpoint) in Endpoint::ALL.iter().enumerate() {
            assert_eq!(endpoint.index(), i, "{endpoint:?}");
        }
    }

    #[test]
    fn classifies_paths_and_methods() {
        assert_eq!(Endpoint::classify("POST", "/v1/messages"), (Endpoint::Messages, true));
        assert_eq!(Endpoint::classify("GET", "/v1/messages"), (Endpoint::Messages, false));
        assert_eq!(Endpoint::classify("POST", "/v1/messages/count_tokens"), (Endpoint::CountTokens, true));
        assert_eq!(Endpoint::classify("POST", "/v1/chat/completions/"), (Endpoint::ChatCompletions, true));
        assert_eq!(Endpoint::classify("POST", "/v1/responses"), (Endpoint::Responses, true));
        assert_eq!(Endpoint::classify("GET", "/v1/responses"), (Endpoint::Responses, false));
        assert_eq!(Endpoint::classify("HEAD", "/api/hello"), (Endpoint::Hello, true));
        assert_eq!(Endpoint::classify("GET", "/v1/models"), (Endpoint::Models, true));
        assert_eq!(Endpoint::classify("GET", "/nope"), (Endpoint::Unknown, true));
    }

    #[test]
    fn caller_format_prefers_the_endpoint() {
        assert_eq!(caller_format(Endpoint::Messages, false), ApiFormat::Anthropic);
        assert_eq!(caller_format(Endpoint::ChatCompletions, true), ApiFormat::OpenAi);
        assert_eq!(caller_format(Endpoint::Responses, true), ApiFormat::Responses);
        assert_eq!(caller_format(Endpoint::Models, true), ApiFormat::Anthropic);
        assert_eq!(caller_format(Endpoint::Models, false), ApiFormat::OpenAi);
    }
}
