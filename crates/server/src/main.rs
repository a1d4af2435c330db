//! The `chitchat` binary: reads configuration, picks adapters, runs migrations
//! and serves the REST API, the WebSocket gateway and the web client; and the
//! operator's commands (migrate, backup, admin).

mod admin;
mod app;
mod backup;
mod cli;
mod client_noise;
mod config;
mod data_dir;
mod healthcheck;
mod push_key;
mod search_indexer;
mod secret;

use clap::Parser;
use cli::{Cli, Command};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    // Help, version and unknown arguments exit here (0, 0 and 2).
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    if command == Command::VapidKey {
        return push_key::print_new_key();
    }
    let config = match config::Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("chitchat: {}", chitchat_domain::error_chain(&error));
            return ExitCode::from(2);
        }
    };
    if command == Command::Healthcheck {
        return if healthcheck::healthy(config.http.port) { ExitCode::SUCCESS } else { ExitCode::FAILURE };
    }
    // Before anything is created: the database, its log and the files stay private.
    data_dir::restrict_new_files();
    // The operator's commands print their results on stdout; their logs go to stderr.
    app::init_tracing(config.mode, command != Command::Serve);
    let result: Result<(), Box<dyn std::error::Error>> = match command {
        Command::Migrate { check: false } => app::migrate(&config).await.map_err(Into::into),
        Command::Migrate { check: true } => match app::pending_migrations(&config).await {
            Ok(pending) if pending.is_empty() => {
                println!("no migrations pending");
                Ok(())
            }
            Ok(pending) => {
                println!("{} migrations pending:", pending.len());
                for name in pending {
                    println!("  {name}");
                }
                return ExitCode::FAILURE;
            }
            Err(error) => Err(error.into()),
        },
        Command::Backup { path } => backup::run(&config, &path).await.map_err(Into::into),
        Command::Admin(admin) => admin::run(&config, admin).await,
        Command::Serve | Command::Healthcheck | Command::VapidKey => app::serve(config).await.map_err(Into::into),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let error = chitchat_domain::error_chain(error.as_ref());
            tracing::error!(%error, "chitchat stopped");
            eprintln!("chitchat: {error}");
            ExitCode::FAILURE
        }
    }
}
