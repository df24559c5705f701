//! The team cost page (`GET /dashboard` on the admin listener) through the real binary: two teams send
//! a workload in both API formats to the built-in mock, the ledger writes it, and then
//! - headless Chromium (Debian's `chromium`) loads the page with the admin key by HTTP Basic auth —
//!   the only way a browser without JavaScript sends a key, here as `http://x:KEY@host/dashboard` —
//!   dumps its DOM and takes a screenshot; each team's figures and the month total on the page equal
//!   the ledger's, as `GET /admin/usage` gives them;
//! - a team key sees its own team and nothing of the other (name, models, numbers); no key or a wrong
//!   key gets 401 with `WWW-Authenticate`; a hostile model name is escaped; `?month=` is validated;
//! - with `usage.store: none` the page says the ledger is off.
//!
//! `SWITCHYARD_SCREENSHOT_OUT=docs/img/cost-page.png cargo test --test dashboard` also copies the
//! screenshot there (how README.md's picture was made).

mod common;

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::usage::wait_written;
use common::*;
use serde_json::{json, Value};

const ADMIN_KEY: &str = "admin-key-for-dashboard-4d5e";
const RESEARCH_KEY: &str = "research-key-for-dashboard-8a9b";
const CHROMIUM: &str = "/usr/bin/chromium";
/// A model name a client chose to break the page with.
const HOSTILE_MODEL: &str = "claude-x\"><script>alert(1)</script><img src=x onerror=alert(2)>";
/// A model only team research uses: team platform must never see it.
const RESEARCH_ONLY_MODEL: &str = "gpt-4o-mini";

fn config(store: &str) -> String {
    format!(
        "server:\n  threads: 1\nproviders:\n  mock:\n    kind: mock\nmodels:\n  - {{ name: \"*\", targets: [\"mock/*\"] }}\n\
         teams:\n  - name: platform\n    keys: [{{ env: TEAM_KEY, name: claude-code }}]\n    limits: {{ requests_per_minute: 600, tokens_per_minute: 2000000, max_concurrent: 8, budget_usd_per_day: 0.05, budget_usd_per_month: 1 }}\n\
         \x20 - name: research\n    keys: [{{ env: RESEARCH_KEY, name: notebooks }}]\n\
         usage:\n  flush_interval_ms: 100\n{store}admin:\n  keys: [{{ env: ADMIN_KEY, name: ops }}]\n"
    )
}

fn start(store: &str) -> Gateway {
    Gateway::with_config(&config(store))
        .env("ADMIN_KEY", ADMIN_KEY)
        .env("RESEARCH_KEY", RESEARCH_KEY)
        .start()
}

fn anthropic(gw: &Gateway, key: &str, model: &str, stream: bool) {
    let context = "Here is the project context, long enough to be cached. ".repeat(120);
    let body = json!({
        "model": model, "max_tokens": 200, "stream": stream,
        "system": [{"type": "text", "text": context, "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": "What changed in the cost page?"}],
    });
    let r = client()
        .post(gw.url("/v1/messages"))
        .header("x-api-key", key)
        .header("anthropic-version", "2023-06-01")
        .json(&body)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{model}");
    r.text().unwrap();
}

fn openai(gw: &Gateway, key: &str, model: &str, stream: bool) {
    let body = json!({
        "model": model, "stream": stream, "stream_options": if stream { json!({"include_usage": true}) } else { Value::Null },
        "messages": [{"role": "system", "content": "You are terse. ".repeat(80)}, {"role": "user", "content": "Summarise the spend."}],
    });
    let r = client()
        .post(gw.url("/v1/chat/completions"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{model}");
    r.text().unwrap();
}

/// Both teams, both API formats, streamed and not; team research also uses a hostile model name.
fn workload(gw: &Gateway) -> usize {
    for stream in [false, true] {
        anthropic(gw, TEAM_KEY, "claude-sonnet-4-5", stream);
        openai(gw, TEAM_KEY, "claude-haiku-4-5", stream);
        anthropic(gw, RESEARCH_KEY, "claude-haiku-4-5", stream);
        openai(gw, RESEARCH_KEY, RESEARCH_ONLY_MODEL, stream);
    }
    anthropic(gw, RESEARCH_KEY, HOSTILE_MODEL, false);
    9
}

fn page(
    gw: &Gateway,
    query: &str,
    auth: impl FnOnce(reqwest::blocking::RequestBuilder) -> reqwest::blocking::RequestBuilder,
) -> reqwest::blocking::Response {
    auth(client().get(format!("{}/dashboard{query}", gw.admin)))
        .send()
        .unwrap()
}

/// The text of the cell `data-field="FIELD"` in the row that starts with `row` (`data-team="platform"`),
/// and its `title` (the exact spend).
fn cell(dom: &str, row: &str, field: &str) -> (String, String) {
    let start = dom
        .find(row)
        .unwrap_or_else(|| panic!("no {row} on the page"));
    let row_html = &dom[start..start + dom[start..].find("</tr>").unwrap()];
    let at = row_html
        .find(&format!("data-field=\"{field}\""))
        .unwrap_or_else(|| panic!("no {field} in {row_html}"));
    let tag_end = at + row_html[at..].find('>').unwrap();
    let title = row_html[at..tag_end]
        .split("title=\"")
        .nth(1)
        .map(|t| t[..t.find('"').unwrap()].to_string())
        .unwrap_or_default();
    let text = &row_html[tag_end + 1..];
    (text[..text.find("</td>").unwrap()].to_string(), title)
}

fn number(text: &str) -> u64 {
    text.replace(',', "")
        .parse()
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// `0.008242650` → 8242650.
fn nano_usd(decimal: &str) -> u64 {
    let (whole, fraction) = decimal.split_once('.').unwrap();
    number(whole) * 1_000_000_000 + number(&format!("{fraction:0<9}"))
}

/// The page's figures for one row equal the ledger's.
fn assert_row_matches(dom: &str, row: &str, ledger: &Value) {
    let u = |f: &str| ledger[f].as_u64().unwrap();
    assert_eq!(
        number(&cell(dom, row, "requests").0),
        u("requests"),
        "{row} requests"
    );
    assert_eq!(
        number(&cell(dom, row, "input_tokens").0),
        u("input_tokens"),
        "{row} input"
    );
    assert_eq!(
        number(&cell(dom, row, "output_tokens").0),
        u("output_tokens"),
        "{row} output"
    );
    let cache = u("cache_creation_input_tokens") + u("cache_read_input_tokens");
    assert_eq!(
        number(&cell(dom, row, "cache_tokens").0),
        cache,
        "{row} cache"
    );
    assert_eq!(
        number(&cell(dom, row, "tokens").0),
        u("input_tokens") + u("output_tokens") + cache,
        "{row} tokens"
    );
    let (shown, exact) = cell(dom, row, "cost_usd");
    let exact = exact
        .strip_suffix(" USD")
        .unwrap_or_else(|| panic!("{row} spend title {exact}"));
    assert_eq!(
        nano_usd(exact),
        (ledger["cost_usd"].as_f64().unwrap() * 1e9).round() as u64,
        "{row} exact spend {exact}"
    );
    // The rounded figure a reader sees is the exact one to its last digit (cents from a dollar up,
    // else four decimals).
    let exact_usd = nano_usd(exact) as f64 / 1e9;
    let shown_usd: f64 = shown
        .trim_start_matches('$')
        .replace(',', "")
        .parse()
        .unwrap_or_else(|e| panic!("{row} spend shown as {shown}: {e}"));
    let half_a_digit = if exact_usd >= 1.0 { 0.005 } else { 0.00005 };
    assert!(
        exact_usd > 0.0 && (shown_usd - exact_usd).abs() <= half_a_digit + 1e-12,
        "{row} spend shown as {shown} for {exact} USD"
    );
}

/// Runs Chromium headless on `url` with `args`, in a process group of its own that is killed (by its
/// id) if it has not finished within a minute.
fn chromium(url: &str, args: &[String]) -> String {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: `apt-get install chromium` (.ci/run installs it)"
    );
    let profile = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(CHROMIUM);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .args(args)
    .arg(url)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .process_group(0);
    let child = cmd.spawn().expect("start chromium");
    let pid = child.id();
    let watchdog = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if Command::new("kill")
                .arg("-0")
                .arg(pid.to_string())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| !s.success())
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill")
            .arg("-KILL")
            .arg(format!("-{pid}"))
            .status();
    });
    let out = child.wait_with_output().expect("chromium output");
    let _ = watchdog.join();
    assert!(
        out.status.success(),
        "chromium {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The page shows one month and `GET /admin/usage` all time: a workload that ran across the end of a
/// month (UTC) would split. Within two minutes of one, this waits for the new month.
fn not_at_a_month_end() {
    let now = time::OffsetDateTime::now_utc();
    if (now + time::Duration::minutes(2)).month() != now.month() {
        // 23:58 or later on the last day: wait for 00:00.
        let left = (59 - u64::from(now.minute())) * 60 + (60 - u64::from(now.second()));
        std::thread::sleep(Duration::from_secs(left));
    }
}

#[test]
fn the_cost_page_in_a_browser_shows_the_ledgers_numbers_to_whom_they_belong() {
    let gw = start("");
    not_at_a_month_end();
    let n = workload(&gw);
    wait_written(&gw, n);
    let admin_usage = |by: &str| -> Vec<Value> {
        let r = client()
            .get(format!("{}/admin/usage?by={by}", gw.admin))
            .header("x-api-key", ADMIN_KEY)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().unwrap()
    };
    let by_team = admin_usage("team");
    let total = admin_usage("").pop().unwrap();
    let team = |name: &str| {
        by_team
            .iter()
            .find(|r| r["team"] == name)
            .unwrap_or_else(|| panic!("{name} in {by_team:?}"))
            .clone()
    };
    let port = gw.admin.rsplit(':').next().unwrap();

    // Over plain HTTP first, while the workload is within the last minute: the page for `x-api-key`,
    // its headers, the limits, the hostile name.
    let r = page(&gw, "", |r| r.header("x-api-key", ADMIN_KEY));
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
    assert!(r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .starts_with("default-src 'none'"));
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().unwrap();
    assert!(
        !html.contains("<script") && !html.contains("<img"),
        "{html}"
    );
    assert!(html.contains("claude-x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"), "{html}");
    let platform_requests = team("platform")["requests"].as_u64().unwrap();
    let (used, _) = cell(&html, "data-limit=\"requests_per_minute\"", "used");
    assert_eq!(
        used,
        format!("{platform_requests} requests in the last minute")
    );
    assert!(
        html.contains("<code>max_concurrent</code></td><td class=\"n\">8</td>"),
        "{html}"
    );
    // A budget's closeness is the team's spend in its period, the ledger's figure rounded as on the page.
    let spent = team("platform")["cost_usd"].as_f64().unwrap();
    let (today, _) = cell(&html, "data-limit=\"budget_usd_per_day\"", "used");
    let (month, _) = cell(&html, "data-limit=\"budget_usd_per_month\"", "used");
    // (Today's figure is the month's unless the workload straddled midnight UTC.)
    assert!(
        today == format!("${spent:.4} spent today") || today == "$0.00 spent today",
        "{today}"
    );
    assert_eq!(month, format!("${spent:.4} spent this month"));

    // The browser: Basic auth from the URL, the DOM after rendering, and a screenshot.
    let url = format!("http://x:{ADMIN_KEY}@127.0.0.1:{port}/dashboard");
    let dom = chromium(&url, &["--dump-dom".into()]);
    assert!(dom.contains("Every team (admin key)"), "{dom}");
    for name in ["platform", "research"] {
        assert_row_matches(&dom, &format!("<tr data-team=\"{name}\""), &team(name));
    }
    assert_row_matches(&dom, "<tfoot><tr data-total=\"month\"", &total);
    assert!(!dom.contains(ADMIN_KEY), "the key is never echoed");
    assert!(
        !dom.contains("<script") && !dom.contains("<img"),
        "the hostile model name stayed text"
    );
    let shots = tempfile::tempdir().unwrap();
    let png = shots.path().join("cost-page.png");
    chromium(
        &url,
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1200,1250".into(),
        ],
    );
    let bytes = std::fs::read(&png).expect("the screenshot was written");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    let (width, height) = (
        u32::from_be_bytes(bytes[16..20].try_into().unwrap()),
        u32::from_be_bytes(bytes[20..24].try_into().unwrap()),
    );
    assert_eq!((width, height), (1200, 1250));
    assert!(
        bytes.len() > 20_000,
        "a page with tables and a chart, not a blank one: {} bytes",
        bytes.len()
    );
    if let Ok(out) = std::env::var("SWITCHYARD_SCREENSHOT_OUT") {
        std::fs::copy(&png, Path::new(env!("CARGO_MANIFEST_DIR")).join(out)).unwrap();
    }

    // A team key, by Basic auth and by Bearer: its own team only.
    let research = team("research");
    for auth in [0, 1] {
        let r = page(&gw, "", |r| {
            if auth == 0 {
                r.basic_auth("alice", Some(TEAM_KEY))
            } else {
                r.bearer_auth(TEAM_KEY)
            }
        });
        assert_eq!(r.status(), 200);
        let own = r.text().unwrap();
        assert!(own.contains("Team <b>platform</b>"), "{own}");
        assert_row_matches(&own, "<tr data-team=\"platform\"", &team("platform"));
        assert_row_matches(&own, "<tfoot><tr data-total=\"month\"", &team("platform"));
        for other in [
            "research",
            RESEARCH_ONLY_MODEL,
            "claude-x",
            "notebooks",
            &format!("title=\"{:.9} USD", research["cost_usd"].as_f64().unwrap()),
        ] {
            assert!(
                !own.contains(other),
                "team platform sees `{other}` of team research:\n{own}"
            );
        }
        assert!(!own.contains(TEAM_KEY));
    }
    let theirs = page(&gw, "", |r| r.basic_auth("", Some(RESEARCH_KEY)))
        .text()
        .unwrap();
    assert!(
        theirs.contains("Team <b>research</b>")
            && !theirs.contains("data-team=\"platform\"")
            && !theirs.contains("claude-sonnet-4-5")
    );

    // A person key (created in the store through the admin API) is a key of its team here too.
    let created: Value = client()
        .post(format!("{}/admin/keys", gw.admin))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"team": "research", "name": "rita"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let rita = created["key"].as_str().expect("the new key, once").to_string();
    let hers = page(&gw, "", |r| r.basic_auth("rita", Some(&rita)));
    assert_eq!(hers.status(), 200);
    let hers = hers.text().unwrap();
    assert!(hers.contains("Team <b>research</b>") && !hers.contains("data-team=\"platform\""));
    assert!(!hers.contains(&rita));

    // No key, a wrong key, a key in the user name: 401 and a prompt; a bad month: 400 that says why.
    for (what, r) in [
        ("no key", page(&gw, "", |r| r)),
        (
            "a wrong key",
            page(&gw, "", |r| r.basic_auth("x", Some("not-a-key"))),
        ),
        (
            "a key as the user name",
            page(&gw, "", |r| r.basic_auth(ADMIN_KEY, None::<&str>)),
        ),
        (
            "a wrong bearer",
            page(&gw, "", |r| r.bearer_auth("not-a-key")),
        ),
    ] {
        assert_eq!(r.status(), 401, "{what}");
        assert_eq!(
            r.headers()["www-authenticate"].to_str().unwrap(),
            "Basic realm=\"switchyard\", charset=\"UTF-8\"",
            "{what}"
        );
        let body = r.text().unwrap();
        assert!(
            body.contains("the key as the password") || body.contains("key as the password"),
            "{what}: {body}"
        );
        assert!(!body.contains("platform") && !body.contains(ADMIN_KEY));
    }
    let bad = page(&gw, "?month=2026-13", |r| r.header("x-api-key", ADMIN_KEY));
    assert_eq!(bad.status(), 400);
    assert!(bad
        .text()
        .unwrap()
        .contains("month `2026-13` is not valid: expected a year and a month as YYYY-MM"));
    let previous = html
        .split("href=\"/dashboard?month=")
        .nth(1)
        .map(|s| s[..7].to_string())
        .unwrap();
    let past = page(&gw, &format!("?month={previous}"), |r| {
        r.header("x-api-key", ADMIN_KEY)
    });
    assert_eq!(past.status(), 200, "the previous month");
    let past = past.text().unwrap();
    assert_eq!(
        cell(&past, "<tfoot><tr data-total=\"month\"", "requests").0,
        "0",
        "nothing was sent last month"
    );
    assert!(!past.contains("<h2>Limits</h2>"));
}

#[test]
fn without_a_ledger_the_page_says_how_to_turn_it_on() {
    let gw = start("  store: none\n");
    let r = page(&gw, "", |r| r.basic_auth("x", Some(ADMIN_KEY)));
    assert_eq!(r.status(), 200);
    let html = r.text().unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    assert!(
        html.contains("The usage ledger is off")
            && html.contains("remove <code>store: none</code>"),
        "{html}"
    );
}
