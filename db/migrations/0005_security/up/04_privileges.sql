-- Every grant of this revision, in one place. Start from nothing.
revoke execute on function
  mentoring.event_json(mentoring.status_events),
  mentoring.idempotent_operation(text),
  mentoring.idempotent_arguments_limit(),
  mentoring.mentors_record_idempotent_result(),
  mentoring.idempotency_keys_hold_a_result(),
  mentoring.search_path_ends_with_pg_temp(text[]),
  mentoring.untrusted_check_message(text),
  mentoring.take_sweeper_lease(uuid, interval),
  mentoring.release_sweeper_lease(uuid)
  from public, anon, authenticated, service_role;
revoke all on mentoring.sweeper_leases from public, anon, authenticated, service_role;

-- What the api functions call as the caller.
grant execute on function
  mentoring.event_json(mentoring.status_events),
  mentoring.idempotent_operation(text),
  mentoring.idempotent_arguments_limit()
  to authenticated, service_role;

-- The one-sweeper lease: the roles that sweep everyone.
grant execute on function
  mentoring.take_sweeper_lease(uuid, interval),
  mentoring.release_sweeper_lease(uuid)
  to service_role;

notify pgrst, 'reload schema';
