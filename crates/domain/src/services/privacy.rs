//! Applying people's `last_seen` setting to what others are shown.

use crate::error::DomainResult;
use crate::ids::UserId;
use crate::ports::{ChatRepo, ContactRepo};
use crate::user::{LastSeenVisibility, User};
use std::collections::HashSet;

/// `users` as `viewer` may see them (None: a frame many people share). The
/// contacts lookup happens only when someone shown limits `last_seen` to contacts.
pub(super) async fn as_seen_by(
    contacts: &dyn ContactRepo,
    viewer: Option<UserId>,
    users: Vec<User>,
) -> DomainResult<Vec<User>> {
    let needs_lookup = viewer
        .is_some_and(|v| users.iter().any(|u| u.id != v && u.last_seen_visibility == LastSeenVisibility::Contacts));
    let saved_viewer: HashSet<UserId> = match viewer {
        Some(v) if needs_lookup => contacts.saved_by(v).await?.into_iter().collect(),
        _ => HashSet::new(),
    };
    Ok(users
        .into_iter()
        .map(|u| {
            let saved = saved_viewer.contains(&u.id);
            u.as_seen_by(viewer, saved)
        })
        .collect())
}

// Whose account a person may see. `user`'s account (which id and profile has
// their number) is shown to `viewer` when the two are active members of a chat
// together (the members list shows it anyway), or when `user` saved `viewer` as
// a contact (saving someone's number lets them see you). To anyone else a number
// looks the same whether or not anyone registered it. The two functions below
// are this one relation read from either side.

/// The people whose account `viewer` may see: those who share a chat with them,
/// and those who saved them as a contact.
pub(super) async fn accounts_shown_to(
    chats: &dyn ChatRepo,
    contacts: &dyn ContactRepo,
    viewer: UserId,
) -> DomainResult<HashSet<UserId>> {
    let (partners, saved_me) =
        futures_util::future::try_join(chats.partners(viewer), contacts.saved_by(viewer)).await?;
    Ok(partners.into_iter().chain(saved_me).filter(|other| *other != viewer).collect())
}

/// The people who may see `user`'s account: those who share a chat with them,
/// and those whom `user` saved as a contact.
pub(super) async fn viewers_of(
    chats: &dyn ChatRepo,
    contacts: &dyn ContactRepo,
    user: UserId,
) -> DomainResult<HashSet<UserId>> {
    let (partners, mine) = futures_util::future::try_join(chats.partners(user), contacts.contacts(user)).await?;
    Ok(partners.into_iter().chain(mine.into_iter().map(|entry| entry.contact)).filter(|other| *other != user).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::MockContactRepo;
    use crate::services::test_support::user;

    fn with(visibility: LastSeenVisibility, name: &str) -> User {
        let mut u = user(UserId::new(), name);
        u.last_seen_visibility = visibility;
        u
    }

    #[tokio::test]
    async fn each_person_shows_last_seen_as_they_chose() {
        let viewer = UserId::new();
        let open = with(LastSeenVisibility::Everyone, "Open");
        let saved_me = with(LastSeenVisibility::Contacts, "Saved me");
        let not_saved = with(LastSeenVisibility::Contacts, "Did not");
        let hidden = with(LastSeenVisibility::Nobody, "Hidden");
        let mut contacts = MockContactRepo::new();
        let saver = saved_me.id;
        contacts.expect_saved_by().withf(move |c| *c == viewer).times(1).returning(move |_| Ok(vec![saver]));
        let all = vec![open, saved_me, not_saved, hidden];
        let seen = as_seen_by(&contacts, Some(viewer), all).await.unwrap();
        let shown: Vec<bool> = seen.iter().map(|u| u.last_seen.is_some()).collect();
        assert_eq!(shown, [true, true, false, false]);
    }

    #[tokio::test]
    async fn shared_frames_show_only_what_everyone_may_see_and_people_see_their_own() {
        let contacts = MockContactRepo::new(); // no lookup expected
        let me = with(LastSeenVisibility::Nobody, "Me");
        let mine = as_seen_by(&contacts, Some(me.id), vec![me.clone()]).await.unwrap();
        assert!(mine[0].last_seen.is_some(), "one's own time is always shown");
        let shared = as_seen_by(&contacts, None, vec![me, with(LastSeenVisibility::Contacts, "C")]).await.unwrap();
        assert!(shared.iter().all(|u| u.last_seen.is_none()));
    }
}
