//! Contract suites: what every implementation of a port must do. Each adapter crate
//! runs them against its own adapter with `store_contract_tests!`,
//! `event_bus_contract_tests!` or `event_relay_contract_tests!`, one test per case,
//! each on fresh state.

pub mod blob_store;
pub mod call_registry;
pub mod event_bus;
pub mod event_relay;
pub mod membership_cache;
pub mod presence;
pub mod request_counter;
pub mod store;
mod store_attachments;
mod store_chats;
mod store_contacts;
mod store_device_links;
mod store_emails;
mod store_group_commit;
mod store_groups;
mod store_message_actions;
mod store_messages;
mod store_moderation;
mod store_push;
mod store_receipts;
mod store_search;
mod store_users;

/// One `#[tokio::test]` per case of the suite module `$suite`, each calling the case
/// with what a fresh evaluation of `$make` yields (None = skipped).
#[doc(hidden)]
#[macro_export]
macro_rules! __contract_cases {
    ($suite:ident, $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some(subject) = $make.await else { return };
                $crate::contracts::$suite::$case(subject).await;
            }
        )*
    };
}

/// Expands to one `#[tokio::test]` per store contract case. `$make` is an
/// expression evaluated afresh in every test, yielding `Option<S>` (None = skipped).
#[macro_export]
macro_rules! store_contract_tests {
    ($make:expr) => {
        $crate::__contract_cases!(store, $make;
            users_insert_or_get_is_idempotent_by_phone,
            users_get_and_get_many,
            users_search_by_name_excludes_caller,
            users_search_treats_wildcards_literally,
            users_last_seen_is_recorded,
            users_last_seen_visibility_is_kept,
            otps_put_unless_recent_replaces_only_after_the_cutoff,
            otps_concurrent_puts_store_one_challenge,
            otps_reserve_attempt_counts_tries_up_to_the_limit,
            otps_concurrent_tries_never_pass_the_limit,
            otps_consume_is_single_use_needs_the_hash_and_honours_the_limit,
            sessions_create_get_and_revoke_once,
            sessions_list_active_omits_revoked_expired_and_others,
            device_links_are_found_by_id_and_code_and_a_code_is_held_once,
            device_links_confirm_once_opening_the_session_with_it,
            device_links_concurrent_confirmations_let_exactly_one_through,
            device_links_are_claimed_once_and_only_when_confirmed,
            device_links_expired_before_a_time_are_removed,
            chats_direct_is_idempotent_by_key,
            chats_concurrent_direct_creation_yields_one_chat,
            chats_members_and_membership,
            chats_list_for_user_only_their_chats_by_activity,
            chats_correspondents_are_those_who_wrote_in_a_chat_with_the_user,
            chats_partners_are_the_active_members_of_the_users_chats,
            chat_settings_are_per_person_and_new_messages_unarchive_unmuted_chats,
            messages_seq_is_consecutive_per_chat,
            messages_concurrent_appends_get_distinct_consecutive_seqs,
            messages_repeated_client_msg_id_returns_the_first,
            messages_history_is_newest_first_and_paged,
            messages_pages_by_cursor_are_stable,
            messages_search_finds_words_parts_and_cjk_in_the_searchers_chats_only,
            messages_search_finds_an_edit_by_its_new_text_and_no_deleted_message,
            messages_history_can_end_at_a_seq,
            messages_last_message_per_chat,
            messages_are_logged_as_events_replayable_in_order,
            messages_sent_event_seq_names_the_logged_send,
            receipts_positions_only_move_forward_and_log_each_move,
            receipts_sending_moves_the_senders_own_position,
            receipts_tell_when_each_member_first_had_and_read_a_message,
            receipts_count_writing_after_a_message_as_having_read_it,
            receipts_a_repeated_or_older_report_changes_nothing,
            receipts_arriving_together_each_log_their_move_in_order,
            contacts_are_saved_renamed_listed_and_removed,
            contacts_saved_by_lists_who_saved_a_user,
            contacts_pending_numbers_are_saved_renamed_listed_and_removed,
            contacts_pending_numbers_become_contacts_when_claimed,
            blocks_are_one_way_and_idempotent,
            blockers_among_names_only_those_who_block_that_person,
            users_profiles_change_and_are_found_by_phone,
            groups_create_stores_members_details_and_the_created_message,
            groups_change_appends_each_step_and_applies_its_effects,
            groups_change_on_a_stale_version_changes_nothing,
            groups_concurrent_changes_on_one_version_let_exactly_one_through,
            groups_rejoining_makes_a_former_member_active_again,
            groups_only_active_members_can_append,
            messages_replies_carry_a_preview_of_the_original,
            messages_forwarded_copies_are_marked,
            messages_edits_keep_earlier_versions_and_are_logged,
            messages_delete_for_everyone_leaves_a_placeholder_once,
            messages_replays_show_a_deleted_message_as_deleted,
            messages_hidden_only_for_the_one_who_hid_them,
            messages_reactions_are_one_per_user_replaced_and_counted,
            messages_updates_of_lists_each_logged_change_in_order,
            messages_only_active_members_change_messages,
            attachments_are_stored_and_found_by_id,
            attachments_travel_with_their_messages_in_order,
            attachments_are_readable_by_the_uploader_and_the_members_of_chats_where_sent,
            attachments_a_former_member_reads_only_what_was_sent_before_leaving,
            attachments_still_carried_are_not_removed,
            attachments_orphans_are_removed_once_old,
            attachments_an_append_naming_a_missing_attachment_stores_nothing,
            sends_at_once_to_one_chat_get_gap_free_numbers_and_are_all_stored,
            one_devices_sends_in_a_row_are_stored_in_order_and_each_answered,
            sends_at_once_to_many_chats_number_each_chat_on_its_own,
            one_client_msg_id_sent_many_times_at_once_is_stored_once,
            a_client_msg_id_is_a_duplicate_only_for_the_sender_who_used_it,
            refused_sends_in_a_batch_leave_no_gap_and_fail_no_one_else,
            a_send_brings_back_a_chat_archived_without_muting,
            push_subscriptions_belong_to_logged_in_devices,
            push_outbox_claims_each_push_once_until_its_lease_ends,
            push_claims_from_many_tasks_at_once_take_each_push_once,
            notification_previews_are_kept,
            emails_are_given_replaced_and_forgotten,
            emails_are_verified_once_by_the_pending_code_within_the_tries,
            emails_only_verified_ones_are_found_by_phone,
            moderation_disabling_is_kept_seen_with_sessions_and_undone,
            moderation_users_are_listed_by_name_or_phone,
            moderation_erasing_frees_the_phone_and_removes_contacts_both_ways,
            moderation_reports_keep_their_copy_and_close_once,
            moderation_audit_is_newest_first_and_paged,
            moderation_figures_count_users_messages_files_and_live_sessions,
            messages_a_moderator_deletes_for_everyone_without_being_a_member,
            health_ping_answers,
        );
    };
}

/// Expands to one `#[tokio::test]` per blob store contract case. `$make` yields `Option<B>`.
#[macro_export]
macro_rules! blob_store_contract_tests {
    ($make:expr) => {
        $crate::__contract_cases!(blob_store, $make;
            blobs_written_in_chunks_read_back_whole,
            blobs_read_the_range_asked_for,
            blobs_unknown_are_none,
            blobs_are_invisible_until_finished_and_aborted_ones_never_appear,
            blobs_deleted_are_gone_and_deleting_again_is_fine,
            blobs_overwritten_hold_the_new_bytes,
        );
    };
}

/// Expands to one `#[tokio::test]` per event bus contract case. `$make` yields `Option<B>`.
#[macro_export]
macro_rules! event_bus_contract_tests {
    ($make:expr) => {
        $crate::__contract_cases!(event_bus, $make;
            bus_delivers_to_every_device_of_every_recipient,
            bus_does_not_deliver_to_others,
            bus_keeps_publish_order,
            bus_stops_delivering_after_unsubscribe,
            bus_carries_session_revocations_to_the_users_devices,
        );
    };
}

/// Expands to one `#[tokio::test]` per event relay contract case. `$make` yields
/// `Option<(R, R)>`: two relays of one deployment, as two instances would hold them.
/// Every evaluation must give a deployment of its own (its own channel), apart from
/// any other; the isolation case evaluates it twice.
#[macro_export]
macro_rules! event_relay_contract_tests {
    ($make:expr) => {
        $crate::__contract_cases!(event_relay, $make;
            relay_delivers_intact_to_every_instance,
            relay_keeps_publish_order,
            relay_reports_connected_when_healthy,
        );

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn relay_keeps_deployments_apart() {
            let Some(ours) = $make.await else { return };
            let Some(theirs) = $make.await else { return };
            $crate::contracts::event_relay::relay_keeps_deployments_apart(ours, theirs).await;
        }
    };
}

/// Expands to one `#[tokio::test]` per call registry contract case. `$make`
/// yields `Option<RegistryPair>`: two handles on one registry.
#[macro_export]
macro_rules! call_registry_contract_tests {
    ($make:expr) => {
        $crate::__contract_cases!(call_registry, $make;
            call_registry_a_call_stored_on_one_instance_is_seen_on_every_instance,
            call_registry_a_change_is_stored_only_on_the_version_it_was_decided_on,
            call_registry_of_changes_made_at_once_on_one_version_one_is_stored,
            call_registry_nobody_starts_a_second_call_while_in_one,
            call_registry_leaving_a_call_frees_the_person,
            call_registry_an_ended_call_is_removed_once,
            call_registry_calls_are_due_once_their_deadline_passed,
        );
    };
}

/// Expands to one `#[tokio::test]` per membership cache contract case. `$make`
/// yields `Option<CachePair>`: two handles on one fresh cache.
#[macro_export]
macro_rules! membership_cache_contract_tests {
    ($make:expr) => {
        $crate::__contract_cases!(membership_cache, $make;
            membership_cache_misses_until_filled_then_hits_on_every_instance,
            membership_cache_an_invalidation_on_one_instance_empties_the_entry_for_all,
            membership_cache_ignores_a_fill_with_a_ticket_from_before_an_invalidation,
            membership_cache_keeps_chats_apart,
            membership_cache_holds_an_empty_member_list,
        );
    };
}

/// Expands to one `#[tokio::test]` per request counter contract case. `$make`
/// yields `Option<CounterPair>`: two handles on one fresh set of counters.
#[macro_export]
macro_rules! request_counter_contract_tests {
    ($make:expr) => {
        $crate::__contract_cases!(request_counter, $make;
            counter_allows_the_burst_at_once_then_asks_to_wait,
            counter_keeps_callers_apart,
            counter_is_shared_by_instances,
            counter_lets_a_caller_in_after_the_wait_it_was_told,
        );
    };
}

/// Expands to one `#[tokio::test]` per presence tracker contract case. `$make` yields `Option<P>`.
#[macro_export]
macro_rules! presence_contract_tests {
    ($make:expr) => {
        $crate::__contract_cases!(presence, $make;
            presence_first_device_brings_a_user_online_and_the_last_takes_them_off,
            presence_is_per_user,
            presence_ignores_a_disconnect_without_a_connect,
            presence_concurrent_devices_announce_once,
            presence_expiry_spares_the_living,
            presence_a_session_with_an_open_socket_is_connected,
            presence_a_session_stays_connected_until_its_last_socket_closes,
        );
    };
}

/// Expands to one `#[tokio::test]` per case about instances of a tracker shared by
/// several. `$make` yields `Option<presence::Instances<P>>`.
#[macro_export]
macro_rules! presence_instances_contract_tests {
    ($make:expr) => {
        $crate::__contract_cases!(presence, $make;
            presence_a_session_counts_while_its_instance_lives,
        );
    };
}
