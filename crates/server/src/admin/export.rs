//! Not available yet.

pub async fn run(
    _config: &crate::config::Config,
    _phone: &str,
    _output: Option<&std::path::Path>,
) -> Result<(), Box<dyn std::error::Error>> {
    Err("not available yet".into())
}
