//! The command line: `chitchat [serve|migrate|healthcheck|vapid-key] [--help|--version]`.

/// What the binary was asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Apply migrations and serve (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Exit 0 when the server on this machine's `PORT` answers `/health` healthy
    /// (for container health checks: the image needs no curl).
    Healthcheck,
    /// Print a new VAPID key pair for `VAPID_PRIVATE_KEY`, and exit.
    VapidKey,
    Help,
    Version,
}

pub const USAGE: &str = "\
chitchat: a self-hosted messaging server

Usage: chitchat [COMMAND]

Commands:
  serve        apply database migrations and serve (the default)
  migrate      apply database migrations and exit
  healthcheck  exit 0 when the local server's /health is healthy, 1 otherwise
  vapid-key    print a new key pair for Web Push (VAPID_PRIVATE_KEY) and exit

Options:
  -h, --help     show this help
  -V, --version  show the version

Configuration comes from environment variables (PORT, DATABASE_URL, REDIS_URL,
JWT_SECRET, ...) and an optional chitchat.toml; see README.md.";

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let args: Vec<String> = args.into_iter().collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [] | ["serve"] => Ok(Command::Serve),
        ["migrate"] => Ok(Command::Migrate),
        ["healthcheck"] => Ok(Command::Healthcheck),
        ["vapid-key"] => Ok(Command::VapidKey),
        ["-h" | "--help" | "help"] => Ok(Command::Help),
        ["-V" | "--version"] => Ok(Command::Version),
        other => Err(format!("unknown arguments {other:?}; see chitchat --help")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn serving_is_the_default_and_commands_are_recognised() {
        assert_eq!(parse(args(&[])), Ok(Command::Serve));
        assert_eq!(parse(args(&["migrate"])), Ok(Command::Migrate));
        assert_eq!(parse(args(&["healthcheck"])), Ok(Command::Healthcheck));
        assert_eq!(parse(args(&["vapid-key"])), Ok(Command::VapidKey));
        assert_eq!(parse(args(&["--version"])), Ok(Command::Version));
        assert_eq!(parse(args(&["-h"])), Ok(Command::Help));
        assert!(parse(args(&["serve", "extra"])).is_err());
        assert!(parse(args(&["--frobnicate"])).is_err());
    }
}
