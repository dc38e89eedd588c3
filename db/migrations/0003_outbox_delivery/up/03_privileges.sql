-- Every grant of this revision, in one place. Relays run as service_role (or as a
-- role that inherits it): they claim and report through the functions above.
revoke execute on function
  mentoring.claim_outbox(integer, interval),
  mentoring.outbox_delivered(bigint[]),
  mentoring.outbox_failed(bigint, uuid, text, timestamptz),
  mentoring.outbox_release(uuid, bigint[]),
  mentoring.outbox_requeue(bigint[]),
  mentoring.outbox_purge_delivered(interval),
  mentoring.outbox_stats()
  from public, anon, authenticated, service_role;

grant execute on function
  mentoring.claim_outbox(integer, interval),
  mentoring.outbox_delivered(bigint[]),
  mentoring.outbox_failed(bigint, uuid, text, timestamptz),
  mentoring.outbox_release(uuid, bigint[]),
  mentoring.outbox_requeue(bigint[]),
  mentoring.outbox_purge_delivered(interval),
  mentoring.outbox_stats()
  to service_role;
