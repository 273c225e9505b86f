//! A real headless Chromium for page tests: Debian's Chromium driven by its
//! chromedriver over WebDriver (fantoccini), plus the checks every page
//! gets: axe-core's accessibility rules, no horizontal scrolling at a given
//! width, the dark theme, and screenshots when `SCREENSHOT_DIR` is set.
//!
//! Nothing here reaches the network: the browser is started with every
//! background service off, and axe-core is read from a local file
//! ([`tools::axe_core_js`](super::tools::axe_core_js)) and injected by
//! WebDriver, which the pages' CSP does not govern.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::http::Method;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};

use super::{free_port, tools};

/// chromedriver on a loopback port, killed when dropped (with its browser).
pub struct Driver {
    child: Child,
    url: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A new browser session with its own profile (cookies start empty).
///
/// # Panics
/// When Chromium or chromedriver is missing or does not start: the tests
/// that call this are compiled `#[ignore]` where they are absent.
pub async fn browser() -> (Client, Driver) {
    let driver_bin = tools::chromedriver_bin().expect("chromedriver: set CHROMEDRIVER_BIN");
    let chromium = tools::chromium_bin().expect("Chromium: set CHROMIUM_BIN");
    let port = free_port();
    let child = Command::new(driver_bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let profile = tempfile::tempdir().expect("profile dir");
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _profile: profile,
    };
    let mut ready = false;
    for _ in 0..400 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(ready, "chromedriver did not start listening");
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            // Headless as root in a sandboxless container; and no calls home
            // (this machine's network is closed, and tests stay on loopback).
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                "--window-size=1280,900",
                format!("--user-data-dir={}", driver._profile.path().display()),
            ],
        },
    });
    let mut builder = ClientBuilder::new(HttpConnector::new());
    builder.capabilities(capabilities.as_object().expect("object").clone());
    let client = builder
        .connect(&driver.url)
        .await
        .expect("a WebDriver session");
    (client, driver)
}

pub async fn fill(client: &Client, id: &str, text: &str) {
    let field = client
        .wait()
        .for_element(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("#{id}: {e}"));
    field
        .clear()
        .await
        .unwrap_or_else(|e| panic!("clearing #{id}: {e}"));
    field
        .send_keys(text)
        .await
        .unwrap_or_else(|e| panic!("typing into #{id}: {e}"));
}

pub async fn click(client: &Client, css: &str) {
    client
        .wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
}

pub async fn text_of(client: &Client, css: &str) -> String {
    client
        .wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .expect("text")
}

/// Wait (polling, bounded) until the browser is on a URL starting with
/// `prefix`; the URL.
pub async fn arrive(client: &Client, prefix: &str) -> String {
    let mut last = String::new();
    for _ in 0..600 {
        last = client.current_url().await.expect("url").to_string();
        if last.starts_with(prefix) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let page = client.source().await.unwrap_or_default();
    panic!("never arrived at {prefix}: still at {last}:\n{page}");
}

/// A Chrome DevTools command through chromedriver's `goog/cdp/execute`.
#[derive(Debug)]
struct DevTools {
    cmd: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for DevTools {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (Method::POST, Some(body.to_string()))
    }
}

async fn devtools(client: &Client, cmd: &'static str, params: Value) {
    client
        .issue_cmd(DevTools { cmd, params })
        .await
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
}

/// Lay pages out as a phone `width` CSS pixels wide (or, with `None`, as the
/// window again).
pub async fn emulate_width(client: &Client, width: Option<u32>) {
    match width {
        Some(width) => {
            devtools(
                client,
                "Emulation.setDeviceMetricsOverride",
                json!({ "width": width, "height": 800, "deviceScaleFactor": 1, "mobile": true }),
            )
            .await;
        }
        None => devtools(client, "Emulation.clearDeviceMetricsOverride", json!({})).await,
    }
}

/// Ask pages for `prefers-color-scheme: dark` (or light).
pub async fn emulate_dark(client: &Client, dark: bool) {
    let value = if dark { "dark" } else { "light" };
    devtools(
        client,
        "Emulation.setEmulatedMedia",
        json!({ "features": [{ "name": "prefers-color-scheme", "value": value }] }),
    )
    .await;
}

/// How many CSS pixels the page is wider than its viewport (0: none).
pub async fn horizontal_overflow(client: &Client) -> i64 {
    let overflow = client
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
            vec![],
        )
        .await
        .expect("script");
    overflow.as_i64().expect("a number")
}

/// The page's computed background colour of `css`, e.g. `rgb(18, 20, 26)`.
pub async fn background_of(client: &Client, css: &str) -> String {
    let colour = client
        .execute(
            "return getComputedStyle(document.querySelector(arguments[0])).backgroundColor",
            vec![json!(css)],
        )
        .await
        .expect("script");
    colour.as_str().unwrap_or_default().to_owned()
}

/// axe-core's serious and critical violations on the current page (WCAG 2.0
/// and 2.1, levels A and AA), one line each: rule, impact, the elements.
///
/// # Panics
/// Without axe-core on this machine ([`tools::axe_core_js`]).
pub async fn accessibility_violations(client: &Client) -> Vec<String> {
    let path = tools::axe_core_js().expect("axe-core: set AXE_CORE_JS to axe.min.js");
    let source = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    client
        .execute(&source, vec![])
        .await
        .expect("injecting axe-core");
    let result = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
                .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' ')) }))))
                .catch(e => done([{ id: 'axe-error', impact: 'critical', nodes: [String(e)] }]));",
            vec![],
        )
        .await
        .expect("running axe-core");
    result
        .as_array()
        .expect("a list")
        .iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .map(|v| format!("{} ({}): {}", v["id"], v["impact"], v["nodes"]))
        .collect()
}

/// Save a PNG of the page as `$SCREENSHOT_DIR/{name}.png`, when that
/// variable is set (`scripts/screenshots.sh` sets it); otherwise nothing.
pub async fn screenshot(client: &Client, name: &str) {
    let Some(dir) = std::env::var_os("SCREENSHOT_DIR") else {
        return;
    };
    let png = client.screenshot().await.expect("screenshot");
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
}

/// A W3C WebDriver extension command (`session/{id}/{path}`) with a JSON body.
#[derive(Debug)]
struct Extension {
    path: String,
    method: Method,
    body: Option<Value>,
}

impl WebDriverCompatibleCommand for Extension {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/{}",
            session_id.unwrap_or_default(),
            self.path
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (Method, Option<String>) {
        (
            self.method.clone(),
            self.body.as_ref().map(ToString::to_string),
        )
    }
}

/// Give the browser a virtual passkey authenticator (WebAuthn §11.3): a
/// platform authenticator that keeps discoverable credentials and verifies
/// its user. Returns its id.
pub async fn virtual_authenticator(client: &Client) -> String {
    let answer = client
        .issue_cmd(Extension {
            path: "webauthn/authenticator".to_owned(),
            method: Method::POST,
            body: Some(json!({
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": true,
                "hasUserVerification": true,
                "isUserVerified": true,
                "automaticPresenceSimulation": true,
            })),
        })
        .await
        .expect("a virtual authenticator");
    answer
        .as_str()
        .map(str::to_owned)
        .or_else(|| answer["authenticatorId"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("an authenticator id in {answer}"))
}

/// The credentials the virtual authenticator `id` holds.
pub async fn virtual_credentials(client: &Client, id: &str) -> Vec<Value> {
    let answer = client
        .issue_cmd(Extension {
            path: format!("webauthn/authenticator/{id}/credentials"),
            method: Method::GET,
            body: None,
        })
        .await
        .expect("the credentials");
    answer.as_array().cloned().unwrap_or_default()
}

/// Make every page this browser opens from now on see a browser without
/// conditional mediation (passkey autofill), as older browsers are: the
/// pages must then offer their button.
pub async fn without_passkey_autofill(client: &Client) {
    devtools(
        client,
        "Page.addScriptToEvaluateOnNewDocument",
        json!({
            "source": "if (window.PublicKeyCredential) { PublicKeyCredential.isConditionalMediationAvailable = async () => false; }"
        }),
    )
    .await;
}
