//! Routing rules: choose the model by what the request is. A rule set is an ordered list; the first
//! rule whose conditions all hold picks a model name (an alias, a chain with fallbacks, a
//! `provider/model`) or a weighted split of several, and the existing [`Router`] turns that name
//! into targets. No rule matching is the final default: the request goes where its own model name
//! routes, as it would with no rules at all.
//!
//! **Which requests rules apply to.** Every request whose model is *not* provider-qualified: a
//! client that names `provider/model` or `group/model` (a configured provider or group, and not an
//! exact name in `models:`) gets exactly that, if its team may use it — rules never override an
//! explicit choice. Every other name (`claude-opus-4-5`, an alias, an unknown name) is subject to the
//! rules; a rule that should only see some names says so with `model:` globs.
//!
//! **Which rule set.** The global `rules:`, unless the team has its own `rules:` list (which replaces
//! it) or `rules: false` (no rules for that team). A rule whose chosen model the team may not use
//! (`teams[].models`) is passed over, so the rule set never widens what a team may reach.
//!
//! Nothing here knows Pingora: the proxy and `switchyard route` both build a [`RequestView`] and ask
//! [`route`] (and `switchyard route` asks [`explain::explain`], which tells why).

pub mod condition;
pub mod explain;
pub mod facts;
pub mod split;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use crate::auth::Team;
use crate::routing::{Route, Router};
pub use condition::{Condition, Globs, Range};
pub use facts::{Facts, Needs, RequestView};
pub use split::{Choice, Split};

/// What a rule does when it matches.
#[derive(Debug, Clone)]
pub enum Action {
    /// Route as if the client had asked for this name (`provider/*` targets of an alias forward the
    /// model the client asked for — see [`Router::resolve_rule`]).
    Model(String),
    /// One of several names, chosen per conversation.
    Split(Split),
}

#[derive(Debug)]
pub struct Rule {
    /// Unique in its set; what `x-switchyard-route` and the usage ledger show.
    pub name: Arc<str>,
    /// All must hold; none means the rule always matches (a catch-all).
    pub conditions: Vec<Condition>,
    pub action: Action,
}

impl Rule {
    pub fn matches(&self, facts: &Facts<'_>) -> bool {
        self.conditions.iter().all(|c| c.holds(facts))
    }

    /// The model name this rule picks for the request.
    pub fn model_for<'r>(&'r self, facts: &Facts<'_>) -> &'r str {
        match &self.action {
            Action::Model(model) => model,
            Action::Split(split) => &split.choose(&facts.split_key).model,
        }
    }
}

/// An ordered rule list, with the facts and headers its rules read (gathered once per request).
#[derive(Debug, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    needs: Needs,
    headers: Vec<String>,
}

impl RuleSet {
    pub fn new(rules: Vec<Rule>) -> RuleSet {
        let mut needs = Needs::NONE;
        let mut headers: Vec<String> = Vec::new();
        for rule in &rules {
            for condition in &rule.conditions {
                needs |= condition.needs();
                if let Condition::Header(name, _) = condition {
                    if !headers.contains(name) {
                        headers.push(name.clone());
                    }
                }
            }
            if matches!(rule.action, Action::Split(_)) {
                needs |= Needs::SPLIT_KEY;
            }
        }
        RuleSet {
            rules,
            needs,
            headers,
        }
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn needs(&self) -> Needs {
        self.needs
    }

    /// Lowercase names of the headers rules look at.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The first rule that matches and picks a model `may_use` allows, with that model.
    pub fn decide<'r>(
        &'r self,
        facts: &Facts<'_>,
        may_use: impl Fn(&str) -> bool,
    ) -> Option<(&'r Rule, &'r str)> {
        self.rules
            .iter()
            .filter(|r| r.matches(facts))
            .map(|r| (r, r.model_for(facts)))
            .find(|(_, model)| may_use(model))
    }
}

/// Which rule routed a request: `x-switchyard-route`, and the usage ledger's `rule`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleName {
    /// No rule matched (or none applied to the team): routed by the requested name.
    Default,
    /// The client named `provider/model`: rules do not apply.
    Explicit,
    Rule(Arc<str>),
}

impl RuleName {
    /// The `x-switchyard-route` value; a static one (no copy) unless a rule matched.
    pub fn header_value(&self) -> http::HeaderValue {
        match self {
            RuleName::Default => http::HeaderValue::from_static("default"),
            RuleName::Explicit => http::HeaderValue::from_static("explicit"),
            // Rule names are checked at load to be header-safe (letters, digits, `-`, `_`, `.`).
            RuleName::Rule(name) => {
                http::HeaderValue::from_str(name).unwrap_or(http::HeaderValue::from_static("rule"))
            }
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            RuleName::Default => "default",
            RuleName::Explicit => "explicit",
            RuleName::Rule(name) => name,
        }
    }
}

/// Where a request goes, and which rule said so.
#[derive(Debug)]
pub struct Routed {
    pub route: Route,
    pub rule: RuleName,
}

/// Routes one request: an explicit `provider/model` as it is, else the team's rules, else its name.
/// `None` when nothing serves it (the caller answers 404).
pub fn route(
    router: &Router,
    team: &Team,
    req: &RequestView<'_>,
    session: &[u8],
) -> Option<Routed> {
    let by_name = |rule| {
        router
            .resolve_for(req.model, team.default_model.as_deref(), session)
            .map(|route| Routed { route, rule })
    };
    if router.is_provider_qualified(req.model) {
        return by_name(RuleName::Explicit);
    }
    if let Some(set) = team.rules.as_deref() {
        let facts = Facts::gather(req, set.needs(), set.headers());
        if let Some((rule, model)) = set.decide(&facts, |m| team.may_use(m)) {
            if let Some(route) = router.resolve_rule(model, req.model, session) {
                return Some(Routed {
                    route,
                    rule: RuleName::Rule(rule.name.clone()),
                });
            }
        }
    }
    by_name(RuleName::Default)
}
