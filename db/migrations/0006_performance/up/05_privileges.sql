-- Every grant of this revision, in one place. Start from nothing.
revoke all on mentoring.notification_audience from public, anon, authenticated, service_role;
revoke execute on function
  mentoring.caller_administered_organizations(),
  mentoring.caller_organizations(),
  mentoring.caller_sees_mentor(uuid),
  mentoring.refusal(
    uuid, mentoring.mentor_status, mentoring.mentor_status, mentoring.actor_kind, uuid,
    mentoring.transitions, boolean, uuid, boolean, boolean, date),
  mentoring.is_certified(uuid, date),
  mentoring.status_facts(uuid),
  mentoring.caller_paused_mentors(),
  mentoring.text_refusal(text, text, boolean),
  mentoring.wake_relays(),
  mentoring.relay_awake_lock(),
  mentoring.relay_fence_lock(),
  mentoring.mentors_apply_transitions()
  from public, anon, authenticated, service_role;

-- What policies and the api functions call as the caller.
grant execute on function
  mentoring.caller_administered_organizations(),
  mentoring.caller_organizations(),
  mentoring.caller_sees_mentor(uuid),
  mentoring.refusal(
    uuid, mentoring.mentor_status, mentoring.mentor_status, mentoring.actor_kind, uuid,
    mentoring.transitions, boolean, uuid, boolean, boolean, date),
  mentoring.is_certified(uuid, date),
  mentoring.status_facts(uuid),
  mentoring.caller_paused_mentors(),
  mentoring.text_refusal(text, text, boolean)
  to authenticated, service_role;

-- Relays take the wake-up's advisory locks.
grant execute on function mentoring.relay_awake_lock(), mentoring.relay_fence_lock()
  to mentoring_relay, service_role;

notify pgrst, 'reload schema';
