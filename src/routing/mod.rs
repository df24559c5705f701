//! Model routing: from the model name a client sent to an ordered list of
//! `(provider, upstream model)` targets. Pure data, built once from config; the proxy
//! asks it one question per request and never sees the rules themselves.
//!
//! Resolution order, first hit wins:
//! 1. an exact public name from `models:`;
//! 2. `provider/upstream-model` naming an enabled provider (what Claude Code users type with `/model`);
//! 3. glob names from `models:` (`claude-*`), in file order;
//! 4. the team's default model, then the global `default_model`, each resolved by 1–3.

use std::collections::HashMap;

use globset::{Glob, GlobMatcher};

/// The upstream model a target asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetModel {
    /// Always this upstream name.
    Fixed(String),
    /// Whatever name the client asked for (`provider/*`).
    Requested,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSpec {
    pub provider: usize,
    pub model: TargetModel,
}

/// One concrete place to send a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub provider: usize,
    pub upstream_model: String,
}

/// How far a fallback chain may go for one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Budget {
    /// Most targets tried (None: all).
    pub max_attempts: Option<usize>,
    /// No fallback starts after this much time since the request arrived.
    pub deadline: Option<std::time::Duration>,
}

/// Where a request goes: targets in fallback order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub targets: Vec<Target>,
    pub budget: Budget,
}

#[derive(Debug)]
struct GlobRule {
    matcher: GlobMatcher,
    targets: Vec<TargetSpec>,
    budget: Budget,
}

#[derive(Debug, Clone)]
pub struct ProviderEntry {
    pub index: usize,
    pub any_model: bool,
    pub listed_models: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Router {
    exact: HashMap<String, (Vec<TargetSpec>, Budget)>,
    exact_order: Vec<String>,
    globs: Vec<GlobRule>,
    providers: HashMap<String, ProviderEntry>,
    provider_order: Vec<String>,
    default_model: Option<String>,
    /// Rule names whose every provider is disabled (no key): known, but serving nothing.
    disabled_names: std::collections::HashSet<String>,
}

/// A glob that `globset` refused, for the config layer to report with its field path.
#[derive(Debug)]
pub struct BadGlob(pub String);

pub fn compile_glob(pattern: &str) -> Result<GlobMatcher, BadGlob> {
    Glob::new(pattern)
        .map(|g| g.compile_matcher())
        .map_err(|e| BadGlob(e.kind().to_string()))
}

pub fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?', '['])
}

impl Router {
    pub fn add_provider(&mut self, name: &str, entry: ProviderEntry) {
        self.provider_order.push(name.to_string());
        self.providers.insert(name.to_string(), entry);
    }

    pub fn provider(&self, name: &str) -> Option<&ProviderEntry> {
        self.providers.get(name)
    }

    /// Adds a `models:` rule; glob names are matched after exact names and prefixes.
    pub fn add_rule(&mut self, name: &str, targets: Vec<TargetSpec>, budget: Budget) -> Result<(), BadGlob> {
        if is_glob(name) {
            self.globs.push(GlobRule { matcher: compile_glob(name)?, targets, budget });
        } else if !self.exact.contains_key(name) {
            self.exact_order.push(name.to_string());
            self.exact.insert(name.to_string(), (targets, budget));
        }
        Ok(())
    }

    pub fn add_disabled_name(&mut self, name: &str) {
        self.disabled_names.insert(name.to_string());
    }

    pub fn is_disabled_name(&self, name: &str) -> bool {
        self.disabled_names.contains(name)
    }

    pub fn set_default_model(&mut self, model: Option<String>) {
        self.default_model = model;
    }

    pub fn default_model(&self) -> Option<&str> {
        self.default_model.as_deref()
    }

    /// Resolves a requested model, falling back to the team's and then the global default.
    pub fn resolve(&self, requested: &str, team_default: Option<&str>) -> Option<Route> {
        self.resolve_direct(requested)
            .or_else(|| team_default.and_then(|m| self.resolve_direct(m)))
            .or_else(|| self.default_model.as_deref().and_then(|m| self.resolve_direct(m)))
    }

    /// Resolves by rules 1–3 only (no defaults).
    pub fn resolve_direct(&self, requested: &str) -> Option<Route> {
        if let Some((specs, budget)) = self.exact.get(requested) {
            return Some(instantiate(specs, *budget, requested));
        }
        if let Some((provider, model)) = requested.split_once('/') {
            if let Some(entry) = self.providers.get(provider) {
                let listed = entry.listed_models.iter().any(|m| m == model);
                if !model.is_empty() && (entry.any_model || listed) {
                    return Some(Route {
                        targets: vec![Target { provider: entry.index, upstream_model: model.to_string() }],
                        budget: Budget::default(),
                    });
                }
            }
        }
        self.globs
            .iter()
            .find(|rule| rule.matcher.is_match(requested))
            .map(|rule| instantiate(&rule.targets, rule.budget, requested))
    }

    /// Public names worth listing in `/v1/models`: exact rules, then `provider/model` for listed models.
    pub fn listed_models(&self) -> Vec<String> {
        let mut out = self.exact_order.clone();
        for name in &self.provider_order {
            if let Some(entry) = self.providers.get(name) {
                out.extend(entry.listed_models.iter().map(|m| format!("{name}/{m}")));
            }
        }
        out
    }
}

fn instantiate(specs: &[TargetSpec], budget: Budget, requested: &str) -> Route {
    Route {
        budget,
        targets: specs
            .iter()
            .map(|spec| Target {
                provider: spec.provider,
                upstream_model: match &spec.model {
                    TargetModel::Fixed(m) => m.clone(),
                    TargetModel::Requested => requested.to_string(),
                },
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router {
        let mut r = Router::default();
        r.add_provider("anthropic", ProviderEntry { index: 0, any_model: true, listed_models: vec!["claude-haiku-4-5".into()] });
        r.add_provider("openrouter", ProviderEntry { index: 1, any_model: true, listed_models: vec![] });
        r.add_provider("fixed", ProviderEntry { index: 2, any_model: false, listed_models: vec!["only-this".into()] });
        let fixed = |p, m: &str| TargetSpec { provider: p, model: TargetModel::Fixed(m.into()) };
        r.add_rule("fast", vec![fixed(1, "z-ai/glm-4.5-air"), fixed(0, "claude-haiku-4-5")], Budget::default()).unwrap();
        r.add_rule("claude-*", vec![TargetSpec { provider: 0, model: TargetModel::Requested }], Budget::default()).unwrap();
        r
    }

    fn t(provider: usize, m: &str) -> Target {
        Target { provider, upstream_model: m.into() }
    }

    #[test]
    fn exact_alias_keeps_fallback_order() {
        let route = router().resolve("fast", None).unwrap();
        assert_eq!(route.targets, vec![t(1, "z-ai/glm-4.5-air"), t(0, "claude-haiku-4-5")]);
    }

    #[test]
    fn provider_prefix_strips_the_provider() {
        assert_eq!(router().resolve("openrouter/z-ai/glm-4.5-air", None).unwrap().targets, vec![t(1, "z-ai/glm-4.5-air")]);
        assert_eq!(router().resolve("anthropic/claude-sonnet-4-5", None).unwrap().targets, vec![t(0, "claude-sonnet-4-5")]);
    }

    #[test]
    fn provider_without_any_model_only_serves_listed_models() {
        let r = router();
        assert!(r.resolve("fixed/only-this", None).is_some());
        assert!(r.resolve("fixed/other", None).is_none());
    }

    #[test]
    fn glob_forwards_the_requested_name() {
        assert_eq!(router().resolve("claude-opus-5-5", None).unwrap().targets, vec![t(0, "claude-opus-5-5")]);
    }

    #[test]
    fn unknown_model_uses_team_then_global_default() {
        let mut r = router();
        assert!(r.resolve("gpt-9", None).is_none());
        assert_eq!(r.resolve("gpt-9", Some("fast")).unwrap().targets[0], t(1, "z-ai/glm-4.5-air"));
        r.set_default_model(Some("openrouter/qwen/qwen3".into()));
        assert_eq!(r.resolve("gpt-9", None).unwrap().targets, vec![t(1, "qwen/qwen3")]);
        assert_eq!(r.resolve("gpt-9", Some("nonexistent")).unwrap().targets, vec![t(1, "qwen/qwen3")]);
    }

    #[test]
    fn unknown_provider_prefix_is_not_a_route() {
        assert!(router().resolve("nope/model", None).is_none());
        assert!(router().resolve("openrouter/", None).is_none());
    }

    #[test]
    fn listed_models_include_prefixed_provider_models() {
        assert_eq!(router().listed_models(), vec!["fast", "anthropic/claude-haiku-4-5", "fixed/only-this"]);
    }
}
