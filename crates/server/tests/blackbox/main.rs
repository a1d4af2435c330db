//! The black-box tests of the server, as one test binary (one link instead of one
//! per file, which is what a build on few cores waits for). The modules start the
//! real `chitchat` binary (see `support`) or check the repository's own files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod support;

mod access;
mod admin_api;
mod admin_cli;
mod attachment_links;
mod attachments;
mod authorization;
mod backup;
mod bad_frames;
mod bad_input;
mod browser;
mod chat_flow;
mod chat_settings;
mod cli;
mod cluster;
mod cluster_events;
mod cluster_sync;
mod compression;
mod connections;
mod contacts;
mod crash;
mod db_restart;
mod deploy_files;
mod device_links;
mod file_modes;
mod groups;
mod headers;
mod ice_servers;
mod limits;
mod live;
mod login_codes;
mod login_limits;
mod login_privacy;
mod manifest_and_docs;
mod message_actions;
mod migrations;
mod nginx;
mod observability;
mod openapi;
mod otp_webhook;
mod pg_tls;
mod photo_metadata;
mod privacy;
mod push;
mod receipts;
mod reconnects;
mod redis_outage;
mod relay_loss;
mod resume;
mod rolling_restart;
mod schemathesis;
mod search;
mod shutdown;
mod slow_bodies;
mod slow_client;
mod soak;
mod socket_rules;
mod thumbnail_memory;
mod ws_authorization;
