use async_trait::async_trait;
use chitchat_domain::auth::OtpCode;
use chitchat_domain::ports::OtpSender;
use chitchat_domain::user::Phone;
use chitchat_domain::{DomainError, DomainResult};
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;
use thiserror::Error;

/// Why the webhook sender could not be made.
#[derive(Debug, Error)]
pub enum WebhookError {
    #[error("cannot build the webhook client: {0}")]
    Client(#[source] reqwest::Error),
}

/// Delivers login codes by POSTing `{"phone","code"}` as JSON to an SMS gateway's
/// webhook (`OTP_WEBHOOK_URL`, with `Authorization: Bearer OTP_WEBHOOK_TOKEN` when
/// set). The code never reaches the log.
pub struct WebhookOtpSender {
    client: reqwest::Client,
    url: SecretString,
    token: Option<SecretString>,
}

impl WebhookOtpSender {
    pub fn new(url: SecretString, token: Option<SecretString>) -> Result<Self, WebhookError> {
        let client =
            reqwest::Client::builder().timeout(Duration::from_secs(10)).build().map_err(WebhookError::Client)?;
        Ok(Self { client, url, token })
    }
}

#[async_trait]
impl OtpSender for WebhookOtpSender {
    async fn send(&self, phone: &Phone, code: &OtpCode) -> DomainResult<()> {
        let body = serde_json::json!({ "phone": phone.as_str(), "code": code.reveal() });
        let mut request = self.client.post(self.url.expose_secret()).json(&body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token.expose_secret());
        }
        match request.send().await {
            Ok(response) if response.status().is_success() => Ok(()),
            Ok(response) => {
                tracing::error!(status = response.status().as_u16(), "the code webhook refused the code");
                Err(DomainError::unavailable("the login code could not be sent"))
            }
            Err(error) => {
                // reqwest errors name the URL but never the body, so the code stays out of the log.
                tracing::error!(%error, "the code webhook is unreachable");
                Err(DomainError::unavailable("the login code could not be sent"))
            }
        }
    }
}
