//! The `switchyard` command: `run` (the default), `check`, `route`, `usage`, `keys` and `mock`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use switchyard::config::{self, interpolate::ProcessEnv, Config};

#[derive(Parser)]
#[command(name = "switchyard", version, about = "An LLM API gateway: team keys, routing, Anthropic/OpenAI translation, fallback, metrics.")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway (the default). Without --config, the embedded default config is used.
    Run {
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Take the listening sockets over from a running switchyard (send it SIGQUIT after starting this).
        #[arg(long)]
        upgrade: bool,
    },
    /// Validate a config and print the providers and models it resolves to.
    Check {
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Show where a request would go and why (its facts, the rules, the targets), sending nothing.
    Route {
        #[arg(long, short)]
        config: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = RouteFormat::Text)]
        format: RouteFormat,
        /// A captured request (`{method, path, headers, body}`, as in tests/fixtures) or a bare JSON body.
        request: PathBuf,
        /// A request header `Name: value`, added to (or replacing) the capture's; repeatable.
        #[arg(long = "header", short = 'H')]
        headers: Vec<String>,
        /// The team whose rules apply (default: the team whose key the capture carries, else the first team).
        #[arg(long)]
        team: Option<String>,
        /// The path a bare body is sent to.
        #[arg(long, default_value = "/v1/messages")]
        path: String,
    },
    /// Print usage totals from the usage store, grouped (the config's store; without --config, the
    /// embedded default's: $SWITCHYARD_DATA_DIR/usage.db).
    Usage {
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// How far back: 30m, 24h, 7d, 4w, or all.
        #[arg(long, default_value = "all")]
        since: String,
        /// Comma-separated: team, key, user, model, requested_model, rule, provider, endpoint, day.
        #[arg(long, default_value = "team,model")]
        by: String,
        /// table, json or csv.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Per-person keys in the usage store: create (prints the key once), list, revoke.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Run the mock LLM provider (Anthropic and OpenAI APIs) for tests and load tests.
    Mock {
        #[arg(long, default_value = "127.0.0.1:9000")]
        listen: String,
        /// Append every received request to this file as JSON lines.
        #[arg(long)]
        record: Option<PathBuf>,
        /// Text deltas per streamed reply.
        #[arg(long, default_value_t = 8)]
        chunks: usize,
        /// Delay between SSE events, in milliseconds.
        #[arg(long, default_value_t = 0)]
        stream_delay_ms: u64,
        /// Fault applied to every request (e.g. `status:503`, `rate_limit:2`, `hang`).
        #[arg(long)]
        fault: Option<String>,
        /// Provider key the mock requires (401 otherwise).
        #[arg(long)]
        require_key: Option<String>,
        /// `KEY=FAULT`: a fault for requests presenting that provider key (repeatable).
        #[arg(long = "key-fault")]
        key_faults: Vec<String>,
        /// How OpenAI streams order parallel tool calls: `sequential` or `interleaved`.
        #[arg(long, default_value = "sequential")]
        tool_stream: switchyard::mock::ToolStream,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a key for one person; the key is printed once and only its digest is stored.
    Create {
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// The team the key belongs to (its models, rules and limits apply).
        #[arg(long)]
        team: String,
        /// The key's name: its id in the usage ledger and in limits (unique, also among YAML key names).
        #[arg(long)]
        name: String,
        /// How long the key lasts: 90d, 4w, 12h, 30m, 45s (default: until revoked).
        #[arg(long)]
        expires: Option<String>,
        /// Requests per minute for this key (on top of its team's limits).
        #[arg(long)]
        rpm: Option<u64>,
        /// Input + output tokens per minute for this key.
        #[arg(long)]
        tpm: Option<u64>,
        /// Requests under way at once for this key.
        #[arg(long)]
        max_concurrent: Option<u64>,
        /// Spend budget per day, USD.
        #[arg(long)]
        budget_day: Option<String>,
        /// Spend budget per month, USD.
        #[arg(long)]
        budget_month: Option<String>,
    },
    /// List every key: name, team, status, created, last used, expiry, limits (never a key).
    List {
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// table or json.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Revoke a key: every gateway sharing the store refuses it within 5 seconds.
    Revoke {
        #[arg(long, short)]
        config: Option<PathBuf>,
        name: String,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum RouteFormat {
    Text,
    Json,
}

fn main() -> ExitCode {
    // Pingora's own start-up and shutdown chatter (bootstrap, services starting) is not what a
    // person starting the gateway needs to read under the banner; its warnings and errors still show.
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info,pingora_core=warn")).init();
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Run { config: None, upgrade: false }) {
        Command::Run { config, upgrade } => run(config, upgrade),
        Command::Check { config } => check(config),
        Command::Route { config, format, request, headers, team, path } => route(config, format, &request, &headers, team.as_deref(), &path),
        Command::Usage { config, since, by, format } => usage(config, &since, &by, &format),
        Command::Keys { command } => keys(command),
        Command::Mock { listen, record, chunks, stream_delay_ms, fault, require_key, key_faults, tool_stream } => {
            let options = switchyard::mock::MockOptions { record, chunks, stream_delay: std::time::Duration::from_millis(stream_delay_ms), tool_stream, ..Default::default() };
            mock(listen, options, fault, require_key, key_faults)
        }
    }
}

fn load(path: Option<PathBuf>) -> Result<Config, ExitCode> {
    config::load(path.as_deref(), &ProcessEnv).map_err(|e| {
        eprintln!("switchyard: config error: {e}");
        ExitCode::from(2)
    })
}

fn run(path: Option<PathBuf>, upgrade: bool) -> ExitCode {
    let config = match load(path.clone()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    print_banner(&config);
    match switchyard::server::build(config, path, upgrade) {
        Ok(built) => {
            built.run();
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("switchyard: cannot start: {}", e.0);
            ExitCode::from(1)
        }
    }
}

/// What a person starting the gateway needs to see: where it listens and how to point Claude Code at it.
fn print_banner(config: &Config) {
    let providers: Vec<String> = config.providers.iter().map(|p| format!("{} ({})", p.name, p.kind.as_str())).collect();
    let scheme = if config.listen.proxy_tls.is_some() { "https" } else { "http" };
    println!("switchyard {} — config: {}", env!("CARGO_PKG_VERSION"), config.source);
    println!("  proxy:     {scheme}://{}", config.listen.proxy);
    println!("  metrics:   http://{}/metrics", config.listen.admin);
    println!("  providers: {}", providers.join(", "));
    println!("  usage:     {} (`switchyard usage` reads it)", config.usage.store.describe());
    if !config.skipped.is_empty() {
        println!("  skipped:   {} rule(s) or target(s) whose provider has no key set (`switchyard check` lists them)", config.skipped.len());
    }
    if switchyard::server::needs_builtin_mock(config) {
        println!("  no provider key set (ANTHROPIC_API_KEY, OPENAI_API_KEY, OPENROUTER_API_KEY): answering from the built-in mock provider");
    }
    let key_hint = match &config.generated_team_key {
        Some(generated) => {
            println!("  generated team key for `{}` (shown once; set {} to choose your own):", generated.team, generated.env);
            println!("    {}", generated.key.expose());
            generated.key.expose().to_string()
        }
        None => "<your team key>".to_string(),
    };
    println!();
    println!("Point Claude Code at it:");
    println!("  export ANTHROPIC_BASE_URL={scheme}://{}", config.listen.proxy);
    println!("  export ANTHROPIC_API_KEY={key_hint}");
    println!("  claude");
}

fn check(path: Option<PathBuf>) -> ExitCode {
    let config = match load(path) {
        Ok(c) => c,
        Err(code) => return code,
    };
    println!("{}: ok", config.source);
    println!("listen: proxy {} admin {}", config.listen.proxy, config.listen.admin);
    if let Some(tls) = &config.listen.proxy_tls {
        println!("proxy_tls: cert {} key {}", tls.cert, tls.key);
    }
    for team in config.teams.all() {
        if let Some(scope) = &team.limits {
            println!("limits: team {}: {}", team.name, scope.limits.describe());
        }
    }
    for key in config.teams.limited_keys() {
        if let Some(scope) = &key.limits {
            println!("limits: key {} (team {}): {}", key.id, key.team.name, scope.limits.describe());
        }
    }
    if let Some(shared) = &config.shared_state {
        println!("shared_state: {} (on_error {}, timeout {} ms, key_prefix {})", shared.location, shared.on_error.as_str(), shared.timeout.as_millis(), shared.key_prefix);
    }
    for p in &config.providers {
        let upstream = match &p.upstream {
            config::Upstream::Url(u) => format!("{}://{}:{}{}", if u.tls { "https" } else { "http" }, u.host, u.port, u.base_path),
            config::Upstream::BuiltinMock => "built-in mock".to_string(),
        };
        println!("provider {} ({}): {} — {} key(s)", p.name, p.kind.as_str(), upstream, p.keys.len());
    }
    for model in config.router.listed_models() {
        if let Some(route) = config.router.resolve_direct(&model) {
            let targets: Vec<String> = route
                .targets
                .iter()
                .filter_map(|t| config.providers.get(t.provider).map(|p| format!("{}/{}", p.name, t.upstream_model)))
                .collect();
            println!("model {model} -> {}", targets.join(", "));
        }
    }
    if let Some(default) = config.router.default_model() {
        println!("default_model: {default}");
    }
    if let Some(rules) = &config.rules {
        print_rules("rules", rules);
    }
    for team in config.teams.all() {
        match (&team.rules, &config.rules) {
            (Some(own), Some(global)) if std::sync::Arc::ptr_eq(own, global) => {}
            (Some(own), _) => print_rules(&format!("team {} rules", team.name), own),
            (None, Some(_)) => println!("team {} rules: none (opted out)", team.name),
            (None, None) => {}
        }
    }
    for line in &config.skipped {
        println!("skipped: {line}");
    }
    println!("usage store: {}", config.usage.store.describe());
    for line in unpriced_models(&config) {
        println!("unpriced: {line}");
    }
    ExitCode::SUCCESS
}

/// One line per rule: its conditions and what it picks.
fn print_rules(title: &str, rules: &switchyard::rules::RuleSet) {
    println!("{title}: {} in order, first match wins; no match routes by the requested name", rules.rules().len());
    for rule in rules.rules() {
        let when: Vec<String> = rule.conditions.iter().map(|c| format!("{} {}", c.fact(), c.wanted())).collect();
        let when = if when.is_empty() { "always".to_string() } else { when.join(", ") };
        let then = match &rule.action {
            switchyard::rules::Action::Model(m) => m.clone(),
            switchyard::rules::Action::Split(s) => format!("split {}", s.choices.iter().map(|c| format!("{} {}", c.model, c.weight)).collect::<Vec<_>>().join(", ")),
        };
        println!("  rule {}: {when} -> {then}", rule.name);
    }
}

fn route(path: Option<PathBuf>, format: RouteFormat, request: &std::path::Path, headers: &[String], team: Option<&str>, default_path: &str) -> ExitCode {
    use switchyard::rules::explain;
    let config = match load(path) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let fail = |message: String| {
        eprintln!("switchyard route: {message}");
        ExitCode::from(2)
    };
    let text = match std::fs::read_to_string(request) {
        Ok(text) => text,
        Err(e) => return fail(format!("{}: {e}", request.display())),
    };
    let mut req = match explain::Request::from_json(&text, default_path) {
        Ok(req) => req,
        Err(e) => return fail(format!("{}: {e}", request.display())),
    };
    for line in headers {
        if let Err(e) = req.set_header(line) {
            return fail(format!("--header: {e}"));
        }
    }
    let teams = config.teams.all();
    let presented = req.headers.iter().find(|(n, _)| n == "x-api-key").map(|(_, v)| v.as_str()).or_else(|| {
        req.headers.iter().find(|(n, _)| n == "authorization").and_then(|(_, v)| v.strip_prefix("Bearer ")).map(str::trim)
    });
    let team = match team {
        Some(name) => match config.teams.by_name(name) {
            Some(team) => team,
            None => return fail(format!("no team `{name}` in {}; teams: {}", config.source, teams.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", "))),
        },
        None => match presented.and_then(|k| config.teams.authenticate(k)).or_else(|| teams.first().cloned()) {
            Some(team) => team,
            None => return fail("the config has no team".to_string()),
        },
    };
    match explain::explain(&config, &team, &req) {
        Ok(e) => {
            match format {
                RouteFormat::Text => print!("{}", explain::render_text(&e)),
                RouteFormat::Json => println!("{}", serde_json::to_string_pretty(&e).unwrap_or_default()),
            }
            ExitCode::SUCCESS
        }
        Err(message) => fail(message),
    }
}

/// `provider/model` for every model the config names outright that has no price.
fn unpriced_models(config: &Config) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    let named = config.router.fixed_targets().into_iter().flat_map(|(providers, model)| providers.into_iter().map(move |p| (p, model.clone())));
    let listed = config.providers.iter().enumerate().flat_map(|(i, p)| p.listed_models.iter().map(move |m| (i, m.clone())));
    for (index, model) in named.chain(listed) {
        let Some(provider) = config.providers.get(index) else { continue };
        if config.pricing.lookup(&provider.name, &model).is_none() {
            seen.insert(format!("{}/{model} (its cost is recorded as unknown; add it under pricing:)", provider.name));
        }
    }
    seen.into_iter().collect()
}

fn usage(path: Option<PathBuf>, since: &str, by: &str, format: &str) -> ExitCode {
    let config = match load(path) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if !matches!(format, "table" | "json" | "csv") {
        eprintln!("switchyard usage: --format {format} is not valid: expected table, json or csv");
        return ExitCode::from(2);
    }
    let query = match switchyard::ledger::Query::parse(Some(since), Some(by), switchyard::ledger::now_ms()) {
        Ok(q) => q,
        Err(e) => {
            eprintln!("switchyard usage: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match command_runtime("usage") {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let rows = runtime.block_on(async {
        use switchyard::ledger::store::{Open, Store};
        let store = Store::open(&config.usage.store, Open::Existing).await?.ok_or("this config keeps no usage store (usage.store: none)")?;
        let rows = store.query(&query).await.map_err(|e| format!("the usage store failed the query: {e}"));
        store.close().await;
        rows
    });
    match rows {
        Ok(rows) => {
            let text = match format {
                "json" => switchyard::ledger::query::to_json(&query, &rows),
                "csv" => switchyard::ledger::query::to_csv(&query, &rows),
                _ => switchyard::ledger::query::to_table(&query, &rows),
            };
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("switchyard usage: {e}");
            ExitCode::from(1)
        }
    }
}

/// A runtime for a command that talks to the store (`usage`, `keys`).
fn command_runtime(command: &str) -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| {
        eprintln!("switchyard {command}: cannot start a runtime: {e}");
        ExitCode::from(1)
    })
}

fn keys(command: KeysCommand) -> ExitCode {
    use switchyard::keys::{cli, CreateRequest, KeyError, LimitsRequest};
    let path = match &command {
        KeysCommand::Create { config, .. } | KeysCommand::List { config, .. } | KeysCommand::Revoke { config, .. } => config.clone(),
    };
    let config = match load(path) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let runtime = match command_runtime("keys") {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let result = runtime.block_on(async {
        match command {
            KeysCommand::Create { team, name, expires, rpm, tpm, max_concurrent, budget_day, budget_month, .. } => {
                let usd = |v: Option<String>| v.map(serde_json::Value::String);
                let limits = LimitsRequest {
                    requests_per_minute: rpm,
                    tokens_per_minute: tpm,
                    max_concurrent,
                    budget_usd_per_day: usd(budget_day),
                    budget_usd_per_month: usd(budget_month),
                };
                cli::create(&config, &CreateRequest { team, name, expires, limits }).await
            }
            KeysCommand::List { format, .. } => match format.as_str() {
                "table" | "json" => cli::list(&config, format == "json").await,
                other => Err(KeyError::Invalid(format!("--format {other} is not valid: expected table or json"))),
            },
            KeysCommand::Revoke { name, .. } => cli::revoke(&config, &name).await,
        }
    });
    match result {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("switchyard keys: {e}");
            ExitCode::from(if matches!(e, KeyError::Store(_)) { 1 } else { 2 })
        }
    }
}

fn mock(listen: String, options: switchyard::mock::MockOptions, fault: Option<String>, require_key: Option<String>, key_faults: Vec<String>) -> ExitCode {
    let mut parsed_key_faults = Vec::new();
    for spec in key_faults {
        let parsed = spec.split_once('=').map(|(k, f)| (k.to_string(), f.parse::<switchyard::mock::Fault>()));
        match parsed {
            Some((key, Ok(f))) => parsed_key_faults.push((key, f)),
            Some((_, Err(e))) => {
                eprintln!("switchyard mock: --key-fault: {e}");
                return ExitCode::from(2);
            }
            None => {
                eprintln!("switchyard mock: --key-fault wants KEY=FAULT, got {spec:?}");
                return ExitCode::from(2);
            }
        }
    }
    let fault = match fault.map(|f| f.parse::<switchyard::mock::Fault>()).transpose() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("switchyard mock: --fault: {e}");
            return ExitCode::from(2);
        }
    };
    let options = switchyard::mock::MockOptions { fault, require_key, key_faults: parsed_key_faults, ..options };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("switchyard mock: cannot start a runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&listen).await?;
        println!("switchyard mock listening on http://{}", listener.local_addr()?);
        switchyard::mock::serve(listener, options).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("switchyard mock: {e}");
            ExitCode::from(1)
        }
    }
}
