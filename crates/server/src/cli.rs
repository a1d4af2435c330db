//! The command line: `chitchat [--config PATH] [COMMAND]`, parsed by clap.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// chitchat: a self-hosted messaging server.
///
/// Configuration comes from environment variables (PORT, DATABASE_URL, REDIS_URL,
/// JWT_SECRET, ...; every secret also as NAME_FILE) and an optional chitchat.toml;
/// see README.md.
#[derive(Debug, Parser)]
#[command(name = "chitchat", version, about, long_about = None)]
pub struct Cli {
    /// Read the configuration file from PATH instead of ./chitchat.toml (it must exist).
    #[arg(long, value_name = "PATH", global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What the binary was asked to do.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Apply database migrations and serve (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate {
        /// Apply nothing: exit 1 when migrations are pending, 0 when none are.
        #[arg(long)]
        check: bool,
    },
    /// Exit 0 when the local server's /health is healthy, 1 otherwise (for
    /// container health checks: the image needs no curl).
    Healthcheck,
    /// Print a new key pair for Web Push (VAPID_PRIVATE_KEY) and exit.
    VapidKey,
    /// Copy a running server's SQLite database and attachments into PATH, consistently.
    Backup {
        /// A directory that does not exist yet, or is empty.
        path: PathBuf,
    },
    /// Manage users, sessions and data against the configured database; with
    /// REDIS_URL, changes take effect on every running instance at once.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum AdminCommand {
    /// People: list, show, disable, enable, delete.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Logged-in devices: list, revoke.
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// Print a one-time login code for PHONE, valid for 15 minutes.
    LoginCode(PhoneArg),
    /// Write PHONE's data (JSON) and files into one archive.
    Export {
        phone: String,
        /// Where the archive goes (default: chitchat-export-PHONE.tar).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Print the server's figures: users, messages, devices, storage.
    Stats,
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum UsersCommand {
    /// List users, optionally those whose name or phone contains TEXT.
    List {
        #[arg(long)]
        search: Option<String>,
    },
    /// Show one user.
    Show(PhoneArg),
    /// End every session of the user at once and refuse their logins.
    Disable(PhoneArg),
    /// Let a disabled user log in again.
    Enable(PhoneArg),
    /// Delete the user's account.
    Delete(PhoneArg),
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum SessionsCommand {
    /// List the logged-in devices of PHONE.
    List(PhoneArg),
    /// Log a device out: a session id, or --all sessions of PHONE.
    Revoke {
        /// The session id `sessions list` shows.
        session_id: Option<String>,
        /// Every session of this phone instead.
        #[arg(long, value_name = "PHONE", conflicts_with = "session_id")]
        all: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct PhoneArg {
    /// A phone number, as people type it (+91 98765 43210).
    pub phone: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("chitchat").chain(args.iter().copied()))
    }

    #[test]
    fn serving_is_the_default_and_commands_are_recognised() {
        assert_eq!(parse(&[]).unwrap().command, None);
        assert_eq!(parse(&["serve"]).unwrap().command, Some(Command::Serve));
        assert_eq!(parse(&["migrate"]).unwrap().command, Some(Command::Migrate { check: false }));
        assert_eq!(parse(&["migrate", "--check"]).unwrap().command, Some(Command::Migrate { check: true }));
        assert_eq!(parse(&["healthcheck"]).unwrap().command, Some(Command::Healthcheck));
        assert_eq!(parse(&["vapid-key"]).unwrap().command, Some(Command::VapidKey));
        assert_eq!(
            parse(&["admin", "users", "disable", "+919876543210"]).unwrap().command,
            Some(Command::Admin(AdminCommand::Users(UsersCommand::Disable(PhoneArg {
                phone: "+919876543210".into()
            }))))
        );
        let with_config = parse(&["--config", "/etc/chitchat.toml", "migrate"]).unwrap();
        assert_eq!(with_config.config, Some(PathBuf::from("/etc/chitchat.toml")));
        assert!(parse(&["serve", "extra"]).is_err());
        assert!(parse(&["--frobnicate"]).is_err());
        assert!(parse(&["admin", "sessions", "revoke", "abc", "--all", "+91"]).is_err());
    }
}
