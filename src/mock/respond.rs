//! Building responses in the format of the API a request was aimed at: the headers a real provider sends
//! (`request-id` for Anthropic, `x-request-id` for OpenAI, `x-should-retry`, `retry-after`), error bodies through
//! one constructor per API, and authentication, whose 401s must also look like the real ones so that a gateway's
//! error translation and retry logic can be tested against them.

use http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode};

use crate::mock::body::MockBody;
use crate::mock::request::Invalid;
use crate::mock::{anthropic, ids, openai};

const JSON: HeaderValue = HeaderValue::from_static("application/json");
const EVENT_STREAM: HeaderValue = HeaderValue::from_static("text/event-stream; charset=utf-8");

/// Which API a request is aimed at, and so which format its responses use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    Anthropic,
    OpenAi,
}

/// Builds the responses to one request.
pub(crate) struct Responder {
    pub api: Api,
    /// The request's serial number, from which its request id is derived.
    pub serial: u64,
}

impl Responder {
    fn response(&self, status: StatusCode, content_type: HeaderValue, body: MockBody) -> Response<MockBody> {
        let mut response = Response::new(body);
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, content_type);
        let (name, id) = match self.api {
            Api::Anthropic => (
                HeaderName::from_static("request-id"),
                ids::anthropic_request_id(self.serial),
            ),
            Api::OpenAi => (
                HeaderName::from_static("x-request-id"),
                ids::openai_request_id(self.serial),
            ),
        };
        if let Ok(id) = HeaderValue::try_from(id) {
            headers.insert(name, id);
        }
        response
    }

    /// A 200 JSON reply; `content_length` is set explicitly when the body is sent in pieces or not at all.
    pub(crate) fn json(&self, body: MockBody, content_length: Option<usize>) -> Response<MockBody> {
        let mut response = self.response(StatusCode::OK, JSON, body);
        if let Some(len) = content_length {
            response.headers_mut().insert(CONTENT_LENGTH, HeaderValue::from(len));
        }
        response
    }

    /// A 200 SSE reply.
    pub(crate) fn sse(&self, body: MockBody) -> Response<MockBody> {
        let mut response = self.response(StatusCode::OK, EVENT_STREAM, body);
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        response
    }

    /// An error in the API's format (OpenAI `param`/`code` given).
    pub(crate) fn error_with(
        &self,
        status: u16,
        message: &str,
        param: Option<&str>,
        code: Option<&str>,
    ) -> Response<MockBody> {
        let body = match self.api {
            Api::Anthropic => anthropic::error_json(status, message, &ids::anthropic_request_id(self.serial)),
            Api::OpenAi => openai::error_json(status, message, param, code),
        };
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = self.response(status, JSON, MockBody::full(body));
        if self.api == Api::Anthropic {
            let retry = matches!(status.as_u16(), 408 | 409 | 429) || status.is_server_error();
            let retry = HeaderValue::from_static(if retry { "true" } else { "false" });
            response
                .headers_mut()
                .insert(HeaderName::from_static("x-should-retry"), retry);
        }
        response
    }

    /// An error in the API's format.
    pub(crate) fn error(&self, status: u16, message: &str) -> Response<MockBody> {
        self.error_with(status, message, None, None)
    }

    /// 400 for a body that is not JSON.
    pub(crate) fn unparsable(&self, err: &serde_json::Error) -> Response<MockBody> {
        match self.api {
            Api::Anthropic => self.error(400, &format!("There was an error parsing the body: {err}")),
            Api::OpenAi => self.error(
                400,
                "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your \
                 HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid \
                 JSON. If you have trouble figuring out how to fix this, please contact us through our help center \
                 at help.openai.com.)",
            ),
        }
    }

    /// 400 for a body the real API would reject.
    pub(crate) fn invalid(&self, invalid: &Invalid) -> Response<MockBody> {
        self.error_with(400, &invalid.message, invalid.param, invalid.code)
    }

    /// 404 for a path the mock does not serve.
    pub(crate) fn not_found(&self, method: &Method, path: &str) -> Response<MockBody> {
        match self.api {
            Api::Anthropic => self.error(404, "Not Found"),
            Api::OpenAi => self.error(404, &format!("Invalid URL ({method} {path})")),
        }
    }

    /// 429 with `retry-after`.
    pub(crate) fn rate_limited(&self, retry_after_secs: u64) -> Response<MockBody> {
        let mut response = match self.api {
            Api::Anthropic => self.error(
                429,
                "This request would exceed the rate limit for your organization. Please try again later \
                 (switchyard mock fault rate_limit).",
            ),
            Api::OpenAi => self.error_with(
                429,
                "Rate limit reached for requests. Please try again later (switchyard mock fault rate_limit).",
                None,
                Some("rate_limit_exceeded"),
            ),
        };
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(retry_after_secs));
        response
    }

    /// 529 `overloaded_error` (Anthropic) or 503 (OpenAI).
    pub(crate) fn overloaded(&self) -> Response<MockBody> {
        match self.api {
            Api::Anthropic => self.error(529, "Overloaded"),
            Api::OpenAi => self.error(503, "The server is overloaded or not ready yet."),
        }
    }

    /// Checks the provider key and answers the 401 if it is refused: Anthropic takes `x-api-key` or
    /// `Authorization: Bearer`, OpenAI only the latter. A missing key is always refused; with `required` set, any
    /// other key is refused too.
    pub(crate) fn refuse_key(&self, headers: &HeaderMap, required: Option<&str>) -> Option<Response<MockBody>> {
        match (presented_key(self.api, headers), required) {
            (None, _) => Some(self.missing_key()),
            (Some(key), Some(required)) if key != required => Some(self.wrong_key(key)),
            (Some(_), _) => None,
        }
    }

    /// 401 as for a wrong key (the `unauthorized` fault).
    pub(crate) fn unauthorized(&self, headers: &HeaderMap) -> Response<MockBody> {
        self.wrong_key(presented_key(self.api, headers).unwrap_or(""))
    }

    fn missing_key(&self) -> Response<MockBody> {
        match self.api {
            Api::Anthropic => self.error(401, "x-api-key header is required"),
            Api::OpenAi => self.error(
                401,
                "You didn't provide an API key. You need to provide your API key in an Authorization header using \
                 Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            ),
        }
    }

    fn wrong_key(&self, key: &str) -> Response<MockBody> {
        match self.api {
            Api::Anthropic => self.error(401, "invalid x-api-key"),
            Api::OpenAi => self.error_with(
                401,
                &format!(
                    "Incorrect API key provided: {}. You can find your API key at \
                     https://platform.openai.com/account/api-keys.",
                    mask(key)
                ),
                None,
                Some("invalid_api_key"),
            ),
        }
    }
}

/// The provider key a request presents, if any.
fn presented_key(api: Api, headers: &HeaderMap) -> Option<&str> {
    let x_api_key = || headers.get("x-api-key").and_then(|v| v.to_str().ok()).map(str::trim);
    let bearer = || {
        let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = value.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
    };
    let key = match api {
        Api::Anthropic => x_api_key().filter(|k| !k.is_empty()).or_else(bearer),
        Api::OpenAi => bearer(),
    };
    key.filter(|k| !k.is_empty())
}

/// A key shown the way OpenAI shows it in errors: its start and end, the middle starred out.
fn mask(key: &str) -> String {
    let count = key.chars().count();
    if count <= 8 {
        return "*".repeat(count);
    }
    let head: String = key.chars().take(3).collect();
    let tail: String = key.chars().skip(count - 4).collect();
    format!("{head}{}{tail}", "*".repeat(count - 7))
}

/// The page the `wrong_content_type` fault answers with.
const HTML_PAGE: &str = "<!DOCTYPE html>\n<html>\n<head><title>Welcome</title></head>\n<body>\n<h1>Welcome</h1>\n\
    <p>This HTML page is the switchyard mock's wrong_content_type fault, standing in for a captive portal or a \
    misconfigured proxy in front of the provider.</p>\n</body>\n</html>\n";

/// 200 `text/html` with an HTML page.
pub(crate) fn html_page() -> Response<MockBody> {
    let mut response = Response::new(MockBody::full(HTML_PAGE));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    response
}

/// `GET /mock/stats`, whose body is rendered by `Stats::json`.
pub(crate) fn stats(body: String) -> Response<MockBody> {
    let mut response = Response::new(MockBody::full(body));
    response.headers_mut().insert(CONTENT_TYPE, JSON);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (HeaderName::from_static(k), HeaderValue::from_static(v)))
            .collect()
    }

    #[test]
    fn keys_are_found_where_each_api_puts_them() {
        let x = headers(&[("x-api-key", "k1")]);
        let bearer = headers(&[("authorization", "Bearer  k2 ")]);
        assert_eq!(presented_key(Api::Anthropic, &x), Some("k1"));
        assert_eq!(presented_key(Api::Anthropic, &bearer), Some("k2"));
        assert_eq!(presented_key(Api::OpenAi, &x), None);
        assert_eq!(presented_key(Api::OpenAi, &bearer), Some("k2"));
        assert_eq!(
            presented_key(Api::OpenAi, &headers(&[("authorization", "Bearer ")])),
            None
        );
        assert_eq!(
            presented_key(Api::OpenAi, &headers(&[("authorization", "Basic abc")])),
            None
        );
        assert_eq!(
            presented_key(
                Api::Anthropic,
                &headers(&[("x-api-key", ""), ("authorization", "bearer k3")])
            ),
            Some("k3")
        );
    }

    #[test]
    fn authorization_outcomes() {
        let anthropic = Responder {
            api: Api::Anthropic,
            serial: 1,
        };
        let x = headers(&[("x-api-key", "k1")]);
        assert!(anthropic.refuse_key(&x, None).is_none());
        assert!(anthropic.refuse_key(&x, Some("k1")).is_none());
        let status = |r: Option<Response<MockBody>>| r.map(|r| r.status().as_u16());
        assert_eq!(status(anthropic.refuse_key(&x, Some("k2"))), Some(401));
        assert_eq!(status(anthropic.refuse_key(&HeaderMap::new(), None)), Some(401));
        assert_eq!(mask("sk-abcdefghijkl"), "sk-********ijkl");
        assert_eq!(mask("short"), "*****");
    }

    #[test]
    fn errors_carry_provider_headers() {
        let anthropic = Responder {
            api: Api::Anthropic,
            serial: 7,
        };
        let response = anthropic.error(503, "x");
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response.headers().get("x-should-retry"),
            Some(&HeaderValue::from_static("true"))
        );
        assert!(response.headers().get("request-id").is_some());
        let openai = Responder {
            api: Api::OpenAi,
            serial: 7,
        };
        let response = openai.rate_limited(3);
        assert_eq!(response.headers().get(RETRY_AFTER), Some(&HeaderValue::from(3u64)));
        assert!(response.headers().get("x-request-id").is_some());
    }
}
