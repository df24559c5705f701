//! Model routing: from the model name a client sent to an ordered list of
//! `(provider, upstream model)` targets. Pure data, built once from config; the proxy
//! asks it one question per request and never sees the rules themselves.
//!
//! Resolution order, first hit wins:
//! 1. an exact public name from `models:`;
//! 2. `provider/upstream-model` naming an enabled provider (what Claude Code users type with `/model`);
//! 3. glob names from `models:` (`claude-*`), in file order;
//! 4. the team's default model, then the global `default_model`, each resolved by 1–3.
//!
//! Routing rules (`crate::rules`) run before this and may pick another name for the request, which
//! is then resolved here by [`Router::resolve_rule`].

mod names;

use std::collections::HashMap;

use globset::{Glob, GlobMatcher};

pub use names::{check_model_name, BadModelName, MAX_MODEL_NAME_CHARS};

/// The upstream model a target asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetModel {
    /// Always this upstream name.
    Fixed(String),
    /// Whatever name the client asked for (`provider/*`).
    Requested,
}

/// Where a rule's target points: one provider, or a group of provider entries (several accounts,
/// each with its own base URL and keys) balanced per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    Provider(usize),
    Group(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSpec {
    pub dest: Destination,
    pub model: TargetModel,
}

/// Provider entries behind one name. A request tries them all, starting at a member chosen by
/// round robin — or, for a conversation, by its identity, so it stays on one account's prompt cache.
#[derive(Debug, Default)]
struct Group {
    members: Vec<usize>,
    cursor: std::sync::atomic::AtomicUsize,
}

impl Group {
    fn order(&self, session: &[u8]) -> impl Iterator<Item = usize> + '_ {
        let n = self.members.len().max(1);
        let start = if session.is_empty() {
            self.cursor.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % n
        } else {
            (fnv1a(session) % n as u64) as usize
        };
        (0..self.members.len()).map(move |i| self.members[(start + i) % n])
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
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
    /// For the common `literal*` shape: the literal, so a match is a `starts_with` instead of a
    /// regex run on every request (`*` also matches `/` in these globs, so the two agree).
    prefix: Option<String>,
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
    groups: Vec<Group>,
    group_names: HashMap<String, usize>,
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

    /// Adds a group of enabled provider indexes under `name` (also usable as `name/model`).
    pub fn add_group(&mut self, name: &str, members: Vec<usize>) {
        self.group_names.insert(name.to_string(), self.groups.len());
        self.groups.push(Group { members, cursor: Default::default() });
    }

    pub fn group(&self, name: &str) -> Option<usize> {
        self.group_names.get(name).copied()
    }

    /// Adds a `models:` rule; glob names are matched after exact names and prefixes.
    pub fn add_rule(&mut self, name: &str, targets: Vec<TargetSpec>, budget: Budget) -> Result<(), BadGlob> {
        if is_glob(name) {
            let prefix = name.strip_suffix('*').filter(|p| !is_glob(p) && !p.contains(['{', '}', '\\'])).map(str::to_string);
            self.globs.push(GlobRule { matcher: compile_glob(name)?, prefix, targets, budget });
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
        self.resolve_for(requested, team_default, &[])
    }

    /// As [`Router::resolve`], with the conversation identity that orders group members.
    pub fn resolve_for(&self, requested: &str, team_default: Option<&str>, session: &[u8]) -> Option<Route> {
        self.resolve_session(requested, session)
            .or_else(|| team_default.and_then(|m| self.resolve_session(m, session)))
            .or_else(|| self.default_model.as_deref().and_then(|m| self.resolve_session(m, session)))
    }

    /// Resolves by rules 1–3 only (no defaults).
    pub fn resolve_direct(&self, requested: &str) -> Option<Route> {
        self.resolve_session(requested, &[])
    }

    /// Whether `name` names a configured provider or group explicitly (`provider/model`,
    /// `group/model`) rather than being an exact name from `models:`: routing rules leave such a
    /// request alone.
    pub fn is_provider_qualified(&self, name: &str) -> bool {
        name.split_once('/').is_some_and(|(prefix, model)| !model.is_empty() && (self.providers.contains_key(prefix) || self.group_names.contains_key(prefix)))
            && !self.exact.contains_key(name)
    }

    /// Resolves `name`, the model a routing rule chose for a client that asked for `client_model`
    /// (rules 1–3, no defaults). A `provider/*` target forwards the name that was resolved, as
    /// always — except for an exact alias, whose own name is no model: there it forwards the model
    /// the client asked for, so `claude: [anthropic/*]` means "the Claude model the client named".
    pub fn resolve_rule(&self, name: &str, client_model: &str, session: &[u8]) -> Option<Route> {
        match self.exact.get(name) {
            Some((specs, budget)) => Some(self.instantiate(specs, *budget, client_model, session)),
            None => self.resolve_session(name, session),
        }
    }

    fn resolve_session(&self, requested: &str, session: &[u8]) -> Option<Route> {
        if let Some((specs, budget)) = self.exact.get(requested) {
            return Some(self.instantiate(specs, *budget, requested, session));
        }
        if let Some((group, model)) = requested.split_once('/') {
            if let (Some(&g), false) = (self.group_names.get(group), model.is_empty()) {
                let spec = TargetSpec { dest: Destination::Group(g), model: TargetModel::Fixed(model.to_string()) };
                return Some(self.instantiate(std::slice::from_ref(&spec), Budget::default(), requested, session));
            }
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
            .find(|rule| rule.prefix.as_deref().map_or_else(|| rule.matcher.is_match(requested), |p| requested.starts_with(p)))
            .map(|rule| self.instantiate(&rule.targets, rule.budget, requested, session))
    }

    /// Concrete targets for `specs`: groups expand into their members, in this request's order.
    fn instantiate(&self, specs: &[TargetSpec], budget: Budget, requested: &str, session: &[u8]) -> Route {
        let mut targets = Vec::new();
        for spec in specs {
            let upstream_model = match &spec.model {
                TargetModel::Fixed(m) => m.clone(),
                TargetModel::Requested => requested.to_string(),
            };
            match spec.dest {
                Destination::Provider(provider) => targets.push(Target { provider, upstream_model }),
                Destination::Group(g) => {
                    if let Some(group) = self.groups.get(g) {
                        targets.extend(group.order(session).map(|provider| Target { provider, upstream_model: upstream_model.clone() }));
                    }
                }
            }
        }
        Route { targets, budget }
    }

    /// Every upstream model a rule names outright (not `provider/*`): known names for metric labels
    /// and for `check`'s list of unpriced models, with the providers that serve them.
    pub fn fixed_targets(&self) -> Vec<(Vec<usize>, String)> {
        let specs = self.exact.values().map(|(specs, _)| specs).chain(self.globs.iter().map(|g| &g.targets));
        let mut out = Vec::new();
        for spec in specs.flatten() {
            if let TargetModel::Fixed(model) = &spec.model {
                let providers = match spec.dest {
                    Destination::Provider(p) => vec![p],
                    Destination::Group(g) => self.groups.get(g).map(|g| g.members.clone()).unwrap_or_default(),
                };
                out.push((providers, model.clone()));
            }
        }
        out
    }

    /// The upstream models of [`Router::fixed_targets`].
    pub fn fixed_models(&self) -> Vec<String> {
        self.fixed_targets().into_iter().map(|(_, m)| m).collect()
    }

    /// Exact (non-glob) rule names from `models:`, in file order: aliases and fallback chains.
    pub fn exact_names(&self) -> &[String] {
        &self.exact_order
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

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router {
        let mut r = Router::default();
        r.add_provider("anthropic", ProviderEntry { index: 0, any_model: true, listed_models: vec!["claude-haiku-4-5".into()] });
        r.add_provider("openrouter", ProviderEntry { index: 1, any_model: true, listed_models: vec![] });
        r.add_provider("fixed", ProviderEntry { index: 2, any_model: false, listed_models: vec!["only-this".into()] });
        let fixed = |p, m: &str| TargetSpec { dest: Destination::Provider(p), model: TargetModel::Fixed(m.into()) };
        r.add_rule("fast", vec![fixed(1, "z-ai/glm-4.5-air"), fixed(0, "claude-haiku-4-5")], Budget::default()).unwrap();
        r.add_rule("claude-*", vec![TargetSpec { dest: Destination::Provider(0), model: TargetModel::Requested }], Budget::default()).unwrap();
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
    fn groups_balance_their_members_and_keep_a_conversation_on_one() {
        let mut r = router();
        r.add_group("accounts", vec![0, 2]);
        let firsts: Vec<usize> = (0..4).map(|_| r.resolve("accounts/claude-x", None).unwrap().targets[0].provider).collect();
        assert_eq!(firsts, vec![0, 2, 0, 2], "round robin over members");
        let route = r.resolve("accounts/claude-x", None).unwrap();
        assert_eq!(route.targets.len(), 2, "every member is a fallback for the others");
        let pinned: Vec<usize> = (0..4).map(|_| r.resolve_for("accounts/claude-x", None, b"conv-1").unwrap().targets[0].provider).collect();
        assert!(pinned.iter().all(|p| *p == pinned[0]), "{pinned:?}");
        let spec = TargetSpec { dest: Destination::Group(0), model: TargetModel::Requested };
        r.add_rule("team-*", vec![spec], Budget::default()).unwrap();
        assert_eq!(r.resolve_for("team-model", None, b"c").unwrap().targets.iter().map(|t| t.upstream_model.as_str()).collect::<Vec<_>>(), vec!["team-model", "team-model"]);
    }

    #[test]
    fn prefix_globs_match_like_their_glob() {
        let mut r = Router::default();
        r.add_provider("p", ProviderEntry { index: 0, any_model: true, listed_models: vec![] });
        let spec = || vec![TargetSpec { dest: Destination::Provider(0), model: TargetModel::Requested }];
        for pattern in ["claude-*", "a/b*", "x{y,z}*", "q?*", "*"] {
            r.add_rule(pattern, spec(), Budget::default()).unwrap();
        }
        for rule in &r.globs {
            let matcher = compile_glob(&format!("{}", rule.matcher.glob())).unwrap();
            for name in ["claude-", "claude-opus-4/1", "Claude-x", "a/b", "a/bc/d", "xy1", "xz", "x{y,z}", "q", "qa", ""] {
                let fast = rule.prefix.as_deref().map_or_else(|| rule.matcher.is_match(name), |p| name.starts_with(p));
                assert_eq!(fast, matcher.is_match(name), "{} vs {name}", rule.matcher.glob());
            }
        }
        assert_eq!(r.globs.iter().filter(|g| g.prefix.is_some()).count(), 3, "claude-*, a/b* and *");
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
    fn provider_qualified_names_are_those_an_exact_name_does_not_claim() {
        let mut r = router();
        r.add_group("accounts", vec![0]);
        assert!(r.is_provider_qualified("openrouter/z-ai/glm-4.5-air"));
        assert!(r.is_provider_qualified("accounts/claude-x"));
        assert!(!r.is_provider_qualified("openrouter/"));
        assert!(!r.is_provider_qualified("nope/model"));
        assert!(!r.is_provider_qualified("claude-opus-4-5"));
        r.add_rule("openrouter/cheap", vec![TargetSpec { dest: Destination::Provider(1), model: TargetModel::Fixed("x".into()) }], Budget::default()).unwrap();
        assert!(!r.is_provider_qualified("openrouter/cheap"), "an exact alias is not an explicit provider choice");
    }

    #[test]
    fn a_rule_choosing_an_alias_forwards_the_clients_model_through_star_targets() {
        let mut r = router();
        r.add_rule("claude", vec![TargetSpec { dest: Destination::Provider(0), model: TargetModel::Requested }], Budget::default()).unwrap();
        assert_eq!(r.resolve_rule("claude", "claude-opus-4-5", b"").unwrap().targets, vec![t(0, "claude-opus-4-5")]);
        // A name a glob serves is a model name of its own: that name is forwarded.
        assert_eq!(r.resolve_rule("claude-sonnet-4-5", "claude-opus-4-5", b"").unwrap().targets, vec![t(0, "claude-sonnet-4-5")]);
        assert_eq!(r.resolve_rule("fast", "claude-opus-4-5", b"").unwrap().targets[0], t(1, "z-ai/glm-4.5-air"));
        assert_eq!(r.resolve_rule("openrouter/qwen/qwen3-coder", "x", b"").unwrap().targets, vec![t(1, "qwen/qwen3-coder")]);
        assert!(r.resolve_rule("unknown", "claude-opus-4-5", b"").is_none(), "no defaults for a rule's choice");
    }

    #[test]
    fn listed_models_include_prefixed_provider_models() {
        assert_eq!(router().listed_models(), vec!["fast", "anthropic/claude-haiku-4-5", "fixed/only-this"]);
    }
}
