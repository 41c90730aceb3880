//! A small W3C WebDriver client over reqwest, driving Debian's `chromium` through `chromedriver`.
//!
//! Written here rather than taken from a crate: the few commands the tests need (navigate, find,
//! click, type, read text, run a script, screenshot) are plain JSON over HTTP, and the HTTP client
//! is already a dev-dependency; a WebDriver crate would change the features of shared dependencies
//! and rebuild most of the tree. Nothing is downloaded: the browser and driver are Debian packages
//! (`.ci/run` installs them).

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::Duration,
};

use serde_json::{json, Value};

/// The key under which WebDriver returns an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A running chromedriver, killed on drop.
pub struct Driver {
    child: Child,
    base: String,
    http: reqwest::Client,
}

/// A free TCP port on the loopback interface.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Driver {
    /// Starts chromedriver on a free port and waits until it answers.
    pub async fn start() -> Driver {
        let port = free_port();
        let binary = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let child = Command::new(&binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {binary} ({e}): apt-get install -y chromium chromium-driver")
            });
        let driver = Driver {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        };
        for _ in 0..100 {
            if let Ok(r) = driver
                .http
                .get(format!("{}/status", driver.base))
                .send()
                .await
            {
                if r.status().is_success() {
                    return driver;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not start on port {port}");
    }

    /// A new headless browser session; `phone` emulates a 360 px wide screen.
    pub async fn session(&self, phone: bool) -> Browser {
        let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let mut options = json!({
            "binary": binary,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--window-size=1440,1000", "--lang=vi"],
        });
        if phone {
            options["mobileEmulation"] = json!({"deviceMetrics": {"width": 360, "height": 740, "pixelRatio": 1.0, "touch": true}});
        }
        let body = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": options}}});
        let response: Value = self
            .http
            .post(format!("{}/session", self.base))
            .json(&body)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("json");
        let id = response["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {response}"))
            .to_string();
        Browser {
            url: format!("{}/session/{id}", self.base),
            http: self.http.clone(),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser window.
pub struct Browser {
    url: String,
    http: reqwest::Client,
}

/// An element on the page.
#[derive(Clone)]
pub struct Element(String);

impl Browser {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.url));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response: Value = request
            .send()
            .await
            .expect("webdriver request")
            .json()
            .await
            .expect("webdriver json");
        if let Some(error) = response["value"]["error"].as_str() {
            panic!(
                "webdriver {path}: {error}: {}",
                response["value"]["message"]
            );
        }
        response["value"].clone()
    }

    /// Opens `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    /// The address of the page shown.
    pub async fn current_url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The first element matching `css`, waiting up to 5 s for it (pages may still be loading).
    pub async fn find(&self, css: &str) -> Element {
        for _ in 0..50 {
            if let Some(found) = self.try_find(css).await {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let text = self.text("body").await;
        panic!("no element {css} on {}: {text}", self.current_url().await);
    }

    /// The first element matching `css`, if there is one now.
    pub async fn try_find(&self, css: &str) -> Option<Element> {
        let response: Value = self
            .http
            .post(format!("{}/element", self.url))
            .json(&json!({"using": "css selector", "value": css}))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        response["value"][ELEMENT_KEY]
            .as_str()
            .map(|id| Element(id.to_string()))
    }

    /// Clicks `css`.
    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{}/click", element.0),
            Some(json!({})),
        )
        .await;
    }

    /// Clears `css` and types `text` into it.
    pub async fn fill(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{}/clear", element.0),
            Some(json!({})),
        )
        .await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{}/value", element.0),
            Some(json!({"text": text})),
        )
        .await;
    }

    /// The visible text of `css` (empty when there is none); read in one script call, so a part of
    /// the page that htmx swaps meanwhile is never a stale reference.
    pub async fn text(&self, css: &str) -> String {
        self.script(
            "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';",
            json!([css]),
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// Waits up to 5 s for the text of `css` to contain `needle`, and returns it.
    pub async fn wait_text(&self, css: &str, needle: &str) -> String {
        let mut text = String::new();
        for _ in 0..50 {
            text = self.text(css).await;
            if text.contains(needle) {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} never showed {needle:?}: {text}");
    }

    /// Waits up to 5 s for the text of `css` to no longer contain `gone`, and returns it.
    pub async fn wait_text_without(&self, css: &str, gone: &str) -> String {
        let mut text = String::new();
        for _ in 0..50 {
            text = self.text(css).await;
            if !text.is_empty() && !text.contains(gone) {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} still shows {gone:?}: {text}");
    }

    /// Runs `script` (a function body; `arguments` are `args`) and returns its value.
    pub async fn script(&self, script: &str, args: Value) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .await
    }

    /// Runs an async `script` that calls `arguments[arguments.length - 1]` with its result.
    pub async fn script_async(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/async",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// Two clicks in a row on `css` with nothing between them, as a double click sends them.
    pub async fn double_click(&self, css: &str) {
        let element = self.find(css).await;
        let origin = json!({ELEMENT_KEY: element.0});
        let actions = json!({"actions": [{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"},
        "actions": [
            {"type": "pointerMove", "origin": origin, "x": 0, "y": 0},
            {"type": "pointerDown", "button": 0}, {"type": "pointerUp", "button": 0},
            {"type": "pointerDown", "button": 0}, {"type": "pointerUp", "button": 0}
        ]}]});
        self.call(reqwest::Method::POST, "/actions", Some(actions))
            .await;
    }

    /// Saves a PNG screenshot of the window to `target/screenshots/{name}.png`.
    pub async fn screenshot(&self, name: &str) {
        let data = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = decode_base64(data.as_str().unwrap_or_default());
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    /// Sets the file input `css` to the file at `path` (WebDriver sends the path as keys; a file
    /// input is not cleared first).
    pub async fn upload_file(&self, css: &str, path: &std::path::Path) {
        let element = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{}/value", element.0),
            Some(json!({"text": path.display().to_string()})),
        )
        .await;
    }

    /// The page printed to PDF by the browser (WebDriver `print`, A4 portrait, backgrounds off), the
    /// bytes of the PDF.
    pub async fn print_pdf(&self) -> Vec<u8> {
        let data = self
            .call(
                reqwest::Method::POST,
                "/print",
                Some(json!({"page": {"width": 21.0, "height": 29.7}, "background": false})),
            )
            .await;
        decode_base64(data.as_str().unwrap_or_default())
    }

    /// Ends the session (closes the browser).
    pub async fn quit(self) {
        let _ = self.http.delete(&self.url).send().await;
    }
}

/// Standard base64 (what WebDriver returns screenshots in).
fn decode_base64(text: &str) -> Vec<u8> {
    let value = |c: u8| -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for v in text.bytes().filter_map(value) {
        buffer = (buffer << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    out
}

#[test]
fn base64_decodes() {
    assert_eq!(decode_base64("aGVsbG8="), b"hello");
    assert_eq!(decode_base64("aGk="), b"hi");
}
