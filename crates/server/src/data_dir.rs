//! What the process creates on disk is private to its user: the database, its
//! write-ahead log, attachments and the generated secret hold every message.

use std::path::Path;

/// Files the process creates from now on are 0600 and directories 0700, whoever
/// creates them (SQLite, the blob store, this crate).
pub fn restrict_new_files() {
    #[cfg(unix)]
    {
        rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    }
}

/// Creates `DATA_DIR` if needed and makes it 0700, also when an older version
/// left it readable by others, so that nothing inside is reachable by them. A
/// directory this user does not own (a volume mounted for it, say) cannot be
/// changed: that is logged, and what the server creates in it is still 0600.
pub fn prepare(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)) {
            Err(error) if error.kind() == std::io::ErrorKind::PermissionDenied => {
                tracing::warn!(dir = %dir.display(), %error, "DATA_DIR is not this user's: cannot make it 0700");
            }
            other => other?,
        }
    }
    Ok(())
}

/// The secret kept in `path` (trimmed), or, when the file is missing or blank, a
/// new one from `make`, written there readable by this user only. Development keeps
/// its generated secrets this way, so that they survive restarts.
pub fn kept_secret(path: &Path, make: impl FnOnce() -> std::io::Result<String>) -> std::io::Result<(String, bool)> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim();
        if !existing.is_empty() {
            return Ok((existing.to_owned(), false));
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let secret = make()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    std::io::Write::write_all(&mut options.open(path)?, secret.as_bytes())?;
    Ok((secret, true))
}

/// Whether `host` only accepts connections from this machine.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_addresses_count_as_local() {
        for local in ["127.0.0.1", "::1", "[::1]", "localhost", "127.0.0.2"] {
            assert!(is_loopback(local), "{local}");
        }
        for public in ["0.0.0.0", "::", "192.168.1.10", "example.org"] {
            assert!(!is_loopback(public), "{public}");
        }
    }
}
