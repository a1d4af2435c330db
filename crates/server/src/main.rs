//! The `chitchat` binary: reads configuration, picks adapters, runs migrations
//! and serves the REST API, the WebSocket gateway and the web client.

mod app;
mod config;
mod secret;

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let config = match config::Config::load() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("chitchat: {error}");
            return ExitCode::from(2);
        }
    };
    app::init_tracing(config.mode);
    match app::serve(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "chitchat stopped");
            eprintln!("chitchat: {error}");
            ExitCode::FAILURE
        }
    }
}
