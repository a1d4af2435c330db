//! Group rules: who may change a group and what each change does. Pure: the service
//! loads the group, asks these functions for a plan, words the plan's system
//! messages and stores it all in one transaction.

use super::{Chat, ChatKind, Member, Role};
use crate::error::DomainError;
use crate::ids::{ChatId, MessageId, UserId};
use crate::message::{ContentType, MessageBody, NewMessage, SystemAction, SystemInfo};
use crate::ErrorCode;
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};

/// Longest group name, in characters, after trimming.
pub const MAX_GROUP_NAME_CHARS: usize = 100;
/// Longest group description, in characters, after trimming.
pub const MAX_GROUP_DESCRIPTION_CHARS: usize = 500;
/// Most members a group may have unless `GROUP_MAX_MEMBERS` says otherwise.
pub const DEFAULT_GROUP_MAX_MEMBERS: usize = 1024;
/// Most names a system message spells out; the others are counted.
const MAX_NAMED: usize = 10;

/// The knobs of groups, from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupPolicy {
    /// Most active members of one group, its admins included.
    pub max_members: usize,
}

impl Default for GroupPolicy {
    fn default() -> Self {
        Self { max_members: DEFAULT_GROUP_MAX_MEMBERS }
    }
}

impl GroupPolicy {
    /// Refuses a group of `members` active members when that is over the limit.
    pub fn check_size(&self, members: usize) -> Result<(), DomainError> {
        if members > self.max_members {
            return Err(DomainError::invalid(
                ErrorCode::TooManyMembers,
                format!("a group has at most {} members", self.max_members),
            ));
        }
        Ok(())
    }
}

/// A group's name: trimmed, 1 to 100 characters that show something, no control
/// characters and no invisible or direction-changing ones (see `crate::text`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupName(String);

impl GroupName {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let name = raw.trim();
        let chars = name.chars().count();
        if chars == 0 || chars > MAX_GROUP_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                ErrorCode::InvalidGroupName,
                format!("a group name is 1 to {MAX_GROUP_NAME_CHARS} characters without control characters"),
            ));
        }
        if crate::text::renders_empty(name) || crate::text::has_stray_format_char(name) {
            return Err(DomainError::invalid(
                ErrorCode::InvalidGroupName,
                "a group name must show something, without invisible or direction-changing characters",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A group's description: trimmed, at most 500 characters; line breaks and tabs are
/// the only control characters allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDescription(String);

impl GroupDescription {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let text = raw.trim();
        let allowed = |c: char| !c.is_control() || matches!(c, '\n' | '\r' | '\t');
        if text.chars().count() > MAX_GROUP_DESCRIPTION_CHARS || !text.chars().all(allowed) {
            return Err(DomainError::invalid(
                ErrorCode::InvalidDescription,
                format!("a group description is at most {MAX_GROUP_DESCRIPTION_CHARS} characters"),
            ));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// One thing a step of a group change does to the stored group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupEffect {
    /// Sets the details given; None leaves one as it is.
    Details {
        name: Option<String>,
        description: Option<String>,
    },
    /// Adds the member, or makes a former member active again with this role and
    /// join time.
    Join(Member),
    /// Makes the member a former member as of the step's system message.
    Leave(UserId),
    SetRole {
        user_id: UserId,
        role: Role,
    },
}

/// One step of a change as the rules decided it: its effects and what its system
/// message records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedStep {
    pub effects: Vec<GroupEffect>,
    pub system: SystemInfo,
}

impl PlannedStep {
    fn new(effects: Vec<GroupEffect>, action: SystemAction, actor: UserId, users: Vec<UserId>) -> Self {
        Self { effects, system: SystemInfo { action, actor_id: actor, user_ids: users, role: None, call: None } }
    }

    /// Who gets the step's system message: the members after the whole change, and
    /// whoever this step removes, so that they learn of it (and of nothing after).
    pub fn recipients(&self, members_after: &[UserId]) -> Vec<UserId> {
        let departing = self.effects.iter().filter_map(|effect| match effect {
            GroupEffect::Leave(user) if !members_after.contains(user) => Some(*user),
            _ => None,
        });
        members_after.iter().copied().chain(departing).collect()
    }

    /// Who the step makes a member (new or back), apart from the one making the change.
    pub fn joining(&self) -> impl Iterator<Item = UserId> + '_ {
        self.effects.iter().filter_map(|effect| match effect {
            GroupEffect::Join(member) if member.user_id != self.system.actor_id => Some(member.user_id),
            _ => None,
        })
    }

    /// The step ready to store, its system message worded as `content`.
    pub fn into_step(self, chat_id: ChatId, content: String, now: DateTime<Utc>) -> Result<GroupStep, DomainError> {
        let message = NewMessage {
            id: MessageId::new(),
            chat_id,
            sender_id: self.system.actor_id,
            content: MessageBody::parse(content)?,
            content_type: ContentType::System,
            client_msg_id: None,
            created_at: now,
            system: Some(self.system),
            reply_to_id: None,
            forwarded: false,
            attachments: Vec::new(),
        };
        Ok(GroupStep { effects: self.effects, message })
    }
}

/// A step ready to store. Its system message is appended like any message (the
/// chat's next `seq` and `event_seq`); then its effects are applied, a `Leave`
/// recording that message's position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupStep {
    pub effects: Vec<GroupEffect>,
    pub message: NewMessage,
}

/// A change to an existing group, stored in one transaction or not at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupChange {
    pub chat_id: ChatId,
    /// The `group_version` the change was decided on: if the group changed since,
    /// the store refuses it and the rules are applied again to the new state.
    pub expected_version: i64,
    pub steps: Vec<GroupStep>,
}

fn not_a_group() -> DomainError {
    DomainError::invalid(ErrorCode::NotAGroup, "only group chats have names, admins and member lists to change")
}

fn not_admin() -> DomainError {
    DomainError::forbidden(ErrorCode::NotAdmin, "only group admins may do this")
}

fn member_not_found() -> DomainError {
    DomainError::not_found(ErrorCode::MemberNotFound, "that user is not a member of this group")
}

fn distinct(users: &[UserId]) -> Vec<UserId> {
    let mut seen = HashSet::new();
    users.iter().copied().filter(|user| seen.insert(*user)).collect()
}

/// A new group of `creator` (its admin) and `others` (members; duplicates and the
/// creator are ignored), and the step that adds them all and records `group_created`
/// with the others in `user_ids`.
pub fn new_group(
    creator: UserId,
    name: GroupName,
    description: GroupDescription,
    others: &[UserId],
    policy: GroupPolicy,
    now: DateTime<Utc>,
) -> Result<(Chat, PlannedStep), DomainError> {
    let others: Vec<UserId> = distinct(others).into_iter().filter(|user| *user != creator).collect();
    policy.check_size(others.len() + 1)?;
    let (name, description) = (name.into_inner(), description.into_inner());
    let chat = Chat {
        id: ChatId::new(),
        kind: ChatKind::Group,
        name: Some(name.clone()),
        description: Some(description.clone()),
        created_by: creator,
        created_at: now,
        last_event_seq: 0,
        group_version: 0,
    };
    let join =
        |user_id, role| GroupEffect::Join(Member { chat_id: chat.id, user_id, role, joined_at: now, left_at: None });
    let mut effects = vec![GroupEffect::Details { name: Some(name), description: Some(description) }];
    effects.push(join(creator, Role::Admin));
    effects.extend(others.iter().map(|user| join(*user, Role::Member)));
    Ok((chat, PlannedStep::new(effects, SystemAction::GroupCreated, creator, others)))
}

/// A group as the rules see it: the chat and its active members, longest-standing first.
#[derive(Debug, Clone)]
pub struct Group {
    chat: Chat,
    members: Vec<Member>,
}

impl Group {
    /// `members` as `ChatRepo::members` gives them: active, longest-standing first.
    pub fn new(chat: Chat, members: Vec<Member>) -> Result<Self, DomainError> {
        if chat.kind != ChatKind::Group {
            return Err(not_a_group());
        }
        Ok(Self { chat, members: members.into_iter().filter(Member::is_active).collect() })
    }

    pub fn chat(&self) -> &Chat {
        &self.chat
    }

    fn member(&self, user: UserId) -> Option<&Member> {
        self.members.iter().find(|m| m.user_id == user)
    }

    /// The actor as an admin: other members get `not_admin`, outsiders `chat_not_found`.
    fn admin(&self, actor: UserId) -> Result<&Member, DomainError> {
        match self.member(actor) {
            None => Err(DomainError::chat_not_found()),
            Some(member) if member.role != Role::Admin => Err(not_admin()),
            Some(member) => Ok(member),
        }
    }

    /// Renames or re-describes the group (admins). Nothing to do when nothing changes.
    pub fn update_details(
        &self,
        actor: UserId,
        name: Option<GroupName>,
        description: Option<GroupDescription>,
    ) -> Result<Vec<PlannedStep>, DomainError> {
        self.admin(actor)?;
        let name = name.map(GroupName::into_inner).filter(|n| Some(n) != self.chat.name.as_ref());
        let description = description
            .map(GroupDescription::into_inner)
            .filter(|d| d.as_str() != self.chat.description.as_deref().unwrap_or_default());
        if name.is_none() && description.is_none() {
            return Ok(Vec::new());
        }
        let effects = vec![GroupEffect::Details { name, description }];
        Ok(vec![PlannedStep::new(effects, SystemAction::GroupUpdated, actor, Vec::new())])
    }

    /// Adds people as members (admins). Those already members are skipped; former
    /// members come back. Refused when the group would grow past the limit.
    pub fn add_members(
        &self,
        actor: UserId,
        users: &[UserId],
        policy: GroupPolicy,
        now: DateTime<Utc>,
    ) -> Result<Vec<PlannedStep>, DomainError> {
        self.admin(actor)?;
        let new: Vec<UserId> = distinct(users).into_iter().filter(|user| self.member(*user).is_none()).collect();
        if new.is_empty() {
            return Ok(Vec::new());
        }
        policy.check_size(self.members.len() + new.len())?;
        let effects = new
            .iter()
            .map(|user| {
                GroupEffect::Join(Member {
                    chat_id: self.chat.id,
                    user_id: *user,
                    role: Role::Member,
                    joined_at: now,
                    left_at: None,
                })
            })
            .collect();
        Ok(vec![PlannedStep::new(effects, SystemAction::MemberAdded, actor, new)])
    }

    /// Removes `target`: admins remove others, and anyone removes themself (leaves).
    /// When no admin would remain, the longest-standing remaining member becomes one,
    /// in a second step.
    pub fn remove_member(&self, actor: UserId, target: UserId) -> Result<Vec<PlannedStep>, DomainError> {
        let action = if actor == target {
            self.member(actor).ok_or_else(DomainError::chat_not_found)?;
            SystemAction::MemberLeft
        } else {
            self.admin(actor)?;
            SystemAction::MemberRemoved
        };
        self.member(target).ok_or_else(member_not_found)?;
        let mut steps = vec![PlannedStep::new(vec![GroupEffect::Leave(target)], action, actor, vec![target])];
        let remaining = self.members.iter().filter(|m| m.user_id != target);
        if !remaining.clone().any(Member::is_admin) {
            if let Some(heir) = remaining.min_by_key(|m| m.joined_at) {
                steps.push(promotion(actor, heir.user_id, Role::Admin));
            }
        }
        Ok(steps)
    }

    /// Makes `target` an admin or a plain member (admins). The only admin cannot be
    /// demoted: they make someone else admin first, or leave.
    pub fn set_role(&self, actor: UserId, target: UserId, role: Role) -> Result<Vec<PlannedStep>, DomainError> {
        self.admin(actor)?;
        let member = self.member(target).ok_or_else(member_not_found)?;
        if member.role == role {
            return Ok(Vec::new());
        }
        if role == Role::Member && self.members.iter().filter(|m| m.is_admin()).count() == 1 {
            return Err(DomainError::conflict(
                ErrorCode::LastAdmin,
                "the group's only admin cannot be demoted; make another member admin first",
            ));
        }
        Ok(vec![promotion(actor, target, role)])
    }

    /// The active members once `steps` are applied: those who stay, in order, then
    /// those who join.
    pub fn members_after(&self, steps: &[PlannedStep]) -> Vec<UserId> {
        let mut ids: Vec<UserId> = self.members.iter().map(|m| m.user_id).collect();
        let mut present: HashSet<UserId> = ids.iter().copied().collect();
        for effect in steps.iter().flat_map(|step| &step.effects) {
            match effect {
                GroupEffect::Join(member) if present.insert(member.user_id) => ids.push(member.user_id),
                GroupEffect::Leave(user) if present.remove(user) => ids.retain(|id| id != user),
                _ => {}
            }
        }
        ids
    }
}

fn promotion(actor: UserId, target: UserId, role: Role) -> PlannedStep {
    let mut step = PlannedStep::new(
        vec![GroupEffect::SetRole { user_id: target, role }],
        SystemAction::RoleChanged,
        actor,
        vec![target],
    );
    step.system.role = Some(role);
    step
}

/// The sentence a step's system message shows. `names` gives people's names;
/// anyone missing reads "Someone".
pub fn describe(step: &PlannedStep, names: &HashMap<UserId, String>) -> String {
    let name = |id: &UserId| names.get(id).map_or("Someone", String::as_str);
    let actor = name(&step.system.actor_id);
    let users = name_list(step.system.user_ids.iter().map(name).collect());
    let (new_name, new_description) = step
        .effects
        .iter()
        .find_map(|effect| match effect {
            GroupEffect::Details { name, description } => Some((name.as_deref(), description.is_some())),
            _ => None,
        })
        .unwrap_or((None, false));
    match step.system.action {
        SystemAction::GroupCreated => match new_name {
            Some(group) => format!("{actor} created the group \"{group}\""),
            None => format!("{actor} created the group"),
        },
        SystemAction::MemberAdded => format!("{actor} added {users}"),
        SystemAction::MemberRemoved => format!("{actor} removed {users}"),
        SystemAction::MemberLeft => format!("{actor} left"),
        SystemAction::RoleChanged => match step.system.role {
            Some(Role::Member) => format!("{users} is no longer an admin"),
            _ => format!("{users} is now an admin"),
        },
        SystemAction::GroupUpdated => match (new_name, new_description) {
            (Some(group), true) => format!("{actor} changed the group name to \"{group}\" and the description"),
            (Some(group), false) => format!("{actor} changed the group name to \"{group}\""),
            (None, _) => format!("{actor} changed the group description"),
        },
        // Groups plan no calls; a call's record says its own sentence.
        SystemAction::Call => step.system.call.as_ref().map(crate::call::CallInfo::sentence).unwrap_or_default(),
    }
}

/// "A", "A and B", "A, B and C", or the first ten and "N others".
fn name_list(names: Vec<&str>) -> String {
    match names.as_slice() {
        [] => "nobody".to_owned(),
        [one] => (*one).to_owned(),
        _ if names.len() > MAX_NAMED => {
            format!("{} and {} others", names[..MAX_NAMED].join(", "), names.len() - MAX_NAMED)
        }
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The people a step's effects add, with their roles, in order (for tests).
#[cfg(test)]
pub(crate) fn joins(effects: &[GroupEffect]) -> Vec<(UserId, Role)> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            GroupEffect::Join(member) => Some((member.user_id, member.role)),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn member(chat: &Chat, user_id: UserId, role: Role, minutes_ago: i64) -> Member {
        Member {
            chat_id: chat.id,
            user_id,
            role,
            joined_at: Utc::now() - Duration::minutes(minutes_ago),
            left_at: None,
        }
    }

    /// A group of an admin and two members, the first member the longer-standing.
    fn group() -> (Group, UserId, UserId, UserId) {
        let (admin, older, newer) = (UserId::new(), UserId::new(), UserId::new());
        let name = GroupName::parse("Friends").unwrap();
        let (chat, _) =
            new_group(admin, name, GroupDescription::parse("").unwrap(), &[], GroupPolicy::default(), Utc::now())
                .unwrap();
        let members = vec![
            member(&chat, admin, Role::Admin, 30),
            member(&chat, older, Role::Member, 20),
            member(&chat, newer, Role::Member, 10),
        ];
        (Group::new(chat, members).unwrap(), admin, older, newer)
    }

    fn policy(max_members: usize) -> GroupPolicy {
        GroupPolicy { max_members }
    }

    #[test]
    fn names_are_trimmed_and_1_to_100_characters() {
        assert_eq!(GroupName::parse("  Trip  ").unwrap().into_inner(), "Trip");
        assert!(GroupName::parse(&"é".repeat(100)).is_ok());
        for bad in [
            "",
            "   ",
            &"a".repeat(101),
            "a\u{7}b",
            "Trip\u{202E}pirT",
            "\u{200B}",
            "Tr\u{200B}ip",
            "\u{FEFF}Trip",
            "\u{3164}",
        ] {
            assert_eq!(GroupName::parse(bad).unwrap_err().code(), "invalid_group_name", "{bad:?}");
        }
        assert!(GroupDescription::parse("line one\nline two").is_ok());
        assert!(GroupDescription::parse(&"d".repeat(500)).is_ok());
        assert_eq!(GroupDescription::parse(&"d".repeat(501)).unwrap_err().code(), "invalid_description");
    }

    #[test]
    fn the_creator_is_the_admin_and_duplicates_are_ignored() {
        let (me, a, b) = (UserId::new(), UserId::new(), UserId::new());
        let name = GroupName::parse("Trip").unwrap();
        let description = GroupDescription::parse("").unwrap();
        let (chat, step) = new_group(me, name, description, &[a, b, a, me], policy(3), Utc::now()).unwrap();
        assert_eq!((chat.kind, chat.name.as_deref(), chat.created_by), (ChatKind::Group, Some("Trip"), me));
        assert_eq!(joins(&step.effects), vec![(me, Role::Admin), (a, Role::Member), (b, Role::Member)]);
        assert_eq!(step.system.action, SystemAction::GroupCreated);
        assert_eq!(step.system.user_ids, vec![a, b]);
    }

    #[test]
    fn a_new_group_over_the_limit_is_refused() {
        let others: Vec<UserId> = (0..3).map(|_| UserId::new()).collect();
        let name = GroupName::parse("Big").unwrap();
        let err = new_group(UserId::new(), name, GroupDescription::parse("").unwrap(), &others, policy(3), Utc::now())
            .unwrap_err();
        assert_eq!(err.code(), "too_many_members");
    }

    #[test]
    fn direct_chats_are_not_groups() {
        let (chat, members) = super::super::new_direct(UserId::new(), UserId::new(), Utc::now()).unwrap();
        assert_eq!(Group::new(chat, members).unwrap_err().code(), "not_a_group");
    }

    #[test]
    fn members_cannot_administer() {
        let (group, _, older, newer) = group();
        let name = Some(GroupName::parse("Mine").unwrap());
        let refusals = [
            group.update_details(older, name, None).unwrap_err(),
            group.add_members(older, &[UserId::new()], policy(10), Utc::now()).unwrap_err(),
            group.remove_member(older, newer).unwrap_err(),
            group.set_role(older, older, Role::Admin).unwrap_err(),
        ];
        for err in refusals {
            assert_eq!(err.code(), "not_admin");
        }
        let outsider = UserId::new();
        assert_eq!(group.remove_member(outsider, outsider).unwrap_err().code(), "chat_not_found");
    }

    #[test]
    fn adding_skips_members_and_respects_the_limit() {
        let (group, admin, older, _) = group();
        let (x, y) = (UserId::new(), UserId::new());
        let steps = group.add_members(admin, &[older, x, y, x], policy(5), Utc::now()).unwrap();
        assert_eq!(steps[0].system.user_ids, vec![x, y]);
        assert_eq!(group.members_after(&steps).len(), 5);
        assert!(group.add_members(admin, &[older, admin], policy(5), Utc::now()).unwrap().is_empty());
        assert_eq!(group.add_members(admin, &[x, y], policy(4), Utc::now()).unwrap_err().code(), "too_many_members");
    }

    #[test]
    fn the_last_admin_leaving_promotes_the_longest_standing_member() {
        let (group, admin, older, newer) = group();
        let steps = group.remove_member(admin, admin).unwrap();
        assert_eq!(steps.len(), 2);
        assert_eq!(
            (steps[0].system.action, steps[0].effects[0].clone()),
            (SystemAction::MemberLeft, GroupEffect::Leave(admin))
        );
        assert_eq!(steps[1].system.action, SystemAction::RoleChanged);
        assert_eq!(steps[1].effects, vec![GroupEffect::SetRole { user_id: older, role: Role::Admin }]);
        let after = group.members_after(&steps);
        assert_eq!(after, vec![older, newer]);
        assert_eq!(steps[0].recipients(&after), vec![older, newer, admin], "the leaver learns of it");
        assert_eq!(steps[1].recipients(&after), vec![older, newer], "and of nothing after");
    }

    #[test]
    fn a_member_leaving_or_an_admin_removing_someone_promotes_nobody() {
        let (group, admin, older, newer) = group();
        let left = group.remove_member(newer, newer).unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].system.user_ids, vec![newer]);
        let removed = group.remove_member(admin, older).unwrap();
        assert_eq!((removed.len(), removed[0].system.action), (1, SystemAction::MemberRemoved));
        assert_eq!(group.remove_member(admin, UserId::new()).unwrap_err().code(), "member_not_found");
    }

    #[test]
    fn the_last_member_leaving_leaves_an_empty_group() {
        let admin = UserId::new();
        let name = GroupName::parse("Solo").unwrap();
        let (chat, _) =
            new_group(admin, name, GroupDescription::parse("").unwrap(), &[], policy(5), Utc::now()).unwrap();
        let group = Group::new(chat.clone(), vec![member(&chat, admin, Role::Admin, 1)]).unwrap();
        let steps = group.remove_member(admin, admin).unwrap();
        assert_eq!(steps.len(), 1);
        assert!(group.members_after(&steps).is_empty());
    }

    #[test]
    fn demoting_the_last_admin_is_refused_but_another_admin_may_be_demoted() {
        let (group, admin, older, _) = group();
        assert_eq!(group.set_role(admin, admin, Role::Member).unwrap_err().code(), "last_admin");
        let promote = group.set_role(admin, older, Role::Admin).unwrap();
        assert_eq!(promote[0].system.role, Some(Role::Admin));
        assert!(group.set_role(admin, admin, Role::Admin).unwrap().is_empty(), "no change, no message");
    }

    #[test]
    fn details_change_only_when_different() {
        let (group, admin, _, _) = group();
        let same = group.update_details(admin, Some(GroupName::parse("Friends").unwrap()), None).unwrap();
        assert!(same.is_empty());
        let steps = group.update_details(admin, None, Some(GroupDescription::parse("Weekend plans").unwrap())).unwrap();
        assert_eq!(
            steps[0].effects,
            vec![GroupEffect::Details { name: None, description: Some("Weekend plans".into()) }]
        );
    }

    #[test]
    fn system_messages_read_as_sentences() {
        let (asha, ravi, chen) = (UserId::new(), UserId::new(), UserId::new());
        let names: HashMap<UserId, String> =
            [(asha, "Asha"), (ravi, "Ravi"), (chen, "Chen")].into_iter().map(|(id, n)| (id, n.to_owned())).collect();
        let step = |action, users: Vec<UserId>| PlannedStep::new(Vec::new(), action, asha, users);
        assert_eq!(describe(&step(SystemAction::MemberAdded, vec![ravi]), &names), "Asha added Ravi");
        assert_eq!(describe(&step(SystemAction::MemberAdded, vec![ravi, chen]), &names), "Asha added Ravi and Chen");
        assert_eq!(describe(&step(SystemAction::MemberRemoved, vec![chen]), &names), "Asha removed Chen");
        assert_eq!(describe(&step(SystemAction::MemberLeft, vec![asha]), &names), "Asha left");
        assert_eq!(describe(&promotion(asha, ravi, Role::Admin), &names), "Ravi is now an admin");
        let many: Vec<UserId> = (0..12).map(|_| UserId::new()).collect();
        let text = describe(&step(SystemAction::MemberAdded, many), &names);
        assert!(text.ends_with("and 2 others"), "{text}");
        let renamed = PlannedStep::new(
            vec![GroupEffect::Details { name: Some("Trip".into()), description: None }],
            SystemAction::GroupUpdated,
            asha,
            Vec::new(),
        );
        assert_eq!(describe(&renamed, &names), "Asha changed the group name to \"Trip\"");
    }
}
