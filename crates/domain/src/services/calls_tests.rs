use super::*;
use crate::call::{CallOutcome, ParticipantState};
use crate::chat::ChatKind;
use crate::event::{Delivery, DeviceTarget};
use crate::message::Appended;
use crate::services::test_support::{chat, member, ports, stored, user, MockSet};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

/// The registry's calls, shared by the services of a test as by instances.
type Calls = Arc<Mutex<HashMap<CallId, Call>>>;
/// What the bus was given: recipients, frame, devices.
type Published = Arc<Mutex<Vec<(Vec<UserId>, serde_json::Value, DeviceTarget)>>>;
/// The records appended.
type Records = Arc<Mutex<Vec<NewMessage>>>;

struct World {
    chat: ChatId,
    kind: ChatKind,
    members: Vec<UserId>,
    calls: Calls,
    published: Published,
    records: Records,
    /// Replaces that fail as if another instance had changed the call first.
    conflicts: Arc<Mutex<usize>>,
    /// (blocker, blocked)
    blocks: Vec<(UserId, UserId)>,
}

impl World {
    fn new(kind: ChatKind, members: usize) -> Self {
        Self {
            chat: ChatId::new(),
            kind,
            members: (0..members).map(|_| UserId::new()).collect(),
            calls: Calls::default(),
            published: Published::default(),
            records: Records::default(),
            conflicts: Arc::default(),
            blocks: Vec::new(),
        }
    }

    fn caller(&self, i: usize) -> Caller {
        Caller { user_id: self.members[i], session_id: crate::ids::SessionId::new() }
    }

    fn service(&self, now: DateTime<Utc>) -> CallService {
        let mut m = MockSet::new(now);
        let (chat_id, kind, members) = (self.chat, self.kind, self.members.clone());
        let listed = members.clone();
        m.chats.expect_member().returning(move |c, u| Ok((c == chat_id && listed.contains(&u)).then(|| member(c, u))));
        m.chats.expect_get().returning(move |c| Ok((c == chat_id).then(|| chat(c, kind))));
        let listed = members.clone();
        m.chats.expect_members().returning(move |c| Ok(listed.iter().map(|u| member(c, *u)).collect()));
        m.users.expect_get().returning(|id| Ok(Some(user(id, "Asha"))));
        let blocks = self.blocks.clone();
        let mut contacts = crate::ports::MockContactRepo::new();
        contacts.expect_is_blocked().returning(move |a, b| Ok(blocks.contains(&(a, b))));
        let blocks = self.blocks.clone();
        contacts.expect_blockers_among().returning(move |blocked, among| {
            Ok(among.iter().copied().filter(|blocker| blocks.contains(&(*blocker, blocked))).collect())
        });
        m.contacts = contacts;
        let records = self.records.clone();
        m.messages.expect_append().returning(move |new| {
            records.lock().unwrap().push(new.clone());
            Ok(Appended { message: stored(new, 1), created: true, event_seq: Some(1) })
        });
        let published = self.published.clone();
        m.bus.expect_publish().returning(move |to, delivery| {
            let (frame, devices) = match delivery {
                Delivery::Ephemeral(e) => (serde_json::from_str(&e.frame).unwrap(), e.devices),
                Delivery::Event(e) => (serde_json::from_str(&e.frame).unwrap(), DeviceTarget::All),
                other => panic!("unexpected {other:?}"),
            };
            published.lock().unwrap().push((to.to_vec(), frame, devices));
            Ok(())
        });
        self.fake_registry(&mut m);
        CallService::new(&ports(m), CallPolicy::default())
    }

    fn fake_registry(&self, m: &mut MockSet) {
        let calls = self.calls.clone();
        m.calls.expect_get().returning(move |id| Ok(calls.lock().unwrap().get(&id).cloned()));
        let calls = self.calls.clone();
        m.calls.expect_insert().returning(move |call| {
            calls.lock().unwrap().insert(call.id, call.clone());
            Ok(true)
        });
        let (calls, conflicts) = (self.calls.clone(), self.conflicts.clone());
        m.calls.expect_replace().returning(move |expected, call| {
            let mut conflicts = conflicts.lock().unwrap();
            if *conflicts > 0 {
                *conflicts -= 1;
                return Ok(false);
            }
            let mut calls = calls.lock().unwrap();
            let matches = calls.get(&call.id).is_some_and(|c| c.version == expected);
            if matches {
                calls.insert(call.id, call.clone());
            }
            Ok(matches)
        });
        let calls = self.calls.clone();
        m.calls.expect_remove().returning(move |id, expected| {
            let mut calls = calls.lock().unwrap();
            let matches = calls.get(&id).is_some_and(|c| c.version == expected);
            if matches {
                calls.remove(&id);
            }
            Ok(matches)
        });
        let calls = self.calls.clone();
        m.calls.expect_active_call_of().returning(move |user| {
            Ok(calls.lock().unwrap().values().find(|c| c.engaged().contains(&user)).map(|c| c.id))
        });
        let calls = self.calls.clone();
        m.calls.expect_due().returning(move |now| {
            Ok(calls
                .lock()
                .unwrap()
                .values()
                .filter(|c| c.next_deadline().is_some_and(|d| d <= now))
                .cloned()
                .collect())
        });
    }

    /// The frames of `kind` sent so far, with recipients and devices.
    fn sent(&self, kind: &str) -> Vec<(Vec<UserId>, serde_json::Value, DeviceTarget)> {
        self.published.lock().unwrap().iter().filter(|(_, f, _)| f["type"] == kind).cloned().collect()
    }

    fn record(&self) -> crate::call::CallInfo {
        let records = self.records.lock().unwrap();
        assert_eq!(records.len(), 1, "one record per call");
        records[0].system.as_ref().and_then(|s| s.call.clone()).unwrap()
    }
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

#[tokio::test]
async fn a_direct_call_rings_the_callee_is_answered_and_leaves_one_record() {
    let w = World::new(ChatKind::Direct, 2);
    let start = now();
    let service = w.service(start);
    let (asha, ravi) = (w.caller(0), w.caller(1));
    let (asha_phone, ravi_phone) = (DeviceId::new(), DeviceId::new());
    let call = service.invite(asha, asha_phone, w.chat, CallMedia::Video).await.unwrap();
    assert_eq!(call.ringing(), vec![ravi.user_id]);
    let invites = w.sent("call_invite");
    assert_eq!((invites.len(), &invites[0].0, &invites[0].2), (1, &vec![ravi.user_id], &DeviceTarget::All));
    assert_eq!(invites[0].1["payload"]["caller"]["display_name"], "Asha");

    service.accept(ravi, ravi_phone, call.id).await.unwrap();
    let accepts = w.sent("call_accept");
    assert_eq!(accepts[0].2, DeviceTarget::Only(vec![asha_phone, ravi_phone]));
    assert!(w.records.lock().unwrap().is_empty(), "no record while the call goes on");

    w.service(start + Duration::seconds(90)).hang_up(asha, asha_phone, call.id).await.unwrap();
    let record = w.record();
    assert_eq!(
        (record.outcome, record.duration_secs, record.media),
        (CallOutcome::Answered, Some(90), CallMedia::Video)
    );
    assert!(w.calls.lock().unwrap().is_empty(), "the ended call is gone");
    let messages = w.sent("message");
    assert_eq!(messages.len(), 1, "the record goes to the members like any new message");
    assert_eq!(messages[0].1["payload"]["system"]["call"]["outcome"], "answered");
}

#[tokio::test]
async fn nobody_calls_across_a_block_in_either_direction() {
    for blocker_is_caller in [false, true] {
        let mut w = World::new(ChatKind::Direct, 2);
        let (a, b) = (w.members[0], w.members[1]);
        w.blocks = vec![if blocker_is_caller { (a, b) } else { (b, a) }];
        let refused = w.service(now()).invite(w.caller(0), DeviceId::new(), w.chat, CallMedia::Voice).await;
        assert_eq!(refused.unwrap_err().code(), ErrorCode::Blocked);
        assert!(w.calls.lock().unwrap().is_empty() && w.published.lock().unwrap().is_empty());
    }
}

#[tokio::test]
async fn outsiders_and_chats_too_large_for_a_mesh_are_refused() {
    let w = World::new(ChatKind::Group, 3);
    let outsider = Caller { user_id: UserId::new(), session_id: crate::ids::SessionId::new() };
    let refused = w.service(now()).invite(outsider, DeviceId::new(), w.chat, CallMedia::Voice).await;
    assert_eq!(refused.unwrap_err().code(), ErrorCode::ChatNotFound);

    let big = World::new(ChatKind::Group, 5);
    let refused = big.service(now()).invite(big.caller(0), DeviceId::new(), big.chat, CallMedia::Voice).await;
    assert_eq!(refused.unwrap_err().code(), ErrorCode::CallTooLarge);
    assert!(big.calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn calling_someone_in_a_call_answers_busy_and_records_it() {
    let w = World::new(ChatKind::Group, 4);
    let service = w.service(now());
    // Members 2 and 3 are in a call of their own (another chat of theirs).
    let mut other = Call::start(
        NewCall {
            id: CallId::new(),
            chat_id: ChatId::new(),
            chat_kind: ChatKind::Direct,
            caller: w.members[2],
            caller_device: DeviceId::new(),
            media: CallMedia::Voice,
            invitees: vec![(w.members[3], false)],
        },
        now(),
        &CallPolicy::default(),
    )
    .call;
    other = other.accept(w.members[3], DeviceId::new(), now()).unwrap().call;
    w.calls.lock().unwrap().insert(other.id, other.clone());

    let direct = World { calls: w.calls.clone(), ..World::new(ChatKind::Direct, 2) };
    let mut direct = direct;
    direct.members[1] = w.members[2];
    let call = direct.service(now()).invite(direct.caller(0), DeviceId::new(), direct.chat, CallMedia::Voice).await;
    let call = call.unwrap();
    assert!(call.ringing().is_empty());
    assert_eq!(direct.sent("call_busy")[0].1["payload"]["user_id"], w.members[2].to_string());
    assert_eq!(direct.sent("call_ended")[0].1["payload"]["reason"], "busy");
    assert_eq!(direct.record().outcome, CallOutcome::Busy);
    assert!(!direct.calls.lock().unwrap().contains_key(&call.id), "a call that never rang is not kept");

    let refused = service.invite(w.caller(2), DeviceId::new(), w.chat, CallMedia::Voice).await;
    assert_eq!(refused.unwrap_err().code(), ErrorCode::AlreadyInCall, "the caller is in a call already");
}

#[tokio::test]
async fn a_decision_on_a_call_another_instance_changed_is_made_again() {
    let w = World::new(ChatKind::Direct, 2);
    let service = w.service(now());
    let call = service.invite(w.caller(0), DeviceId::new(), w.chat, CallMedia::Voice).await.unwrap();
    *w.conflicts.lock().unwrap() = 2;
    let ravi_phone = DeviceId::new();
    service.accept(w.caller(1), ravi_phone, call.id).await.unwrap();
    let stored = w.calls.lock().unwrap().get(&call.id).cloned().unwrap();
    assert!(
        matches!(stored.state_of(w.members[1]), Some(ParticipantState::Joined { device, .. }) if device == ravi_phone)
    );
    assert_eq!(stored.version, call.version + 1);
    assert_eq!(w.sent("call_accept").len(), 1, "sent once, by the attempt that was stored");
}

#[tokio::test]
async fn forged_and_foreign_call_ids_are_not_found_and_change_nothing() {
    let w = World::new(ChatKind::Direct, 2);
    let service = w.service(now());
    let call = service.invite(w.caller(0), DeviceId::new(), w.chat, CallMedia::Voice).await.unwrap();
    let before = w.calls.lock().unwrap().clone();
    let stranger = Caller { user_id: UserId::new(), session_id: crate::ids::SessionId::new() };
    for result in [
        service.accept(stranger, DeviceId::new(), call.id).await,
        service.hang_up(stranger, DeviceId::new(), call.id).await,
        service.accept(w.caller(1), DeviceId::new(), CallId::new()).await,
    ] {
        assert_eq!(result.unwrap_err().code(), ErrorCode::CallNotFound);
    }
    assert_eq!(*w.calls.lock().unwrap(), before);
}

#[tokio::test]
async fn the_ringing_runs_out_on_whichever_instance_looks_first() {
    let w = World::new(ChatKind::Direct, 2);
    let start = now();
    let call = w.service(start).invite(w.caller(0), DeviceId::new(), w.chat, CallMedia::Voice).await.unwrap();
    w.service(start + Duration::seconds(44)).expire_due().await.unwrap();
    assert!(w.calls.lock().unwrap().contains_key(&call.id), "still ringing at 44 s");
    w.service(start + Duration::seconds(45)).expire_due().await.unwrap();
    w.service(start + Duration::seconds(46)).expire_due().await.unwrap();
    assert_eq!(w.record().outcome, CallOutcome::Missed);
    assert!(w.calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_closed_socket_leaves_the_call_after_the_drop_timeout_unless_it_comes_back() {
    let w = World::new(ChatKind::Direct, 2);
    let start = now();
    let service = w.service(start);
    let (asha_phone, ravi_phone) = (DeviceId::new(), DeviceId::new());
    let call = service.invite(w.caller(0), asha_phone, w.chat, CallMedia::Voice).await.unwrap();
    service.accept(w.caller(1), ravi_phone, call.id).await.unwrap();
    service.device_closed(w.members[1], ravi_phone).await.unwrap();
    let back = DeviceId::new();
    w.service(start + Duration::seconds(20)).accept(w.caller(1), back, call.id).await.unwrap();
    w.service(start + Duration::seconds(31)).expire_due().await.unwrap();
    assert!(w.calls.lock().unwrap().contains_key(&call.id), "it came back in time");

    w.service(start + Duration::seconds(40)).device_closed(w.members[1], back).await.unwrap();
    w.service(start + Duration::seconds(70)).expire_due().await.unwrap();
    let ended = w.sent("call_ended");
    assert!(ended.iter().any(|(to, f, _)| to == &vec![w.members[1]] && f["payload"]["reason"] == "left"));
    let record = w.record();
    assert_eq!((record.outcome, record.duration_secs), (CallOutcome::Answered, Some(70)));
}

#[tokio::test]
async fn people_gone_with_a_dead_instance_leave_their_calls_after_the_drop_timeout() {
    let w = World::new(ChatKind::Direct, 2);
    let start = now();
    let service = w.service(start);
    let call = service.invite(w.caller(0), DeviceId::new(), w.chat, CallMedia::Voice).await.unwrap();
    service.accept(w.caller(1), DeviceId::new(), call.id).await.unwrap();
    service.people_gone(&[w.members[1], UserId::new()]).await;
    let stored = w.calls.lock().unwrap().get(&call.id).cloned().unwrap();
    assert!(matches!(stored.state_of(w.members[1]), Some(ParticipantState::Dropped { .. })));
    w.service(start + Duration::seconds(30)).expire_due().await.unwrap();
    assert_eq!(w.record().outcome, CallOutcome::Answered);
}
