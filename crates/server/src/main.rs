//! The `chitchat` binary: reads configuration, picks adapters, runs migrations
//! and serves the REST API, the WebSocket gateway and the web client.

mod app;
mod cli;
mod client_noise;
mod config;
mod data_dir;
mod healthcheck;
mod push_key;
mod secret;

use cli::Command;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let command = match cli::parse(std::env::args().skip(1)) {
        Ok(command) => command,
        Err(error) => {
            eprintln!("chitchat: {error}");
            return ExitCode::from(2);
        }
    };
    match command {
        Command::Help => {
            println!("{}", cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Command::Version => {
            println!("chitchat {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Command::VapidKey => return push_key::print_new_key(),
        _ => {}
    }
    let config = match config::Config::load() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("chitchat: {error}");
            return ExitCode::from(2);
        }
    };
    if command == Command::Healthcheck {
        return if healthcheck::healthy(config.http.port) { ExitCode::SUCCESS } else { ExitCode::FAILURE };
    }
    // Before anything is created: the database, its log and the files stay private.
    data_dir::restrict_new_files();
    app::init_tracing(config.mode);
    let result = match command {
        Command::Migrate => app::migrate(&config).await,
        _ => app::serve(config).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let error = chitchat_domain::error_chain(&error);
            tracing::error!(%error, "chitchat stopped");
            eprintln!("chitchat: {error}");
            ExitCode::FAILURE
        }
    }
}
