//! `GET /v1/models`: the models a team can actually use, in the caller's list shape. Claude Code's gateway
//! model discovery (`CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY=1`) and OpenAI SDK model lists read it, so it
//! must not be empty whenever something can be served.
//!
//! The list, in this order, without duplicates, filtered by the team's model globs:
//! 1. exact names from `models:` (aliases and fallback chains);
//! 2. the team's `default_model`, then the global one;
//! 3. each provider's configured `models:`;
//! 4. the built-in mock's own models, when the mock serves;
//! 5. for providers with `any_model`, the models the provider's own `/v1/models` lists ([`discovery`],
//!    fetched in the background — never on the request path).
//!
//! A provider's model `m` is listed under its bare name when that name routes straight to that provider and
//! model (`claude-haiku-4-5` under a `claude-*` → `anthropic/*` rule), else as `provider/m`.

pub mod discovery;
mod page;

use std::sync::Arc;

use crate::api::ApiFormat;
use crate::config::{Provider, ProviderKind};
use crate::routing::Router;

pub use discovery::{Discovered, DiscoveryService};
pub use page::{Page, PageQuery};

/// One source of a provider's model names.
type ModelsOf<'a> = dyn Fn(&Provider) -> Vec<String> + 'a;

/// What the list is built from.
pub struct Sources<'a> {
    pub router: &'a Router,
    pub providers: &'a [Arc<Provider>],
    pub discovered: &'a Discovered,
}

/// The model names a team may use, as described in the module docs.
pub fn usable_models(
    src: &Sources<'_>,
    team_default: Option<&str>,
    may_use: impl Fn(&str) -> bool,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    // Adds `name` if the team may use it; says whether it is listed now.
    let mut listed = |name: &str| {
        if out.iter().any(|n| n == name) {
            return true;
        }
        let allowed = may_use(name);
        if allowed {
            out.push(name.to_string());
        }
        allowed
    };
    for name in src.router.exact_names() {
        listed(name);
    }
    for name in team_default.into_iter().chain(src.router.default_model()) {
        if src.router.resolve_direct(name).is_some() {
            listed(name);
        }
    }
    let configured = |p: &Provider| p.listed_models.clone();
    let mock = |p: &Provider| match p.kind {
        ProviderKind::Mock => crate::mock::model_ids().map(str::to_string).collect(),
        _ => Vec::new(),
    };
    let discovered = |p: &Provider| match p.any_model {
        true => src
            .discovered
            .models(&p.name)
            .map(|m| m.to_vec())
            .unwrap_or_default(),
        false => Vec::new(),
    };
    let stages: [&ModelsOf; 3] = [&configured, &mock, &discovered];
    for models_of in stages {
        for (index, provider) in src.providers.iter().enumerate() {
            for model in models_of(provider) {
                // The first name the team may use wins.
                for name in names_for(src.router, index, &provider.name, &model) {
                    if listed(&name) {
                        break;
                    }
                }
            }
        }
    }
    out
}

/// The names a provider's model can be asked for by, best first: bare when it routes straight there, then
/// `provider/model` when that routes there.
fn names_for(router: &Router, provider: usize, provider_name: &str, model: &str) -> Vec<String> {
    let goes_there = |name: &str| {
        let first = router
            .resolve_direct(name)
            .and_then(|r| r.targets.into_iter().next());
        first.is_some_and(|t| t.provider == provider && t.upstream_model == model)
    };
    let qualified = format!("{provider_name}/{model}");
    [model.to_string(), qualified]
        .into_iter()
        .filter(|name| goes_there(name))
        .collect()
}

/// The response body for a list request: OpenAI's shape (every model), or Anthropic's (paged by `limit`,
/// `after_id`, `before_id`). `Err` is a bad query, for a 400.
pub fn body(format: ApiFormat, query: Option<&str>, models: &[String]) -> Result<Vec<u8>, String> {
    let value = match format {
        ApiFormat::OpenAi | ApiFormat::Responses => serde_json::json!({
            "object": "list",
            "data": models.iter().map(|id| serde_json::json!({
                "id": id, "object": "model", "created": 0, "owned_by": owner(id),
            })).collect::<Vec<_>>(),
        }),
        ApiFormat::Anthropic => {
            let page = PageQuery::parse(query)?.apply(models)?;
            serde_json::json!({
                "data": page.items.iter().map(|id| serde_json::json!({
                    "type": "model", "id": id, "display_name": id, "created_at": "1970-01-01T00:00:00Z",
                })).collect::<Vec<_>>(),
                "has_more": page.has_more,
                "first_id": page.items.first(),
                "last_id": page.items.last(),
            })
        }
    };
    Ok(serde_json::to_vec(&value).unwrap_or_default())
}

fn owner(id: &str) -> &str {
    id.split_once('/')
        .map_or("switchyard", |(provider, _)| provider)
}

#[cfg(test)]
mod tests;
