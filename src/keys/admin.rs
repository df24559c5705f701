//! The admin API for person keys (admin listener, admin key required):
//! `GET /admin/keys`, `POST /admin/keys` (JSON `{team, name, expires?, limits?}` → 201 with the
//! key, shown once) and `DELETE /admin/keys/NAME`. Errors are JSON with their status: 400 (bad
//! request), 401/403 (no admin key), 404 (no such key), 409 (name taken, or no store), 503 (store down).

use http::{Method, Response};
use pingora_core::protocols::http::ServerSession;

use super::cli::{row_json, to_json};
use super::{generate, validate, CreateRequest, KeyError};
use crate::admin::{admin_error, authorize, simple_response, AdminApp};
use crate::ledger::now_ms;

/// The largest creation body read (it is a few fields).
const MAX_BODY: usize = 16 * 1024;

fn key_error(e: &KeyError) -> Response<Vec<u8>> {
    let kind = match e {
        KeyError::Invalid(_) => "invalid_request_error",
        KeyError::Duplicate(_) | KeyError::NoStore(_) => "conflict_error",
        KeyError::NotFound(_) => "not_found_error",
        KeyError::Store(_) => "api_error",
    };
    admin_error(e.status(), kind, &e.to_string())
}

/// Serves `/admin/keys` and `/admin/keys/NAME`.
pub async fn serve(app: &AdminApp, session: &mut ServerSession) -> Response<Vec<u8>> {
    let req = session.req_header();
    if let Err(refused) = authorize(app, req) {
        return *refused;
    }
    let method = req.method.clone();
    let path = req.uri.path().to_string();
    // The name as sent, percent-decoded (`alice%40laptop`); a name that is not valid UTF-8 matches none.
    let name = path
        .strip_prefix("/admin/keys")
        .unwrap_or_default()
        .trim_start_matches('/');
    let name = percent_encoding::percent_decode_str(name)
        .decode_utf8_lossy()
        .into_owned();
    match (method, name.is_empty()) {
        (Method::GET, true) => match app.keys.list().await {
            Ok(rows) => simple_response(
                200,
                "application/json",
                to_json(&rows, now_ms()).into_bytes(),
            ),
            Err(e) => key_error(&e),
        },
        (Method::POST, true) => create(app, session).await,
        (Method::DELETE, false) => match app.keys.revoke(&name).await {
            Ok(()) => {
                let body = serde_json::json!({ "revoked": name });
                simple_response(
                    200,
                    "application/json",
                    serde_json::to_vec(&body).unwrap_or_default(),
                )
            }
            Err(e) => key_error(&e),
        },
        _ => admin_error(
            405,
            "invalid_request_error",
            "use GET /admin/keys, POST /admin/keys or DELETE /admin/keys/NAME",
        ),
    }
}

async fn read_body(session: &mut ServerSession) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        match session.read_request_body().await {
            Ok(Some(chunk)) => {
                body.extend_from_slice(&chunk);
                if body.len() > MAX_BODY {
                    return Err(format!("the request body is larger than {MAX_BODY} bytes"));
                }
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(format!("the request body could not be read: {e}")),
        }
    }
}

async fn create(app: &AdminApp, session: &mut ServerSession) -> Response<Vec<u8>> {
    let body = match read_body(session).await {
        Ok(body) => body,
        Err(message) => return admin_error(400, "invalid_request_error", &message),
    };
    let request: CreateRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => {
            let message = format!("the body is not a key creation: {e}; expected JSON {{\"team\", \"name\", \"expires\"?: \"90d\", \"limits\"?: {{\"requests_per_minute\", \"tokens_per_minute\", \"max_concurrent\", \"budget_usd_per_day\", \"budget_usd_per_month\"}}}}");
            return admin_error(400, "invalid_request_error", &message);
        }
    };
    let state = app.state.load();
    if !app.keys.has_store() {
        return key_error(&KeyError::NoStore(super::no_store_message(
            &state.config.source,
        )));
    }
    let key = match validate(&state.config, &request, now_ms()) {
        Ok(key) => key,
        Err(e) => return key_error(&e),
    };
    let generated = generate();
    if let Err(e) = app.keys.create(key.clone(), generated.digest).await {
        return key_error(&e);
    }
    let mut answer = row_json(
        &super::store::KeyRow {
            name: key.name.clone(),
            team: key.team.clone(),
            created_ms: key.created_ms,
            expires_ms: key.expires_ms,
            revoked_ms: None,
            last_used_ms: None,
            limits: key.limits,
        },
        now_ms(),
    );
    if let Some(object) = answer.as_object_mut() {
        object.insert(
            "key".into(),
            serde_json::Value::String(generated.key.expose().to_string()),
        );
        object.insert(
            "note".into(),
            "the key is shown only in this response: only its SHA-256 digest is stored".into(),
        );
    }
    simple_response(
        201,
        "application/json",
        serde_json::to_vec_pretty(&answer).unwrap_or_default(),
    )
}
