use async_trait::async_trait;
use chitchat_domain::ports::{CodeEmail, EmailSender};
use chitchat_domain::user::EmailAddress;
use chitchat_domain::{DomainError, DomainResult};
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;
use thiserror::Error;

/// What the mails call the server when `SMTP_FROM` gives no display name.
const DEFAULT_SERVER_NAME: &str = "ChitChat";

/// Why the SMTP sender could not be made; each names its variable.
#[derive(Debug, Error)]
pub enum SmtpError {
    // lettre's errors name neither the URL nor its password.
    #[error("SMTP_URL: {0} (expected smtp://host:587?tls=required, smtps://user:password@host or smtp://host:25)")]
    Url(#[source] lettre::transport::smtp::Error),
    #[error("SMTP_FROM: {0} (expected an address such as chat@example.org or \"Family chat <chat@example.org>\")")]
    From(#[source] lettre::address::AddressError),
}

/// Delivers codes by email through an SMTP server (`SMTP_URL`, lettre's URL form),
/// from `SMTP_FROM`, whose display name is the server's name in the mails. A mail
/// holds the code and that name, nothing else: no phone number, no person's name.
pub struct SmtpEmailSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    server_name: String,
}

impl SmtpEmailSender {
    pub fn new(url: &SecretString, from: &str) -> Result<Self, SmtpError> {
        let from: Mailbox = from.trim().parse().map_err(SmtpError::From)?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
            .map_err(SmtpError::Url)?
            .timeout(Some(Duration::from_secs(15)))
            .build();
        let server_name = from
            .name
            .as_deref()
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .unwrap_or(DEFAULT_SERVER_NAME)
            .to_owned();
        Ok(Self { transport, from, server_name })
    }

    /// The mail's subject and text.
    fn compose(&self, mail: &CodeEmail) -> (String, String) {
        let (server, code) = (&self.server_name, mail.code().reveal());
        match mail {
            CodeEmail::Login(_) => (
                format!("{code} is your {server} login code"),
                format!(
                    "Your login code for {server}: {code}\n\n\
                     It works once, for a few minutes. If you did not ask for it, ignore this mail: \
                     nobody can log in without the code.\n"
                ),
            ),
            CodeEmail::VerifyAddress(_) => (
                format!("{code} confirms your email address for {server}"),
                format!(
                    "Your code to confirm this email address for {server}: {code}\n\n\
                     Type it where you gave this address. If you did not, ignore this mail: \
                     the address stays unconfirmed and receives no login codes.\n"
                ),
            ),
        }
    }
}

#[async_trait]
impl EmailSender for SmtpEmailSender {
    async fn send(&self, to: &EmailAddress, mail: &CodeEmail) -> DomainResult<()> {
        let to: lettre::Address = to.as_str().parse().map_err(|error| {
            tracing::error!(%error, "an address the server accepted cannot be mailed");
            DomainError::unavailable("the code could not be mailed")
        })?;
        let (subject, text) = self.compose(mail);
        let message = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(text)
            .map_err(|error| {
                tracing::error!(%error, "could not build a code mail");
                DomainError::unavailable("the code could not be mailed")
            })?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(error) => {
                // lettre's errors carry the server's answer, never the mail.
                tracing::error!(error = %chitchat_domain::error_chain(&error), "the mail server did not take a code mail");
                Err(DomainError::unavailable("the code could not be mailed"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chitchat_domain::auth::OtpCode;

    fn sender(from: &str) -> SmtpEmailSender {
        SmtpEmailSender::new(&SecretString::from("smtp://127.0.0.1:2525"), from).unwrap()
    }

    #[tokio::test]
    async fn mails_say_only_the_code_and_the_server_name() {
        let code = OtpCode::parse("424242").unwrap();
        let named = sender("Family chat <chat@example.org>");
        let (subject, text) = named.compose(&CodeEmail::Login(code.clone()));
        assert!(subject.contains("424242") && subject.contains("Family chat"), "{subject}");
        assert!(text.contains("424242") && text.contains("Family chat"), "{text}");
        let (_, text) = sender("chat@example.org").compose(&CodeEmail::VerifyAddress(code));
        assert!(text.contains("ChitChat") && text.contains("confirm"), "{text}");
    }

    #[tokio::test]
    async fn bad_settings_name_their_variable_and_hide_the_password() {
        let url = SecretString::from("http://user:hunter22@mail.example.org");
        let err = SmtpEmailSender::new(&url, "chat@example.org").err().unwrap().to_string();
        assert!(err.starts_with("SMTP_URL") && !err.contains("hunter22"), "{err}");
        let err = SmtpEmailSender::new(&SecretString::from("smtp://127.0.0.1"), "not an address").err().unwrap();
        assert!(err.to_string().starts_with("SMTP_FROM"), "{err}");
    }
}
