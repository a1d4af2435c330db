//! `chitchat admin sessions …`: list a person's devices, log one or all out.

use super::Failure;
use crate::cli::SessionsCommand;
use crate::config::Config;
use chitchat_domain::moderation::Actor;
use chitchat_domain::SessionId;

pub async fn run(config: &Config, command: SessionsCommand) -> Result<(), Failure> {
    let assembly = crate::app::assemble(config).await?;
    let admin = &assembly.services.moderation;
    match command {
        SessionsCommand::List(phone) => {
            let user = admin.user_by_phone(&phone.phone).await?;
            let sessions = admin.sessions(user.id).await?;
            if sessions.is_empty() {
                println!("no active sessions for {}", user.phone.as_str());
            }
            for s in sessions {
                println!(
                    "{}  since {}  until {}  {}",
                    s.id,
                    s.created_at.to_rfc3339(),
                    s.expires_at.to_rfc3339(),
                    s.device
                );
            }
        }
        SessionsCommand::Revoke { all: Some(phone), .. } => {
            let user = admin.user_by_phone(&phone).await?;
            let ended = admin.revoke_all(Actor::Cli, user.id).await?;
            println!("{ended} sessions of {} ended", user.phone.as_str());
        }
        SessionsCommand::Revoke { session_id: Some(id), all: None } => {
            let id: SessionId = id.trim().parse().map_err(|_| Failure::from(format!("{id:?} is not a session id")))?;
            let owner = admin.revoke_session(Actor::Cli, id).await?;
            println!("session {id} of user {owner} ended");
        }
        SessionsCommand::Revoke { session_id: None, all: None } => {
            return Err("give a SESSION_ID or --all PHONE".into());
        }
    }
    Ok(())
}
