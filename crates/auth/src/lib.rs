//! Small security adapters: JWT bearer tokens, random login codes, and the
//! development code sender that writes codes to the log.

mod codes;
mod jwt;
mod log_sender;

pub use codes::{FixedCode, RandomCodes};
pub use jwt::JwtTokens;
pub use log_sender::LogOtpSender;
