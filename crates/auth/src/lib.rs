//! Small security adapters: JWT bearer tokens, signed attachment links, random
//! login codes, device link codes, TURN logins for calls, and the code senders: a webhook to an SMS gateway, email over SMTP, or the log
//! (development only).

mod codes;
mod jwt;
mod link_signer;
mod log_sender;
mod smtp_sender;
mod turn;
mod webhook_sender;

pub use codes::{FixedCode, RandomCodes, RandomLinkSecrets};
pub use jwt::JwtTokens;
pub use link_signer::HmacLinkSigner;
pub use log_sender::LogOtpSender;
pub use smtp_sender::{SmtpEmailSender, SmtpError};
pub use turn::TurnRestCredentials;
pub use webhook_sender::{WebhookError, WebhookOtpSender};
