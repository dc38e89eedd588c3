-- Every grant of this revision, in one place: none. The hash and the guards run inside the
-- state machine and the triggers, as the table owner. pyproj-rpc audit reads the tables
-- with PostgreSQL's built-ins alone, as the owner, a superuser or service_role (which
-- already read them without row-level security).
revoke execute on function
  mentoring.status_event_hash(bytea, uuid, integer, mentoring.mentor_status,
    mentoring.mentor_status, text, uuid, mentoring.actor_kind, text, boolean, jsonb, uuid,
    uuid, timestamptz, mentoring.pause_periods),
  mentoring.is_state_machine_writing(),
  mentoring.refuse_foreign_event(),
  mentoring.refuse_pause_removal(),
  mentoring.refuse_pause_rewrite()
  from public, anon, authenticated, service_role;

notify pgrst, 'reload schema';
