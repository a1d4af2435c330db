//! `chitchat admin login-code PHONE`: a one-time login code the operator hands over,
//! for servers without an SMS gateway or mail server, and for a fresh server's first
//! person (their account is made when they log in with it, as with any code).

use crate::config::Config;

pub async fn run(config: &Config, phone: &str) -> Result<(), Box<dyn std::error::Error>> {
    let assembly = crate::app::assemble(config).await?;
    let issued = assembly.services.auth.admin_login_code(phone).await.map_err(|error| format!("{phone:?}: {error}"))?;
    let minutes = ((issued.expires_at - chrono::Utc::now()).num_seconds().max(0) + 59) / 60;
    println!("phone       {}", issued.phone.as_str());
    println!("code        {}", issued.code.reveal());
    println!(
        "expires_at  {} (in about {minutes} minutes; it works once)",
        issued.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    Ok(())
}
