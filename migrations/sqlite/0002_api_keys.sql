-- Per-person keys (`switchyard keys create`, `POST /admin/keys`): only the key's SHA-256 digest is
-- stored, never the key. A revoked key keeps its row (and its name: the ledger's key_id stays one
-- person's). The same columns as migrations/postgres/0002_api_keys.sql.
CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,              -- the key id in the usage ledger and in limits
    team TEXT NOT NULL,
    digest TEXT NOT NULL UNIQUE,            -- SHA-256 of the key, 64 lower-case hex digits
    created_ms BIGINT NOT NULL,             -- Unix milliseconds (UTC)
    expires_ms BIGINT,                      -- NULL: never
    revoked_ms BIGINT,                      -- NULL: not revoked
    last_used_ms BIGINT,                    -- coalesced: written at most once a minute per key
    requests_per_minute BIGINT,             -- per-key limits, NULL: none of that kind
    tokens_per_minute BIGINT,
    max_concurrent BIGINT,
    budget_nano_usd_per_day BIGINT,         -- budgets in nano-USD, like usage_records.cost_nano_usd
    budget_nano_usd_per_month BIGINT
);
-- One row whose version every create and revoke increments in the same transaction: each gateway
-- polls it (one cheap read a second) and reloads the keys only when it moved.
CREATE TABLE api_keys_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO api_keys_version (id, version) VALUES (1, 0);
