//! The call registry contract: every implementation (in-process, Redis) must pass
//! these. Each case gets two handles on one registry, as two instances of a
//! deployment would have (the same handle twice for the in-process registry).

use chitchat_domain::call::{Call, CallMedia, CallPolicy, NewCall, ParticipantState};
use chitchat_domain::chat::ChatKind;
use chitchat_domain::ports::CallRegistry;
use chitchat_domain::{CallId, ChatId, DeviceId, UserId};
use chrono::{DateTime, Duration, TimeZone, Utc};
use std::sync::Arc;

/// Two handles on one registry.
pub type RegistryPair = (Arc<dyn CallRegistry>, Arc<dyn CallRegistry>);

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + secs, 0).single().unwrap()
}

/// A direct call from `caller` ringing `callee` since 0 s (ringing until 45 s).
fn ringing(caller: UserId, callee: UserId) -> Call {
    let new = NewCall {
        id: CallId::new(),
        chat_id: ChatId::new(),
        chat_kind: ChatKind::Direct,
        caller,
        caller_device: DeviceId::new(),
        media: CallMedia::Voice,
        invitees: vec![(callee, false)],
    };
    Call::start(new, at(0), &CallPolicy::default()).call
}

/// `call` with `user` joined, one version on.
fn answered(call: &Call, user: UserId) -> Call {
    let mut next = call.accept(user, DeviceId::new(), at(1)).unwrap().call;
    next.version = call.version + 1;
    next
}

pub async fn call_registry_a_call_stored_on_one_instance_is_seen_on_every_instance((a, b): RegistryPair) {
    let (asha, ravi) = (UserId::new(), UserId::new());
    let call = ringing(asha, ravi);
    assert!(a.insert(&call).await.unwrap());
    assert_eq!(b.get(call.id).await.unwrap(), Some(call.clone()));
    assert_eq!(b.active_call_of(asha).await.unwrap(), Some(call.id), "the caller is in it");
    assert_eq!(b.active_call_of(ravi).await.unwrap(), None, "ringing is not being in a call");
    assert_eq!(a.get(CallId::new()).await.unwrap(), None);
}

pub async fn call_registry_a_change_is_stored_only_on_the_version_it_was_decided_on((a, b): RegistryPair) {
    let (asha, ravi) = (UserId::new(), UserId::new());
    let call = ringing(asha, ravi);
    a.insert(&call).await.unwrap();
    let first = answered(&call, ravi);
    assert!(a.replace(call.version, &first).await.unwrap());
    let late = answered(&call, ravi);
    assert!(!b.replace(call.version, &late).await.unwrap(), "decided on a version that is gone");
    assert_eq!(b.get(call.id).await.unwrap(), Some(first.clone()));
    assert_eq!(b.active_call_of(ravi).await.unwrap(), Some(call.id), "joining engages");
    assert!(!a.replace(7, &ringing(asha, ravi)).await.unwrap(), "no such call: nothing stored");
}

pub async fn call_registry_of_changes_made_at_once_on_one_version_one_is_stored((a, b): RegistryPair) {
    let (asha, ravi) = (UserId::new(), UserId::new());
    let call = ringing(asha, ravi);
    a.insert(&call).await.unwrap();
    let tries = (0..8).map(|i| {
        let registry = if i % 2 == 0 { a.clone() } else { b.clone() };
        let next = answered(&call, ravi);
        tokio::spawn(async move { registry.replace(next.version - 1, &next).await.unwrap() })
    });
    let mut stored = 0;
    for attempt in tries.collect::<Vec<_>>() {
        stored += usize::from(attempt.await.unwrap());
    }
    assert_eq!(stored, 1);
}

pub async fn call_registry_nobody_starts_a_second_call_while_in_one((a, b): RegistryPair) {
    let (asha, ravi, chen) = (UserId::new(), UserId::new(), UserId::new());
    let call = ringing(asha, ravi);
    assert!(a.insert(&call).await.unwrap());
    assert!(!b.insert(&ringing(asha, chen)).await.unwrap(), "Asha is in a call");
    assert!(!b.insert(&call).await.unwrap(), "stored once");
    assert!(b.insert(&ringing(chen, asha)).await.unwrap(), "Asha may be rung meanwhile");
    assert!(a.remove(call.id, call.version).await.unwrap());
    assert!(b.insert(&ringing(asha, ravi)).await.unwrap(), "free again once it ended");
}

pub async fn call_registry_leaving_a_call_frees_the_person((a, b): RegistryPair) {
    let (asha, ravi) = (UserId::new(), UserId::new());
    let call = ringing(asha, ravi);
    a.insert(&call).await.unwrap();
    let joined = answered(&call, ravi);
    a.replace(call.version, &joined).await.unwrap();
    let mut left = joined.clone();
    left.participants[1].state = ParticipantState::Left;
    left.version += 1;
    assert!(b.replace(joined.version, &left).await.unwrap());
    assert_eq!(a.active_call_of(ravi).await.unwrap(), None);
    assert_eq!(a.active_call_of(asha).await.unwrap(), Some(call.id));
}

pub async fn call_registry_an_ended_call_is_removed_once((a, b): RegistryPair) {
    let (asha, ravi) = (UserId::new(), UserId::new());
    let call = answered(&ringing(asha, ravi), ravi);
    let mut first = call.clone();
    first.version = 0;
    a.insert(&first).await.unwrap();
    a.replace(0, &call).await.unwrap();
    assert!(!b.remove(call.id, 0).await.unwrap(), "an older version is not removed");
    let removes = [a.clone(), b.clone()].map(|registry| {
        let id = call.id;
        tokio::spawn(async move { registry.remove(id, 1).await.unwrap() })
    });
    let mut removed = 0;
    for remove in removes {
        removed += usize::from(remove.await.unwrap());
    }
    assert_eq!(removed, 1, "exactly one remover writes the record");
    assert_eq!(a.get(call.id).await.unwrap(), None);
    assert_eq!((b.active_call_of(asha).await.unwrap(), b.active_call_of(ravi).await.unwrap()), (None, None));
    assert!(b.due(at(3600)).await.unwrap().is_empty());
}

pub async fn call_registry_calls_are_due_once_their_deadline_passed((a, b): RegistryPair) {
    let (asha, ravi) = (UserId::new(), UserId::new());
    let call = ringing(asha, ravi);
    a.insert(&call).await.unwrap();
    assert!(b.due(at(44)).await.unwrap().is_empty());
    assert_eq!(b.due(at(45)).await.unwrap(), vec![call.clone()]);
    let joined = answered(&call, ravi);
    a.replace(call.version, &joined).await.unwrap();
    assert!(b.due(at(3600)).await.unwrap().is_empty(), "nothing waits once answered");
    let mut dropped = joined.clone();
    let device = DeviceId::new();
    dropped.participants[1].state = ParticipantState::Dropped { device, until: at(100) + Duration::seconds(30) };
    dropped.version += 1;
    a.replace(joined.version, &dropped).await.unwrap();
    assert_eq!(b.due(at(130)).await.unwrap(), vec![dropped]);
}
