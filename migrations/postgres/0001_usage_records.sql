-- One row per request: who, what, where it went, the tokens by kind and what they cost.
-- The same columns as migrations/sqlite/0001_usage_records.sql; only the id column differs.
CREATE TABLE usage_records (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ts_ms BIGINT NOT NULL,                  -- when the request ended, Unix milliseconds (UTC)
    request_id TEXT NOT NULL,
    team TEXT NOT NULL,
    key_id TEXT NOT NULL,                   -- the team key's name or digest prefix, never the key
    end_user TEXT,                          -- x-switchyard-user, metadata.user_id or user
    endpoint TEXT NOT NULL,                 -- messages | chat_completions
    client_format TEXT NOT NULL,            -- anthropic | openai
    requested_model TEXT NOT NULL,
    rule TEXT NOT NULL DEFAULT '',          -- the routing rule that chose the target (smart routing)
    provider TEXT NOT NULL,                 -- the provider that served it ('' if none did)
    upstream_model TEXT NOT NULL,
    attempts BIGINT NOT NULL,               -- upstream attempts, fallbacks and retries included
    providers_tried TEXT NOT NULL,          -- comma-separated, in order
    status BIGINT NOT NULL,                 -- HTTP status the client got (0: it went away first)
    error_kind TEXT,
    input_tokens BIGINT NOT NULL,           -- uncached input
    cache_read_tokens BIGINT NOT NULL,
    cache_write_5m_tokens BIGINT NOT NULL,
    cache_write_1h_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,          -- reasoning included
    reasoning_tokens BIGINT NOT NULL,
    cost_nano_usd BIGINT,                   -- NULL: the model has no price
    latency_ms BIGINT NOT NULL,
    ttfb_ms BIGINT,
    stream SMALLINT NOT NULL,
    partial SMALLINT NOT NULL               -- 1: aborted or cut; tokens are what was seen
);
CREATE INDEX usage_records_ts ON usage_records (ts_ms);
