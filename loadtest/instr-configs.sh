# Config pieces shared by the instruction-count scripts (sourced, not run): limits-instructions.sh,
# rules-instructions.sh and overhead-table.sh measure the same features with the same settings.

# The in-process limits a measured team is held to: all three kinds, far above any load these scripts
# send, so nothing is refused and every request still pays for the admission and the settling.
TEAM_LIMITS='limits: { requests_per_minute: 1000000000, tokens_per_minute: 1000000000000, max_concurrent: 10000 }'

# The shipped Claude Code policy's rules, as conf/claude-code-team.yaml has them (its `rules:` block).
# usage: policy_rules REPO_ROOT
policy_rules() { sed -n '/^rules:/,/^teams:/p' "$1/conf/claude-code-team.yaml" | sed '$d'; }

# The model names the policy's rules pick, each forwarding to TARGET (e.g. `anthropic/*`): the rules then
# change no request's destination, so a row with rules differs from one without by the rules' own work.
# usage: policy_models TARGET   (YAML list items, two-space indent)
policy_models() {
  local m
  for m in claude fast long glm qwen; do printf '  - { name: %s, targets: ["%s"] }\n' "$m" "$1"; done
}
