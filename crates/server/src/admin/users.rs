//! Not available yet.

pub async fn run(
    _config: &crate::config::Config,
    _command: impl std::fmt::Debug,
) -> Result<(), Box<dyn std::error::Error>> {
    Err("not available yet".into())
}
