//! `chitchat admin …`: the operator's commands, through the same services as a
//! running server (with Redis, their effects reach every instance at once).

mod export;
mod login_code;
mod sessions;
mod stats;
mod users;

use crate::cli::AdminCommand;
use crate::config::Config;

pub async fn run(config: &Config, command: AdminCommand) -> Result<(), Box<dyn std::error::Error>> {
    match command {
        AdminCommand::Users(command) => users::run(config, command).await,
        AdminCommand::Sessions(command) => sessions::run(config, command).await,
        AdminCommand::LoginCode(phone) => login_code::run(config, &phone.phone).await,
        AdminCommand::Export { phone, output } => export::run(config, &phone, output.as_deref()).await,
        AdminCommand::Stats => stats::run(config).await,
    }
}
