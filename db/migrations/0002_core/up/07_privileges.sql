-- Every grant of this revision, in one place. Start from nothing.
revoke execute on all functions in schema mentoring, api
  from public, anon, authenticated, service_role;
revoke all on all tables in schema mentoring from public, anon, authenticated, service_role;
revoke all on all sequences in schema mentoring from public, anon, authenticated, service_role;

-- anon: nothing.

-- authenticated: reads under RLS, and the status column, which the trigger guards.
grant select on
  mentoring.organizations, mentoring.organization_staff, mentoring.mentors,
  mentoring.mentor_coordinators, mentoring.certifications, mentoring.pause_periods,
  mentoring.status_events, mentoring.transitions, mentoring.error_codes
  to authenticated;
grant update (status) on mentoring.mentors to authenticated;

-- service_role: the backend and the scheduler (bypasses RLS); also reads the outbox.
grant select on
  mentoring.organizations, mentoring.organization_staff, mentoring.mentors,
  mentoring.mentor_coordinators, mentoring.certifications, mentoring.pause_periods,
  mentoring.status_events, mentoring.transitions, mentoring.error_codes, mentoring.outbox
  to service_role;
grant update (status) on mentoring.mentors to service_role;

-- The RPC contract.
grant execute on function
  api.activate_pause(uuid, text, date, boolean, uuid),
  api.lift_pause(uuid, text, uuid),
  api.reactivate_mentor(uuid, text, uuid),
  api.auto_expire_for_certification(uuid),
  api.get_current_status(uuid),
  api.get_pause_history(uuid),
  api.get_paused_mentors(uuid),
  api.is_transition_allowed(text, text)
  to authenticated, service_role;

-- What the api functions and the policies call as the caller. The trigger functions,
-- pause_findings and notify_coordinators are for the table owner alone.
grant execute on function
  mentoring.raise_error(text, text, jsonb, text),
  mentoring.raise_refusal(jsonb),
  mentoring.clean_text(text, text, boolean),
  mentoring.organization_today(uuid),
  mentoring.certification_coverage(uuid, date),
  mentoring.request_role(),
  mentoring.caller_key(),
  mentoring.resolve_actor(mentoring.mentors),
  mentoring.transition_refusal(
    mentoring.mentors, mentoring.mentor_status, mentoring.actor_kind, uuid, boolean, date),
  mentoring.transition_request(uuid),
  mentoring.idempotent_replay(text, uuid, jsonb),
  mentoring.idempotent_record(uuid, jsonb),
  mentoring.idempotent_transition(
    text, uuid, jsonb, mentoring.mentor_status, mentoring.mentor_status[]),
  mentoring.transition_result(mentoring.mentors, mentoring.mentor_status, boolean),
  mentoring.request_transition(uuid, mentoring.mentor_status, mentoring.mentor_status[], jsonb),
  mentoring.administered_organizations(),
  mentoring.coordinated_mentors(),
  mentoring.visible_mentors(),
  mentoring.member_organizations(),
  mentoring.is_time_zone(text)
  to authenticated, service_role;

-- Housekeeping for the backend and the scheduler.
grant execute on function mentoring.purge_idempotency_keys(interval) to service_role;

notify pgrst, 'reload schema';
