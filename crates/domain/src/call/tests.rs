use super::*;
use crate::error::DomainResult;
use crate::event::DeviceTarget;
use chrono::TimeZone;

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + secs, 0).single().unwrap()
}

struct People {
    asha: UserId,
    ravi: UserId,
    chen: UserId,
    asha_phone: DeviceId,
    ravi_phone: DeviceId,
    ravi_laptop: DeviceId,
    chen_phone: DeviceId,
}

fn people() -> People {
    People {
        asha: UserId::new(),
        ravi: UserId::new(),
        chen: UserId::new(),
        asha_phone: DeviceId::new(),
        ravi_phone: DeviceId::new(),
        ravi_laptop: DeviceId::new(),
        chen_phone: DeviceId::new(),
    }
}

/// Asha calls Ravi (and Chen in a group) at 0 s.
fn call(p: &People, kind: ChatKind, busy: &[UserId]) -> Step {
    let mut invitees = vec![p.ravi];
    if kind == ChatKind::Group {
        invitees.push(p.chen);
    }
    let new = NewCall {
        id: CallId::new(),
        chat_id: ChatId::new(),
        chat_kind: kind,
        caller: p.asha,
        caller_device: p.asha_phone,
        media: CallMedia::Voice,
        invitees: invitees.into_iter().map(|u| (u, busy.contains(&u))).collect(),
    };
    Call::start(new, at(0), &CallPolicy::default())
}

fn has(step: &Step, to: &[UserId], devices: DeviceTarget, signal: Signal) -> bool {
    step.out.iter().any(|o| o.to == to && o.devices == devices && o.signal == signal)
}

fn only(device: DeviceId) -> DeviceTarget {
    DeviceTarget::Only(vec![device])
}

fn ended(reason: EndReason) -> Signal {
    Signal::Ended { reason }
}

#[test]
fn a_call_rings_every_device_of_the_callee_and_the_caller_is_in_it() {
    let p = people();
    let step = call(&p, ChatKind::Direct, &[]);
    assert_eq!(step.out, vec![Outgoing { to: vec![p.ravi], devices: DeviceTarget::All, signal: Signal::Invite }]);
    assert_eq!(step.end, None);
    assert_eq!(step.call.engaged(), vec![p.asha]);
    assert_eq!(step.call.ringing(), vec![p.ravi]);
    assert_eq!(step.call.next_deadline(), Some(at(45)), "the ringing runs out after 45 s");
}

#[test]
fn answering_on_one_device_stops_the_others_and_the_record_counts_from_the_answer() {
    let p = people();
    let call = call(&p, ChatKind::Direct, &[]).call;
    let step = call.accept(p.ravi, p.ravi_laptop, at(5)).unwrap();
    let joined = DeviceTarget::Only(vec![p.asha_phone, p.ravi_laptop]);
    assert!(has(&step, &[p.asha, p.ravi], joined, Signal::Accepted { user_id: p.ravi }));
    assert!(has(&step, &[p.ravi], DeviceTarget::AllBut(vec![p.ravi_laptop]), ended(EndReason::AnsweredElsewhere)));
    assert_eq!((step.call.answered_at, step.end), (Some(at(5)), None));
    assert_eq!(step.call.next_deadline(), None, "nothing waits while both are in");

    let step = step.call.hang_up(p.asha, p.asha_phone, at(130)).unwrap();
    assert!(has(&step, &[p.ravi], only(p.ravi_laptop), Signal::HungUp { user_id: p.asha }));
    assert!(has(&step, &[p.ravi], only(p.ravi_laptop), ended(EndReason::Hangup)));
    let end = step.end.unwrap();
    assert_eq!((end.outcome, end.duration_secs), (CallOutcome::Answered, Some(125)));
    assert!(step.call.engaged().is_empty());
}

#[test]
fn declining_a_direct_call_ends_it_as_declined() {
    let p = people();
    let step = call(&p, ChatKind::Direct, &[]).call.decline(p.ravi, p.ravi_phone, at(3)).unwrap();
    assert!(has(&step, &[p.asha], only(p.asha_phone), Signal::Declined { user_id: p.ravi }));
    assert!(has(&step, &[p.asha], only(p.asha_phone), ended(EndReason::Declined)));
    assert!(has(&step, &[p.ravi], DeviceTarget::AllBut(vec![p.ravi_phone]), ended(EndReason::Declined)));
    assert_eq!(step.end.map(|e| (e.outcome, e.duration_secs)), Some((CallOutcome::Declined, None)));
}

#[test]
fn an_unanswered_call_is_missed_when_the_ringing_runs_out() {
    let p = people();
    let call = call(&p, ChatKind::Direct, &[]).call;
    assert_eq!(call.expire(at(44)).call, call, "nothing is due before 45 s");
    let step = call.expire(at(45));
    assert!(has(&step, &[p.ravi], DeviceTarget::All, ended(EndReason::Missed)));
    assert!(has(&step, &[p.asha], only(p.asha_phone), ended(EndReason::Missed)));
    assert_eq!(step.end.map(|e| e.outcome), Some(CallOutcome::Missed));
}

#[test]
fn the_caller_giving_up_before_an_answer_makes_it_missed() {
    let p = people();
    let step = call(&p, ChatKind::Group, &[]).call.hang_up(p.asha, p.asha_phone, at(8)).unwrap();
    assert!(has(&step, &[p.ravi, p.chen], DeviceTarget::All, ended(EndReason::Missed)));
    assert_eq!(step.end.map(|e| e.outcome), Some(CallOutcome::Missed));
}

#[test]
fn calling_someone_in_another_call_answers_busy() {
    let p = people();
    let step = call(&p, ChatKind::Direct, &[p.ravi]);
    assert!(has(&step, &[p.asha], only(p.asha_phone), Signal::Busy { user_id: p.ravi }));
    assert!(has(&step, &[p.asha], only(p.asha_phone), ended(EndReason::Busy)));
    assert!(!step.out.iter().any(|o| o.signal == Signal::Invite), "nobody rings");
    assert_eq!(step.end.map(|e| e.outcome), Some(CallOutcome::Busy));

    let step = call(&p, ChatKind::Group, &[p.ravi]);
    assert!(has(&step, &[p.chen], DeviceTarget::All, Signal::Invite), "the others of a group still ring");
    assert_eq!(step.end, None);
}

#[test]
fn in_a_group_a_decline_or_a_timeout_only_stops_that_invitee_ringing() {
    let p = people();
    let call = call(&p, ChatKind::Group, &[]).call;
    let step = call.decline(p.chen, p.chen_phone, at(2)).unwrap();
    assert_eq!(step.end, None, "Ravi still rings");
    let step = step.call.accept(p.ravi, p.ravi_phone, at(4)).unwrap();
    assert_eq!(step.call.engaged(), vec![p.asha, p.ravi]);
    let step = step.call.hang_up(p.ravi, p.ravi_phone, at(64)).unwrap();
    let end = step.end.unwrap();
    assert_eq!((end.outcome, end.duration_secs), (CallOutcome::Answered, Some(60)));

    // Everyone declining a group call leaves it missed.
    let step = call.decline(p.chen, p.chen_phone, at(2)).unwrap().call.decline(p.ravi, p.ravi_phone, at(3)).unwrap();
    assert_eq!(step.end.map(|e| e.outcome), Some(CallOutcome::Missed));
}

#[test]
fn a_group_call_goes_on_while_two_are_in_it_or_someone_still_rings() {
    let p = people();
    let call = call(&p, ChatKind::Group, &[]).call;
    let step = call.accept(p.ravi, p.ravi_phone, at(1)).unwrap();
    let step = step.call.hang_up(p.asha, p.asha_phone, at(2)).unwrap();
    assert_eq!(step.end, None, "Chen still rings: Ravi is not alone for long");
    let step = step.call.accept(p.chen, p.chen_phone, at(3)).unwrap();
    assert!(has(
        &step,
        &[p.ravi, p.chen],
        DeviceTarget::Only(vec![p.ravi_phone, p.chen_phone]),
        Signal::Accepted { user_id: p.chen }
    ));
    let step = step.call.hang_up(p.chen, p.chen_phone, at(10)).unwrap();
    assert!(has(&step, &[p.ravi], only(p.ravi_phone), ended(EndReason::Hangup)));
    assert_eq!(step.end.map(|e| e.duration_secs), Some(Some(9)));
}

#[test]
fn a_dropped_device_may_come_back_on_a_new_socket_within_the_drop_timeout() {
    let p = people();
    let policy = CallPolicy::default();
    let call = call(&p, ChatKind::Direct, &[]).call.accept(p.ravi, p.ravi_phone, at(1)).unwrap().call;
    let dropped = call.device_closed(p.ravi, p.ravi_phone, at(10), &policy);
    assert!(dropped.out.is_empty());
    assert_eq!(dropped.call.next_deadline(), Some(at(40)));
    assert_eq!(dropped.call.engaged(), vec![p.asha, p.ravi], "still in the call, and busy for others");
    assert_eq!(call.device_closed(p.ravi, p.ravi_laptop, at(10), &policy).call, call, "another socket closing");

    let back = DeviceId::new();
    let step = dropped.call.accept(p.ravi, back, at(20)).unwrap();
    assert!(has(
        &step,
        &[p.asha, p.ravi],
        DeviceTarget::Only(vec![p.asha_phone, back]),
        Signal::Accepted { user_id: p.ravi }
    ));
    assert_eq!(step.call.answered_at, Some(at(1)), "the first answer counts");

    let gone = dropped.call.expire(at(40));
    assert!(has(&gone, &[p.ravi], DeviceTarget::All, ended(EndReason::Left)));
    assert!(has(&gone, &[p.asha], only(p.asha_phone), Signal::HungUp { user_id: p.ravi }));
    assert!(has(&gone, &[p.asha], only(p.asha_phone), ended(EndReason::Hangup)));
    assert_eq!(gone.end.map(|e| (e.outcome, e.duration_secs)), Some((CallOutcome::Answered, Some(39))));
}

#[test]
fn accepting_on_a_second_device_moves_the_call_there() {
    let p = people();
    let call = call(&p, ChatKind::Direct, &[]).call.accept(p.ravi, p.ravi_phone, at(1)).unwrap().call;
    let step = call.accept(p.ravi, p.ravi_laptop, at(5)).unwrap();
    assert!(has(&step, &[p.ravi], only(p.ravi_phone), ended(EndReason::AnsweredElsewhere)));
    assert_eq!(step.call.joined(), vec![(p.asha, p.asha_phone), (p.ravi, p.ravi_laptop)]);

    let again = call.accept(p.ravi, p.ravi_phone, at(6)).unwrap();
    assert_eq!(again.call, call, "accepting twice on one device changes nothing");
    assert_eq!(again.out.len(), 1, "the device is told who is in");
}

#[test]
fn only_participants_act_on_a_call_and_late_refusals_change_nothing() {
    let p = people();
    let outsider = UserId::new();
    let call = call(&p, ChatKind::Direct, &[]).call;
    for refused in [
        call.accept(outsider, DeviceId::new(), at(1)),
        call.decline(outsider, DeviceId::new(), at(1)),
        call.hang_up(outsider, DeviceId::new(), at(1)),
    ] {
        assert_eq!(refused.unwrap_err().code(), ErrorCode::CallNotFound);
    }
    let answered = call.accept(p.ravi, p.ravi_phone, at(1)).unwrap().call;
    let late = answered.decline(p.ravi, p.ravi_laptop, at(2)).unwrap();
    assert_eq!((late.call, late.out), (answered, Vec::new()));
}

#[test]
fn signals_pass_only_between_joined_devices() {
    let p = people();
    let ringing = call(&p, ChatKind::Group, &[]).call;
    let call = ringing.accept(p.ravi, p.ravi_phone, at(1)).unwrap().call;
    assert_eq!(call.relay_target(p.asha, p.asha_phone, p.ravi), Ok(p.ravi_phone));
    assert_eq!(call.relay_target(p.ravi, p.ravi_phone, p.asha), Ok(p.asha_phone));
    let code = |r: DomainResult<DeviceId>| r.unwrap_err().code();
    assert_eq!(code(call.relay_target(p.ravi, p.ravi_laptop, p.asha)), ErrorCode::NotInCall, "not the joined device");
    assert_eq!(code(call.relay_target(p.asha, p.asha_phone, p.chen)), ErrorCode::NotInCall, "Chen only rings");
    assert_eq!(code(call.relay_target(p.chen, p.chen_phone, p.asha)), ErrorCode::NotInCall);
    assert_eq!(code(call.relay_target(UserId::new(), p.asha_phone, p.asha)), ErrorCode::CallNotFound);
}

#[test]
fn a_record_says_what_happened_in_a_sentence() {
    let info = |media, outcome, duration_secs| CallInfo { call_id: CallId::new(), media, outcome, duration_secs };
    assert_eq!(info(CallMedia::Voice, CallOutcome::Answered, Some(125)).sentence(), "Voice call (2:05)");
    assert_eq!(info(CallMedia::Video, CallOutcome::Answered, Some(3725)).sentence(), "Video call (1:02:05)");
    assert_eq!(info(CallMedia::Video, CallOutcome::Missed, None).sentence(), "Missed video call");
    assert_eq!(info(CallMedia::Voice, CallOutcome::Declined, None).sentence(), "Declined voice call");
    assert_eq!(info(CallMedia::Voice, CallOutcome::Busy, None).sentence(), "Voice call: busy");
}

#[test]
fn frames_name_the_call_and_keep_the_envelope() {
    let p = people();
    let step = call(&p, ChatKind::Direct, &[]);
    let caller = CallerProfile { id: p.asha, display_name: "Asha".into(), avatar_url: None };
    let crate::event::Delivery::Ephemeral(invite) = step.out[0].to_delivery(&step.call, None, Some(&caller)) else {
        panic!("ephemeral")
    };
    let frame: serde_json::Value = serde_json::from_str(&invite.frame).unwrap();
    assert_eq!(frame["type"], "call_invite");
    assert_eq!(frame["room_id"], step.call.chat_id.to_string());
    assert_eq!(frame["payload"]["call_id"], step.call.id.to_string());
    assert_eq!(frame["payload"]["media"], "voice");
    assert_eq!(
        frame["payload"]["caller"],
        serde_json::json!({"id": p.asha, "display_name": "Asha", "avatar_url": null})
    );
    let ringing: serde_json::Value =
        serde_json::from_str(&ringing_frame(&step.call, Some(&serde_json::json!("c1")))).unwrap();
    assert_eq!((ringing["type"].as_str(), ringing["id"].as_str()), (Some("call_ringing"), Some("c1")));
    assert_eq!(ringing["payload"]["user_ids"], serde_json::json!([p.ravi]));

    let signal = RelaySignal::new(RelayKind::Ice, step.call.id, p.ravi, RelayBody::Candidate(serde_json::Value::Null));
    let crate::event::Delivery::Ephemeral(ice) = signal.unwrap().to_delivery(step.call.chat_id, p.asha, p.ravi_phone)
    else {
        panic!("ephemeral")
    };
    let frame: serde_json::Value = serde_json::from_str(&ice.frame).unwrap();
    assert_eq!(
        frame["payload"],
        serde_json::json!({"call_id": step.call.id, "from_user_id": p.asha, "candidate": null})
    );
    assert_eq!(ice.devices, only(p.ravi_phone));
}
