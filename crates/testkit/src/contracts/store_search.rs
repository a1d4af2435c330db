//! Message search: what it finds and for whom, once the indexer has taken in the
//! messages (a send does not index its message; the server's indexer does, behind
//! it), and that edits and deletions reach the index the same way.

use super::store::{direct, now, user, Store};
use super::store_messages::text;
use chitchat_domain::message::MessageBody;
use chitchat_domain::ports::MessageSearch;
use chitchat_domain::search::SearchQuery;
use chitchat_domain::{ChatId, UserId};

/// Runs the indexer's step until nothing is left to index, as the server's indexer
/// does after each send.
async fn index<S: Store>(store: &S) {
    while store.index_pending(500).await.unwrap() > 0 {}
}

/// What `user` finds for `q` in all their chats, newest first.
async fn found_by<S: Store>(store: &S, user: UserId, q: &str) -> Vec<String> {
    let hits = MessageSearch::search(store, user, &SearchQuery::parse(q).unwrap(), None, 20, 0).await.unwrap();
    hits.into_iter().map(|m| m.content).collect()
}

pub async fn messages_search_finds_words_parts_and_cjk_in_the_searchers_chats_only<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let c = user(&store, 3, "Chen").await;
    let (ab, _) = direct(&store, &a, &b).await;
    let (bc, _) = direct(&store, &b, &c).await;
    for content in ["Dinner at eight?", "The station is unbelievably crowded", "今天晚上一起吃饭吗", "no match here"]
    {
        store.append(&text(ab.id, &a, content, None)).await.unwrap();
    }
    store.append(&text(bc.id, &b, "dinner with Chen, not Asha", None)).await.unwrap();
    index(&store).await;
    let found = |q: &str, chat: Option<ChatId>| {
        let query = SearchQuery::parse(q).unwrap();
        let store = &store;
        async move {
            let hits = MessageSearch::search(store, a.id, &query, chat, 20, 0).await.unwrap();
            hits.into_iter().map(|m| m.content).collect::<Vec<_>>()
        }
    };
    assert_eq!(found("dinner", None).await, vec!["Dinner at eight?"], "whole word, any case, own chats only");
    assert_eq!(found("believ", None).await, vec!["The station is unbelievably crowded"], "part of a word");
    assert_eq!(found("吃饭", None).await, vec!["今天晚上一起吃饭吗"], "text without spaces");
    assert!(found("dinner", Some(bc.id)).await.is_empty(), "a chat the searcher is not in");
    assert_eq!(found("dinner", Some(ab.id)).await.len(), 1);
    assert!(found("%", None).await.is_empty(), "wildcards are literal");
    store.append(&text(ab.id, &b, "dinner is ready", None)).await.unwrap();
    index(&store).await;
    assert_eq!(found("dinner", None).await, vec!["dinner is ready", "Dinner at eight?"], "newest first");
    let page = |offset: i64| {
        let store = &store;
        async move {
            let query = SearchQuery::parse("e").unwrap();
            let hits = MessageSearch::search(store, a.id, &query, None, 2, offset).await.unwrap();
            hits.into_iter().map(|m| m.content).collect::<Vec<_>>()
        }
    };
    assert_eq!(page(0).await, vec!["dinner is ready", "no match here"], "limit is honoured, newest first");
    assert_eq!(page(2).await, vec!["The station is unbelievably crowded", "Dinner at eight?"], "the next page");
    assert!(page(4).await.is_empty(), "past the last match");
}

pub async fn messages_search_finds_an_edit_by_its_new_text_and_no_deleted_message<S: Store>(store: S) {
    let a = user(&store, 1, "Asha").await;
    let b = user(&store, 2, "Bilal").await;
    let (chat, _) = direct(&store, &a, &b).await;
    let typo = store.append(&text(chat.id, &a, "meet me at the libary", None)).await.unwrap().message;
    let secret = store.append(&text(chat.id, &b, "the password is marmalade", None)).await.unwrap().message;
    index(&store).await;
    assert_eq!(found_by(&store, b.id, "libary").await, vec!["meet me at the libary"]);
    assert_eq!(found_by(&store, a.id, "marmalade").await, vec!["the password is marmalade"]);

    let fixed = MessageBody::parse("meet me at the library".into()).unwrap();
    store.edit(&typo, a.id, &fixed, now()).await.unwrap();
    store.delete_for_everyone(&secret, b.id, now()).await.unwrap().expect("deleted");
    index(&store).await;
    assert_eq!(found_by(&store, b.id, "library").await, vec!["meet me at the library"], "found by its new text");
    assert!(found_by(&store, b.id, "libary").await.is_empty(), "no longer by its old text");
    assert!(found_by(&store, a.id, "marmalade").await.is_empty(), "a deleted message is not found");
    assert!(found_by(&store, b.id, "password").await.is_empty(), "not by its sender either");
}
