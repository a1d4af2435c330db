//! The outbox as the bus, the connection task and the socket's body use it: each
//! test asserts what the device would receive.

use super::*;
use chitchat_domain::event::{DeviceTarget, EphemeralDelivery};
use std::task::Waker;

const WAIT: Duration = Duration::from_secs(10);

fn outbox(capacity: usize) -> Arc<Outbox> {
    let outbox = Outbox::new(DeviceId::new(), SessionId::new(), capacity, WAIT);
    outbox.start(Vec::new(), Vec::new());
    outbox
}

fn flowing(capacity: usize) -> Arc<Outbox> {
    let outbox = outbox(capacity);
    assert!(outbox.go_live().is_empty());
    outbox.flow();
    outbox
}

fn event(chat: ChatId, seq: i64) -> EventDelivery {
    EventDelivery { room_id: chat, event_seq: seq, frame: Arc::from(format!("e{seq}")), message_stored_at: None }
}

fn live(chat: ChatId, seq: i64) -> SharedDelivery {
    Arc::new(Delivery::Event(event(chat, seq)))
}

/// What the socket's body writes now, as text ("close" for a close frame), and
/// whether the body ended.
fn written(outbox: &Outbox) -> (Vec<String>, bool) {
    let mut cx = Context::from_waker(Waker::noop());
    let mut frames = Vec::new();
    loop {
        let poll = outbox.write_waiting(&mut cx, |frame| {
            frames.push(match frame {
                Outgoing::Shared(text) => text.to_string(),
                Outgoing::Own(Message::Text(text)) => text.to_string(),
                Outgoing::Own(Message::Close(_)) => "close".to_owned(),
                Outgoing::Own(other) => format!("{other:?}"),
            });
            true
        });
        match poll {
            Poll::Ready(Some(())) => {}
            Poll::Ready(None) => return (frames, true),
            Poll::Pending => return (frames, false),
        }
    }
}

fn texts(frames: &[&str]) -> Vec<String> {
    frames.iter().map(|frame| (*frame).to_owned()).collect()
}

#[test]
fn live_events_are_written_in_order_once_and_an_early_one_waits_for_the_one_before() {
    let chat = ChatId::new();
    let outbox = flowing(8);
    for seq in [1, 3, 2, 2, 4] {
        assert!(outbox.take(&live(chat, seq)));
    }
    assert_eq!(written(&outbox), (texts(&["e1", "e2", "e3", "e4"]), false));
    assert_eq!(outbox.deadline(), None, "nothing waits any more");
}

#[test]
fn deliveries_that_come_before_the_socket_goes_live_wait_behind_what_the_log_replays() {
    let chat = ChatId::new();
    let outbox = outbox(8);
    assert!(outbox.take(&live(chat, 3)));
    assert_eq!(written(&outbox), (Vec::new(), false), "nothing flows yet");
    let answer = Ok(CatchUp::Events(vec![event(chat, 1), event(chat, 2)]));
    assert_eq!(outbox.replayed(chat, 0, answer), Some(2));
    assert_eq!(outbox.push(Message::Text("resumed".into())), Ok(()));
    outbox.go_live();
    outbox.flow();
    assert_eq!(written(&outbox), (texts(&["e1", "e2", "resumed", "e3"]), false));
}

#[test]
fn a_live_event_that_comes_while_the_log_is_read_is_written_after_the_replay() {
    let chat = ChatId::new();
    let outbox = flowing(8);
    assert!(outbox.take(&live(chat, 1)));
    // 2 is lost; 3 waits for it, and the task reads the log from 1.
    assert!(outbox.take(&live(chat, 3)));
    assert!(outbox.take_work().deadline_moved, "3 waits for 2");
    let answer = Ok(CatchUp::Events((1..=3).map(|seq| event(chat, seq)).collect()));
    // Meanwhile 4 is stored and comes live.
    assert!(outbox.take(&live(chat, 4)));
    assert_eq!(outbox.replayed(chat, 1, answer), Some(3));
    assert!(outbox.take(&live(chat, 5)));
    assert_eq!(written(&outbox), (texts(&["e1", "e2", "e3", "e4", "e5"]), false));
}

#[test]
fn a_device_too_far_behind_is_refused_and_told_to_resume_before_what_waited() {
    let chat = ChatId::new();
    let outbox = flowing(2);
    assert!(outbox.take(&live(chat, 1)));
    assert!(outbox.take(&live(chat, 2)));
    assert!(!outbox.take(&live(chat, 3)), "a third frame does not fit");
    assert!(outbox.take_work().too_slow);
    assert!(!outbox.take(&live(chat, 4)), "nothing more is taken");
    assert_eq!(outbox.push(Message::Text("reply".into())), Err(TOO_SLOW), "the connection learns why");
    let reason = CloseReason { code: actix_ws::CloseCode::Again, description: None };
    outbox.close(Some(reason), true);
    assert_eq!(written(&outbox), (texts(&["close"]), true));
}

#[test]
fn the_connections_own_frames_do_not_count_against_the_live_ones() {
    let chat = ChatId::new();
    let outbox = flowing(2);
    let replay = Ok(CatchUp::Events((1..=5).map(|seq| event(chat, seq)).collect()));
    assert_eq!(outbox.replayed(chat, 0, replay), Some(5));
    assert!(outbox.take(&live(chat, 6)), "a replay longer than the queue leaves room for live events");
    assert_eq!(written(&outbox).0.len(), 6);
}

#[tokio::test]
async fn the_connection_waits_for_room_and_gives_up_when_the_socket_takes_nothing() {
    let outbox = Outbox::new(DeviceId::new(), SessionId::new(), 1, Duration::from_millis(50));
    assert_eq!(outbox.push(Message::Text("a".into())), Ok(()));
    assert_eq!(outbox.wait_for_room().await, Err(TOO_SLOW));
    assert!(outbox.stalled());
    let writer = outbox.clone();
    let waiting = tokio::spawn(async move { outbox.wait_for_room().await });
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(written(&writer).0, texts(&["a"]));
    assert_eq!(waiting.await.ok(), Some(Ok(())), "room once the socket took a frame");
}

#[test]
fn a_stall_is_reported_once_until_the_socket_takes_frames_again() {
    let chat = ChatId::new();
    let outbox = Outbox::new(DeviceId::new(), SessionId::new(), 8, WAIT);
    outbox.start(Vec::new(), Vec::new());
    outbox.flow();
    assert!(outbox.take(&live(chat, 1)));
    std::thread::sleep(STALL_NOTICE + Duration::from_millis(20));
    assert!(outbox.take(&live(chat, 2)));
    assert!(outbox.take_work().watch_stall, "frames waited past the notice");
    assert!(outbox.stall_deadline().is_some());
    assert!(outbox.take(&live(chat, 3)));
    assert!(!outbox.take_work().watch_stall, "said once");
    assert!(!outbox.stalled(), "not for WS_WRITE_WAIT yet");
    assert_eq!(written(&outbox).0, texts(&["e1", "e2", "e3"]));
    assert_eq!(outbox.stall_deadline(), None, "nothing waits");
}

#[test]
fn updates_go_to_the_devices_they_are_for_and_a_revoked_session_is_left_to_the_connection() {
    let device = DeviceId::new();
    let session = SessionId::new();
    let outbox = Outbox::new(device, session, 8, WAIT);
    outbox.start(Vec::new(), Vec::new());
    outbox.flow();
    let update = |devices| {
        Arc::new(Delivery::Ephemeral(EphemeralDelivery { room_id: None, frame: Arc::from("typing"), devices }))
    };
    assert!(outbox.take(&update(DeviceTarget::Only(vec![DeviceId::new()]))));
    assert!(outbox.take(&update(DeviceTarget::Only(vec![device]))));
    assert!(outbox.take(&Arc::new(Delivery::SessionRevoked { session_id: SessionId::new() })));
    assert_eq!(outbox.take_work(), Work::default(), "another session's end is no work");
    assert!(outbox.take(&Arc::new(Delivery::SessionRevoked { session_id: session })));
    assert!(outbox.take_work().session_revoked);
    assert_eq!(written(&outbox).0, texts(&["typing"]));
}

#[test]
fn once_the_body_is_gone_nothing_is_taken() {
    let outbox = flowing(8);
    outbox.writer_gone();
    assert!(!outbox.take(&live(ChatId::new(), 1)));
    assert_eq!(outbox.push(Message::Text("late".into())), Err(GONE));
}
