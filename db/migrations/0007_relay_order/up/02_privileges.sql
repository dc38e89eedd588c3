-- Every grant of this revision, in one place. claim_outbox keeps its grants (replaced in
-- place).
revoke execute on function
  mentoring.outbox_release_v2(uuid, bigint[]),
  mentoring.outbox_failed_v2(bigint[], uuid[], text[], timestamptz[])
  from public, anon, authenticated, service_role;
grant execute on function
  mentoring.outbox_release_v2(uuid, bigint[]),
  mentoring.outbox_failed_v2(bigint[], uuid[], text[], timestamptz[])
  to mentoring_relay, service_role;

notify pgrst, 'reload schema';
