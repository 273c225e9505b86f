//! Where mail goes: an SMTP server (`SMTP_URL`), or `.eml` files in a folder
//! (`MAIL_OUTBOX_DIR`) when no server is configured.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Whether `smtp://` may talk in the clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlainSmtp {
    /// Only to a loopback host (a local relay); anything else needs STARTTLS.
    LoopbackOnly,
    /// Never: STARTTLS always, or nothing is sent.
    Never,
}

/// Why a mail was not delivered (the text never holds a credential).
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("the message cannot be built: {0}")]
    Message(String),
    #[error("SMTP: {0}")]
    Smtp(String),
    #[error("outbox folder: {0}")]
    Outbox(#[from] std::io::Error),
    /// A back-channel logout notice the client did not take (yet).
    #[error("HTTP: {0}")]
    Http(String),
}

/// A configured way to deliver.
pub enum Transport {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        /// `smtp://host:port` without credentials, for logs.
        shown: String,
    },
    Outbox(PathBuf),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

use crate::config::is_loopback_host as is_loopback;
pub use crate::config::smtp_url_problem;

impl Transport {
    /// SMTP as `url` says: `smtps://` implicit TLS (port 465 by default);
    /// `smtp://` STARTTLS (587), required, except in the clear to a
    /// loopback host (25) when `plain` allows it. Credentials from the URL.
    pub fn smtp(url: &str, plain: PlainSmtp) -> Result<Self, String> {
        if let Some(problem) = smtp_url_problem(url) {
            return Err(problem.to_owned());
        }
        let url = url::Url::parse(url).map_err(|e| e.to_string())?;
        let host = url.host().ok_or("names no host")?;
        let host_text = url
            .host_str()
            .unwrap_or_default()
            .trim_matches(['[', ']'])
            .to_owned();
        let (builder, default_port) = match (url.scheme(), plain, is_loopback(&host)) {
            ("smtps", _, _) => (
                AsyncSmtpTransport::<Tokio1Executor>::relay(&host_text)
                    .map_err(|e| e.to_string())?,
                465,
            ),
            ("smtp", PlainSmtp::LoopbackOnly, true) => (
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host_text),
                25,
            ),
            _ => (
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&host_text)
                    .map_err(|e| e.to_string())?,
                587,
            ),
        };
        let port = url.port().unwrap_or(default_port);
        let builder = builder.port(port);
        let builder = if url.username().is_empty() {
            builder
        } else {
            builder.credentials(Credentials::new(
                percent_decode(url.username()),
                percent_decode(url.password().unwrap_or_default()),
            ))
        };
        let shown = format!("{}://{host}:{port}", url.scheme());
        Ok(Self::Smtp {
            transport: builder.timeout(Some(SMTP_TIMEOUT)).build(),
            shown,
        })
    }

    /// For logs and the start-up line.
    pub fn describe(&self) -> String {
        match self {
            Self::Smtp { shown, .. } => shown.clone(),
            Self::Outbox(dir) => format!("files in {}", dir.display()),
        }
    }

    /// Deliver one plain-text mail.
    pub async fn deliver(
        &self,
        from: &Mailbox,
        to: &str,
        subject: &str,
        body: &str,
    ) -> Result<(), DeliveryError> {
        let to: Mailbox = to
            .parse()
            .map_err(|_| DeliveryError::Message("the recipient is not an address".into()))?;
        let message = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| DeliveryError::Message(e.to_string()))?;
        match self {
            Self::Smtp { transport, .. } => transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| DeliveryError::Smtp(e.to_string())),
            Self::Outbox(dir) => write_eml(dir, &message.formatted()).await,
        }
    }
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// One `.eml` file per mail, named so that a listing is in sending order;
/// the folder is private (0700) and each file 0600.
async fn write_eml(dir: &Path, bytes: &[u8]) -> Result<(), DeliveryError> {
    tokio::fs::create_dir_all(dir).await?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        tokio::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).await?;
    }
    let name = format!(
        "{}-{}.eml",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
        uuid::Uuid::new_v4().simple()
    );
    let path = dir.join(name);
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    use tokio::io::AsyncWriteExt as _;
    let mut file = options.open(&path).await?;
    file.write_all(bytes).await?;
    file.sync_all().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_credentials_are_percent_decoded_and_plus_stays_literal() {
        assert_eq!(percent_decode("me%40example.com"), "me@example.com");
        assert_eq!(percent_decode("p%3Ass+w%2Fd"), "p:ss+w/d");
        assert_eq!(percent_decode("%FF"), "\u{FFFD}");
    }

    #[test]
    fn smtp_urls_are_checked_without_echoing_them() {
        for good in [
            "smtp://user:secret@mail.example.com:587",
            "smtps://mail.example.com",
            "smtp://127.0.0.1:2525",
        ] {
            assert_eq!(smtp_url_problem(good), None, "{good}");
        }
        for bad in [
            "mail.example.com",
            "http://mail.example.com",
            "smtp://",
            "smtp://host/path",
            "smtp://host?x=1",
        ] {
            let problem = smtp_url_problem(bad).expect(bad);
            assert!(!problem.contains("secret"));
        }
    }

    #[test]
    fn plain_smtp_only_to_loopback() {
        let shown = |url: &str, plain| match Transport::smtp(url, plain).expect(url) {
            Transport::Smtp { shown, .. } => shown,
            Transport::Outbox(_) => unreachable!(),
        };
        assert_eq!(
            shown("smtp://127.0.0.1", PlainSmtp::LoopbackOnly),
            "smtp://127.0.0.1:25"
        );
        assert_eq!(
            shown("smtp://mail.example.com", PlainSmtp::LoopbackOnly),
            "smtp://mail.example.com:587"
        );
        assert_eq!(
            shown("smtps://u:p@mail.example.com", PlainSmtp::LoopbackOnly),
            "smtps://mail.example.com:465"
        );
        assert!(!shown("smtps://u:pw@mail.example.com", PlainSmtp::LoopbackOnly).contains("pw"));
        assert_eq!(
            shown("smtp://127.0.0.1", PlainSmtp::Never),
            "smtp://127.0.0.1:587"
        );
    }
}
