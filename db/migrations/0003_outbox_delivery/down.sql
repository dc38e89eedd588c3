-- The delivery state goes: upgrading again treats every row still in the outbox as
-- pending, so relays deliver it again (receivers deduplicate by webhook-id). Purge
-- delivered rows first (outbox_purge_delivered) to keep the replay small.
drop policy relays_read_the_outbox on mentoring.outbox;
revoke select on mentoring.outbox from mentoring_relay;
revoke usage on schema mentoring from mentoring_relay;

drop function
  mentoring.claim_outbox(integer, interval),
  mentoring.outbox_delivered(bigint[]),
  mentoring.outbox_failed(bigint, uuid, text, timestamptz),
  mentoring.outbox_release(uuid, bigint[]),
  mentoring.outbox_requeue(bigint[]),
  mentoring.outbox_purge_delivered(interval),
  mentoring.outbox_stats();

drop index mentoring.outbox_pending_idx, mentoring.outbox_delivered_at_idx;

alter table mentoring.outbox
  drop constraint a_lease_has_a_claim,
  drop constraint delivered_or_dead_not_both,
  drop column last_error,
  drop column dead_at,
  drop column delivered_at,
  drop column leased_until,
  drop column claim_id,
  drop column available_at,
  drop column attempts;
