use async_trait::async_trait;
use chitchat_domain::auth::OtpCode;
use chitchat_domain::ports::OtpSender;
use chitchat_domain::user::Phone;
use chitchat_domain::DomainResult;

/// Development "SMS": writes the code to the server log so a developer can log in.
/// Never wired in production.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogOtpSender;

#[async_trait]
impl OtpSender for LogOtpSender {
    async fn send(&self, phone: &Phone, code: &OtpCode) -> DomainResult<()> {
        tracing::info!(phone = %phone, code = code.reveal(), "development login code (not sent by SMS)");
        Ok(())
    }
}
