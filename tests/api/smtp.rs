//! A real SMTP server for the tests: Debian's `python3-aiosmtpd`, storing every message it
//! accepts in a Maildir that the tests read back (decoded by Python's `email` package, so
//! encoded Vietnamese subjects and bodies compare as text).
//!
//! If the package is missing the test **fails** with the command that installs it: a mail
//! test that silently passes without a server would prove nothing. `.ci/run` installs it.

use std::{
    net::{TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde::Deserialize;

/// Debian's interpreter: the `python3` on PATH may be a separate build without the package.
const PYTHON: &str = "/usr/bin/python3";

/// One message as the server stored it.
#[derive(Debug, Clone, Deserialize)]
pub struct ReceivedMail {
    pub to: String,
    pub cc: String,
    pub from: String,
    pub subject: String,
    pub message_id: String,
    pub content_language: String,
    /// The envelope recipients (`X-RcptTo`, added by aiosmtpd).
    pub rcpt_to: String,
    /// The decoded text body.
    pub body: String,
    /// The decoded HTML body ("" when there is none).
    #[serde(default)]
    pub html: String,
    /// The images the message carries (inline or attached).
    #[serde(default)]
    pub images: Vec<ReceivedImage>,
}

/// An image part of a received message.
#[derive(Debug, Clone, Deserialize)]
pub struct ReceivedImage {
    pub content_type: String,
    /// `Content-ID` without its angle brackets.
    pub content_id: String,
    /// `inline` or `attachment`.
    pub disposition: String,
    /// The decoded bytes, as hex.
    pub hex: String,
}

impl ReceivedImage {
    /// The decoded bytes.
    pub fn bytes(&self) -> Vec<u8> {
        hex::decode(&self.hex).expect("hex image")
    }
}

/// A running aiosmtpd on 127.0.0.1, killed on drop.
pub struct SmtpServer {
    pub port: u16,
    maildir: PathBuf,
    child: Child,
    _dir: tempfile::TempDir,
}

/// A port nobody listens on (for "the SMTP server is down").
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

fn require_aiosmtpd() {
    let installed = Command::new(PYTHON)
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        installed,
        "the SMTP test server is not available: these tests need Debian's python3-aiosmtpd \
         (`apt-get install -y python3-aiosmtpd`; .ci/run installs it)"
    );
}

impl SmtpServer {
    /// Starts a server on a free port.
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    /// Starts a server on `port` and waits until it accepts connections.
    pub fn start_on(port: u16) -> Self {
        require_aiosmtpd();
        let dir = tempfile::tempdir().expect("tempdir");
        let maildir = dir.path().join("maildir");
        let mut child = Command::new(PYTHON)
            .args(["-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .args(["-l", &format!("127.0.0.1:{port}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start aiosmtpd");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                let mut stderr = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    use std::io::Read;
                    let _ = pipe.read_to_string(&mut stderr);
                }
                panic!("the SMTP test server exited ({status}) on port {port}: {stderr}");
            }
            assert!(
                Instant::now() < deadline,
                "the SMTP test server did not listen on port {port} within 20 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        SmtpServer {
            port,
            maildir,
            child,
            _dir: dir,
        }
    }

    /// Every message received so far, decoded.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        if !self.maildir.exists() {
            return Vec::new();
        }
        let script = r#"
import email, email.policy, json, mailbox, sys
out = []
for key in sorted(mailbox.Maildir(sys.argv[1], factory=None, create=False).keys()):
    raw = mailbox.Maildir(sys.argv[1], factory=None, create=False).get_bytes(key)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    body = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    images = [{
        "content_type": part.get_content_type(),
        "content_id": str(part["Content-ID"] or "").strip("<>"),
        "disposition": part.get_content_disposition() or "",
        "hex": part.get_content().hex(),
    } for part in msg.walk() if part.get_content_maintype() == "image"]
    out.append({
        "to": str(msg["To"] or ""), "cc": str(msg["Cc"] or ""), "from": str(msg["From"] or ""),
        "subject": str(msg["Subject"] or ""), "message_id": str(msg["Message-ID"] or ""),
        "content_language": str(msg["Content-Language"] or ""), "rcpt_to": str(msg["X-RcptTo"] or ""),
        "body": body.get_content() if body is not None else "",
        "html": html.get_content() if html is not None else "",
        "images": images,
    })
print(json.dumps(out))
"#;
        let output = Command::new(PYTHON)
            .args(["-c", script])
            .arg(&self.maildir)
            .output()
            .expect("read the maildir");
        assert!(
            output.status.success(),
            "reading the maildir failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("maildir json")
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
