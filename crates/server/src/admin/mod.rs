//! `chitchat admin …`: the operator's commands, through the same services as a
//! running server (with Redis, their effects reach every instance at once). They
//! only parse and print: every rule is the domain's `ModerationService`.

mod export;
mod login_code;
mod sessions;
mod stats;
mod users;

use crate::cli::AdminCommand;
use crate::config::Config;

/// Why a command failed; printed on stderr, exit status 1.
pub type Failure = Box<dyn std::error::Error>;

pub async fn run(config: &Config, command: AdminCommand) -> Result<(), Failure> {
    match command {
        AdminCommand::Users(command) => users::run(config, command).await,
        AdminCommand::Sessions(command) => sessions::run(config, command).await,
        AdminCommand::LoginCode(phone) => login_code::run(config, &phone.phone).await,
        AdminCommand::Export { phone, output } => export::run(config, &phone, output.as_deref()).await,
        AdminCommand::Stats => stats::run(config).await,
    }
}

/// One line about a user, for listings.
fn describe(user: &chitchat_domain::user::User) -> String {
    let state = match user.disabled_at {
        Some(at) => format!("disabled since {}", at.to_rfc3339()),
        None => "active".to_owned(),
    };
    format!("{}  {}  {}  {state}", user.id, user.phone.as_str(), user.name)
}
