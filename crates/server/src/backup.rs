//! `chitchat backup PATH`: a consistent copy of a running SQLite server.

use crate::config::Config;
use std::path::Path;

pub async fn run(config: &Config, path: &Path) -> Result<(), std::io::Error> {
    let _ = (config, path);
    Err(std::io::Error::other("backup is not available yet"))
}
