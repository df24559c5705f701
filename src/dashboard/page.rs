//! `GET /dashboard[?month=YYYY-MM]` as HTTP: who is asking, which month, and the response headers that
//! keep the page private (no caching), self-contained (a Content-Security-Policy that allows no script
//! and nothing from elsewhere) and unframeable. No Pingora types: the admin listener hands over the
//! request's method, URI and headers.

use http::{HeaderMap, HeaderValue, Method, Response, Uri};

use super::access::{authenticate, Denied};
use crate::keys::PersonKeys;
use super::format::escape;
use super::gather::gather;
use super::render::render;
use super::Month;
use crate::admin::simple_response;
use crate::config::Config;
use crate::ledger::{now_ms, Ledger};

const HTML: &str = "text/html; charset=utf-8";

/// The cost page for this request.
pub async fn respond(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    config: &Config,
    people: &PersonKeys,
    ledger: &Ledger,
) -> Response<Vec<u8>> {
    if method != Method::GET {
        let mut response = message_page(
            405,
            "Method not allowed",
            "The cost page is read with GET /dashboard.",
        );
        response
            .headers_mut()
            .insert(http::header::ALLOW, HeaderValue::from_static("GET"));
        return response;
    }
    let viewer = match authenticate(headers, config, people) {
        Ok(viewer) => viewer,
        Err(denied) => return unauthorized(denied),
    };
    let now = now_ms();
    let latest = Month::containing(now.div_euclid(86_400_000)).0;
    let month = match month_parameter(uri.query(), latest) {
        Ok(month) => month,
        Err(message) => return message_page(400, "Bad request", &message),
    };
    let data = gather(ledger, config, viewer, month, now).await;
    let status = match data.usage {
        super::Usage::Failed(_) => 503,
        super::Usage::Off | super::Usage::Recorded(_) => 200,
    };
    page_response(status, render(&data))
}

/// `?month=2026-11`, or the current month; any other parameter is an error that says what is valid.
fn month_parameter(query: Option<&str>, latest: Month) -> Result<Month, String> {
    let mut month = latest;
    for (name, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match name.as_ref() {
            "month" => month = Month::parse(&value, latest)?,
            other => return Err(format!("unknown parameter `{other}`: the cost page takes only month=YYYY-MM (such as month={latest})")),
        }
    }
    Ok(month)
}

fn unauthorized(denied: Denied) -> Response<Vec<u8>> {
    let mut response = message_page(401, "A key is needed", denied.message());
    response.headers_mut().insert(
        http::header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"switchyard\", charset=\"UTF-8\""),
    );
    response
}

/// A short HTML page for an error (a browser shows it; `message` never holds a key).
fn message_page(status: u16, title: &str, message: &str) -> Response<Vec<u8>> {
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t} · switchyard</title><link rel=\"icon\" href=\"data:,\"></head>\
         <body style=\"font-family: system-ui, sans-serif; max-width: 640px; margin: 40px auto; padding: 0 20px\"><h1>{t}</h1><p>{m}</p></body></html>\n",
        t = escape(title),
        m = escape(message)
    );
    page_response(status, body)
}

fn page_response(status: u16, body: String) -> Response<Vec<u8>> {
    let mut response = simple_response(status, HTML, body.into_bytes());
    let headers = response.headers_mut();
    for (name, value) in [
        ("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"),
        ("cache-control", "no-store"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_month_parameter_is_checked() {
        let latest = Month::containing(20_786).0;
        assert_eq!(month_parameter(None, latest), Ok(latest));
        assert_eq!(
            month_parameter(Some("month=2026-10"), latest)
                .map(|m| m.to_string())
                .as_deref(),
            Ok("2026-10")
        );
        assert!(month_parameter(Some("month=november"), latest)
            .unwrap_err()
            .contains("YYYY-MM"));
        assert!(month_parameter(Some("key=secret"), latest)
            .unwrap_err()
            .contains("unknown parameter `key`"));
    }

    #[test]
    fn error_pages_escape_and_forbid_scripts() {
        let r = message_page(400, "Bad request", "month `<script>` is not valid");
        let body = String::from_utf8(r.body().clone()).unwrap();
        assert!(body.contains("month `&lt;script&gt;` is not valid") && !body.contains("<script>"));
        assert!(r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'"));
        let r = unauthorized(Denied::NoKey);
        assert_eq!(r.status(), 401);
        assert!(r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic realm=\"switchyard\""));
    }
}
