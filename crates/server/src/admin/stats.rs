//! Not available yet.

pub async fn run(_config: &crate::config::Config) -> Result<(), Box<dyn std::error::Error>> {
    Err("not available yet".into())
}
