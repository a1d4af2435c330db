//! `chitchat admin stats`: the server's figures.

use super::Failure;
use crate::config::Config;

pub async fn run(config: &Config) -> Result<(), Failure> {
    let assembly = crate::app::assemble(config).await?;
    let figures = assembly.services.moderation.figures().await?;
    println!("users:              {} ({} disabled)", figures.users, figures.disabled_users);
    println!("connected devices:  {}", figures.connected_devices);
    println!("attachments:        {} files, {} bytes", figures.attachments, figures.attachment_bytes);
    println!("messages per day (UTC):");
    for day in &figures.messages_per_day {
        println!("  {}  {}", day.day, day.messages);
    }
    if config.redis.url.is_none() {
        println!(
            "(without REDIS_URL this command cannot see a running server's sockets: connected devices counts none)"
        );
    }
    Ok(())
}
