//! `chitchat admin users …`: list, show, disable, enable, delete.

use super::{describe, Failure};
use crate::cli::UsersCommand;
use crate::config::Config;
use chitchat_domain::moderation::Actor;
use chitchat_domain::services::MAX_LISTED_USERS;

pub async fn run(config: &Config, command: UsersCommand) -> Result<(), Failure> {
    let assembly = crate::app::assemble(config).await?;
    let admin = &assembly.services.moderation;
    match command {
        UsersCommand::List { search } => {
            let users = admin.list_users(search.as_deref(), MAX_LISTED_USERS).await?;
            if users.is_empty() {
                println!("no users");
            }
            for summary in users {
                println!("{}", describe(&summary.user));
            }
        }
        UsersCommand::Show(phone) => {
            let user = admin.user_by_phone(&phone.phone).await?;
            let sessions = admin.sessions(user.id).await?;
            println!("id:          {}", user.id);
            println!("phone:       {}", user.phone.as_str());
            println!("name:        {}", user.name);
            println!("status:      {}", user.status);
            println!("created:     {}", user.created_at.to_rfc3339());
            if let Some(seen) = user.last_seen {
                println!("last seen:   {}", seen.to_rfc3339());
            }
            match user.disabled_at {
                Some(at) => println!("disabled:    since {}", at.to_rfc3339()),
                None => println!("disabled:    no"),
            }
            println!("sessions:    {}", sessions.len());
        }
        UsersCommand::Disable(phone) => {
            let user = admin.user_by_phone(&phone.phone).await?;
            let (user, ended) = admin.disable(Actor::Cli, user.id).await?;
            println!("disabled {} ({}); {ended} sessions ended", user.phone.as_str(), user.name);
        }
        UsersCommand::Enable(phone) => {
            let user = admin.user_by_phone(&phone.phone).await?;
            let user = admin.enable(Actor::Cli, user.id).await?;
            println!("enabled {} ({})", user.phone.as_str(), user.name);
        }
        UsersCommand::Delete(phone) => {
            let user = admin.user_by_phone(&phone.phone).await?;
            admin.delete(Actor::Cli, user.id).await?;
            println!(
                "deleted the account of {} ({}): sessions ended, profile anonymised, number freed; \
                 their messages stay in others' chats as from \"Deleted account\"",
                user.phone.as_str(),
                user.name
            );
        }
    }
    Ok(())
}
