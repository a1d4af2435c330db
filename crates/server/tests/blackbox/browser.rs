//! End-to-end in real headless Chromium: two people log in through the web client
//! and exchange messages live (web/e2e/chat.e2e.mjs drives the browsers), a
//! photo uploaded in one browser shows in the other (web/e2e/attachments.e2e.mjs),
//! a video streams from a signed link and seeks with range requests, and a voice
//! note plays (web/e2e/media.e2e.mjs),
//! the theme and notification settings work (web/e2e/settings.e2e.mjs), an email
//! address is given and verified by its mailed code (web/e2e/email.e2e.mjs), one
//! person's two browsers stay in step (web/e2e/devices.e2e.mjs), and the
//! message actions (reply, edit, react, delete, forward) reach the other side
//! live, with a phone-sized pass (web/e2e/actions.e2e.mjs), and the pages ride
//! out a server restart (web/e2e/restart.e2e.mjs). Links, right-to-left text, edit
//! history, contact names, search paging and the server's edit and delete windows
//! (web/e2e/features.e2e.mjs); group and blocking flows from the info panel
//! (web/e2e/groups.e2e.mjs); an axe-core audit of the main screens
//! (web/e2e/a11y.e2e.mjs); the installable app: manifest, service worker, pushes
//! shown as notifications (web/e2e/pwa.e2e.mjs); a message written offline that
//! survives a reload and is sent once, and the chats the device kept shown while
//! the server is unreachable (web/e2e/offline.e2e.mjs); a real click on a push
//! notification shown by a desktop's notification daemon
//! (web/e2e/notification-click.e2e.mjs); a new browser linked from a logged-in one
//! by its pairing code (web/e2e/link.e2e.mjs); a reported message deleted for
//! everyone from the Admin page (web/e2e/admin.e2e.mjs); voice and video calls
//! with a fake camera: ringing on every device, media flowing both ways and in a
//! group of three, the call records, missed, declined and busy, through a real
//! TURN server, and an ICE restart when that server is restarted mid-call
//! (web/e2e/calls.e2e.mjs).
//! Needs Debian's `chromium` and `npm ci --prefix web/e2e`, and for the click
//! `xvfb`, `dunst`, `dbus` and `xdotool`; skipped without them unless
//! `CHITCHAT_REQUIRE_BROWSER=1`.

use crate::support;
use chitchat_testkit::services::skip_unless_required;
use chitchat_testkit::TestBackend;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

const REQUIRE: &str = "CHITCHAT_REQUIRE_BROWSER";

fn e2e_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/e2e")
}

fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// None (skipped) when something the browser test needs is missing.
fn prerequisites() -> Option<()> {
    if !chromium().exists() {
        return skip_unless_required(REQUIRE, "Chromium", format!("{} not found", chromium().display()));
    }
    if !e2e_dir().join("node_modules/playwright-core").exists() {
        return skip_unless_required(REQUIRE, "playwright-core", "run `npm ci --prefix web/e2e`");
    }
    if std::process::Command::new("node").arg("--version").output().is_err() {
        return skip_unless_required(REQUIRE, "Node.js", "`node` is not on PATH");
    }
    Some(())
}

/// Runs `script` from web/e2e against a fresh server and checks it reports `passed`.
async fn run_script(script: &str, env: &[(&str, &str)], passed: &str) {
    run_script_on(script, &[], env, passed).await;
}

/// Like `run_script`, with the server started with `server_env`.
async fn run_script_on(script: &str, server_env: &[(&str, &str)], env: &[(&str, &str)], passed: &str) {
    if prerequisites().is_none() {
        return;
    }
    let server = support::start(TestBackend::Sqlite, server_env).await.expect("SQLite needs no service");
    let run = node(script, &server, env).kill_on_drop(true).output();
    let output = tokio::time::timeout(Duration::from_secs(240), run)
        .await
        .expect("the browser test finishes within 4 minutes")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "browser test failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n--- server log\n{}",
        server.log_text()
    );
    assert!(stdout.contains(passed), "unexpected output:\n{stdout}");
}

/// The command that runs `script` from web/e2e against `server`.
fn node(script: &str, server: &chitchat_testkit::TestServer, env: &[(&str, &str)]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new("node");
    command
        .arg(script)
        .current_dir(e2e_dir())
        .env("BASE_URL", &server.base_url)
        .env("OTP_CODE", chitchat_testkit::server::TEST_OTP_CODE)
        .env("CHROMIUM", chromium())
        .envs(env.iter().copied());
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reported_message_is_deleted_for_everyone_from_the_admin_page() {
    let admin = [("ADMIN_PHONES", "+919700000001")];
    run_script_on("admin.e2e.mjs", &admin, &[("ADMIN_PHONE", "+919700000001")], "admin: 1 passed, 0 failed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_call_rings_every_device_is_answered_on_one_and_media_flows_both_ways_and_in_a_group_of_three() {
    run_script("calls.e2e.mjs", &[("CALLS_PART", "answered")], "calls: 1 passed, 0 failed").await;
}

/// The ring timeout is shortened so that "no answer" comes within the test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_caller_sees_no_answer_declined_and_busy_and_the_chats_record_them() {
    let server_env = [("CALL_RING_TIMEOUT", "3s")];
    run_script_on("calls.e2e.mjs", &server_env, &[("CALLS_PART", "outcomes")], "calls: 1 passed, 0 failed").await;
}

/// A real coturn whose logins the server hands out: with both pages set to relay
/// only, the call's media goes through it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_relayed_only_connects_through_a_real_turn_server_and_media_flows() {
    let Some(turn) = chitchat_testkit::TurnServer::start().await else { return };
    let url = turn.udp_url();
    let server_env = [("TURN_URLS", url.as_str()), ("TURN_SECRET", turn.secret())];
    run_script_on("calls.e2e.mjs", &server_env, &[("CALLS_PART", "relay")], "calls: 1 passed, 0 failed").await;
}

/// The server signs logins with a secret that is not coturn's: the relay refuses
/// them, and the pages say the call could not connect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_relayed_only_with_logins_the_turn_server_refuses_says_it_could_not_connect() {
    let Some(turn) = chitchat_testkit::TurnServer::start().await else { return };
    let url = turn.udp_url();
    let wrong_secret = format!("not-{}", turn.secret());
    let server_env = [("TURN_URLS", url.as_str()), ("TURN_SECRET", wrong_secret.as_str())];
    run_script_on("calls.e2e.mjs", &server_env, &[("CALLS_PART", "relay-refused")], "calls: 1 passed, 0 failed").await;
}

/// What calls.e2e.mjs prints when the relay a call goes through is to go away.
const RELAY_GOES_AWAY: &str = "calls: the relay goes away now";

/// A call relayed through a real coturn that is killed and started again while
/// the call runs: every allocation is gone, as when a device's network changes
/// under it. The pages restart ICE and media flows again through new relays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relayed_call_restarts_ice_and_carries_on_when_its_network_path_goes_away() {
    if prerequisites().is_none() {
        return;
    }
    let Some(mut turn) = chitchat_testkit::TurnServer::start().await else { return };
    let url = turn.udp_url();
    let server_env = [("TURN_URLS", url.as_str()), ("TURN_SECRET", turn.secret())];
    let server = support::start(TestBackend::Sqlite, &server_env).await.expect("SQLite needs no service");
    let mut child = node("calls.e2e.mjs", &server, &[("CALLS_PART", "network-change")])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let mut stderr_pipe = child.stderr.take().expect("piped stderr");
    let stderr = tokio::spawn(async move {
        let mut text = String::new();
        let _ = tokio::io::AsyncReadExt::read_to_string(&mut stderr_pipe, &mut text).await;
        text
    });
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let mut stdout = String::new();
    let mut restarts = 0;
    let run = async {
        while let Ok(Some(line)) = lines.next_line().await {
            stdout.push_str(&line);
            stdout.push('\n');
            if line.contains(RELAY_GOES_AWAY) {
                turn.restart().await;
                restarts += 1;
            }
        }
        child.wait().await.expect("node exits")
    };
    let status =
        tokio::time::timeout(Duration::from_secs(240), run).await.expect("the browser test finishes within 4 minutes");
    let stderr = stderr.await.unwrap_or_default();
    assert!(
        status.success(),
        "browser test failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n--- server log\n{}",
        server.log_text()
    );
    assert_eq!(restarts, 1, "the relay went away once:\n{stdout}");
    assert!(stdout.contains("calls: 1 passed, 0 failed"), "unexpected output:\n{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_browsers_log_in_and_chat_live() {
    let env = [("E2E_PRESENCE_OFFLINE", "1"), ("E2E_PRESENCE_WITHIN_MS", "8000")];
    run_script("chat.e2e.mjs", &env, "e2e: 1 passed, 0 failed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_address_is_given_verified_by_its_mailed_code_and_removed_in_the_settings() {
    let Some(mail) = chitchat_testkit::MailServer::start().await else { return };
    let (url, maildir) = (mail.url(), mail.maildir());
    let server_env = [("SMTP_URL", url.as_str()), ("SMTP_FROM", "Test chat <chat@chitchat.test>")];
    let env = [("MAILDIR", maildir.to_str().expect("a UTF-8 path"))];
    run_script_on("email.e2e.mjs", &server_env, &env, "email: 1 passed, 0 failed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_uploaded_in_one_browser_shows_in_the_other() {
    run_script("attachments.e2e.mjs", &[], "attachments: 1 passed, 0 failed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_streams_and_seeks_with_range_requests_and_a_voice_note_plays() {
    // Links that expire during the test: the player must get a fresh one and go on.
    let server_env = [("ATTACHMENT_LINK_TTL", "4s")];
    run_script_on("media.e2e.mjs", &server_env, &[], "media: 1 passed, 0 failed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_theme_switch_sticks_and_hidden_tabs_notify_of_new_messages() {
    run_script("settings.e2e.mjs", &[], "settings: 1 passed, 0 failed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_person_does_on_one_device_shows_on_their_other_without_a_reload() {
    run_script("devices.e2e.mjs", &[], "devices: 1 passed, 0 failed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_browser_is_linked_by_typing_its_code_on_a_logged_in_device() {
    run_script("link.e2e.mjs", &[], "link: 1 passed, 0 failed").await;
}

/// The restart test: the script asks (a line on its output) for the server to be
/// stopped with SIGTERM and started again; the server keeps its port, so the pages
/// find it where they left it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_reconnect_after_a_server_restart_and_show_every_message_once() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    if prerequisites().is_none() {
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let mut server = support::start(TestBackend::Sqlite, &[("PORT", &port)]).await.expect("SQLite needs no service");
    let mut node = tokio::process::Command::new("node")
        .arg("restart.e2e.mjs")
        .current_dir(e2e_dir())
        .env("BASE_URL", &server.base_url)
        .env("OTP_CODE", chitchat_testkit::server::TEST_OTP_CODE)
        .env("CHROMIUM", chromium())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let mut answers = node.stdin.take().unwrap();
    let mut lines = BufReader::new(node.stdout.take().unwrap()).lines();
    let mut output = String::new();
    let run = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            output.push_str(&line);
            output.push('\n');
            if line == "restart: STOP-SERVER" {
                let status = server.terminate(Duration::from_secs(15)).await;
                assert!(status.is_some_and(|s| s.success()), "the server stops cleanly on SIGTERM");
            } else if line == "restart: START-SERVER" {
                server.start_again().await;
            } else {
                continue;
            }
            answers.write_all(b"done\n").await.unwrap();
        }
    };
    tokio::time::timeout(Duration::from_secs(240), run).await.expect("the browser test finishes within 4 minutes");
    let status = node.wait().await.unwrap();
    let mut stderr = String::new();
    if let Some(mut err) = node.stderr.take() {
        use tokio::io::AsyncReadExt;
        let _ = err.read_to_string(&mut stderr).await;
    }
    assert!(
        status.success() && output.contains("restart: 1 passed, 0 failed"),
        "browser test failed\n--- stdout\n{output}\n--- stderr\n{stderr}\n--- server log\n{}",
        server.log_text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_edits_reactions_deletions_and_forwards_show_live_in_the_other_browser() {
    run_script("actions.e2e.mjs", &[], "actions: 1 passed, 0 failed").await;
}

/// The delete window is one second, the edit window the default: the page offers
/// what the server allows, not what its defaults would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_right_to_left_text_edit_history_aliases_search_pages_and_the_server_windows_work_in_the_browser() {
    run_script_on("features.e2e.mjs", &[("MESSAGE_DELETE_WINDOW", "1s")], &[], "features: 1 passed, 0 failed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_are_renamed_described_joined_and_left_and_people_blocked_from_the_info_panel() {
    run_script("groups.e2e.mjs", &[], "groups: 1 passed, 0 failed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_main_screens_pass_an_accessibility_audit_in_light_and_dark() {
    run_script("a11y.e2e.mjs", &[], "a11y: 1 passed, 0 failed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_installs_caches_its_shell_by_version_and_shows_pushes_one_notification_per_chat() {
    run_script("pwa.e2e.mjs", &[], "pwa: 1 passed, 0 failed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_click_on_a_push_notification_opens_its_chat_in_the_open_page_or_a_new_one() {
    // A desktop of its own: a virtual display, a session bus and a notification daemon.
    for tool in ["Xvfb", "dunst", "dbus-daemon", "dbus-send", "xdotool"] {
        if std::process::Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| !o.status.success())
        {
            skip_unless_required::<()>(REQUIRE, tool, "not installed (Debian: xvfb, dunst, dbus, xdotool)");
            return;
        }
    }
    run_script("notification-click.e2e.mjs", &[], "notification-click: 1 passed, 0 failed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_written_offline_survives_a_reload_is_sent_once_and_kept_chats_show_without_the_server() {
    run_script("offline.e2e.mjs", &[], "offline: 1 passed, 0 failed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swagger_ui_works_in_a_browser_under_our_content_security_policy() {
    if prerequisites().is_none() {
        return;
    }
    let server = support::start(TestBackend::Sqlite, &[]).await.expect("SQLite needs no service");
    let run = tokio::process::Command::new("node")
        .arg("swagger.e2e.mjs")
        .current_dir(e2e_dir())
        .env("BASE_URL", &server.base_url)
        .env("CHROMIUM", chromium())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the Swagger UI check finishes within 2 minutes")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "Swagger UI failed in the browser\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
    assert!(stdout.contains("swagger: "), "unexpected output:\n{stdout}");
}
