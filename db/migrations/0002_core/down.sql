drop function
  api.activate_pause(uuid, text, date, boolean, uuid),
  api.lift_pause(uuid, text, uuid),
  api.reactivate_mentor(uuid, text, uuid),
  api.auto_expire_for_certification(uuid),
  api.get_current_status(uuid),
  api.get_pause_history(uuid),
  api.get_paused_mentors(uuid),
  api.is_transition_allowed(text, text);

drop function
  mentoring.purge_idempotency_keys(interval),
  mentoring.certifications_lock_mentor(),
  mentoring.is_trusted_check(regproc),
  mentoring.administered_organizations(),
  mentoring.coordinated_mentors(),
  mentoring.visible_mentors(),
  mentoring.member_organizations(),
  mentoring.idempotent_transition(
    text, uuid, jsonb, mentoring.mentor_status, mentoring.mentor_status[]),
  mentoring.request_transition(uuid, mentoring.mentor_status, mentoring.mentor_status[], jsonb),
  mentoring.transition_result(mentoring.mentors, mentoring.mentor_status, boolean),
  mentoring.idempotent_record(uuid, jsonb),
  mentoring.idempotent_replay(text, uuid, jsonb),
  mentoring.refuse_audit_change(),
  mentoring.mentors_before_update(),
  mentoring.mentors_new_active_is_certified(),
  mentoring.mentors_before_insert(),
  mentoring.notify_coordinators(mentoring.status_events, mentoring.mentors),
  mentoring.notification_recipients(mentoring.mentors, uuid),
  mentoring.pause_findings(uuid),
  mentoring.pause_preconditions_validate(),
  mentoring.transition_request(uuid),
  mentoring.transition_refusal(
    mentoring.mentors, mentoring.mentor_status, mentoring.actor_kind, uuid, boolean, date),
  mentoring.resolve_actor(mentoring.mentors),
  mentoring.caller_key(),
  mentoring.request_role(),
  mentoring.certification_coverage(uuid, date),
  mentoring.organization_today(uuid),
  mentoring.clean_text(text, text, boolean),
  mentoring.raise_refusal(jsonb),
  mentoring.raise_error(text, text, jsonb, text),
  mentoring.is_time_zone(text)
  cascade;  -- with the triggers and policies that use them

drop table
  mentoring.idempotency_keys,
  mentoring.pause_preconditions,
  mentoring.error_codes,
  mentoring.transitions,
  mentoring.outbox,
  mentoring.status_events,
  mentoring.certifications,
  mentoring.mentor_coordinators,
  mentoring.pause_periods,
  mentoring.mentors,
  mentoring.organization_staff,
  mentoring.organizations;

drop type
  mentoring.precondition_finding,
  mentoring.certification_rule,
  mentoring.pause_end_reason,
  mentoring.staff_role,
  mentoring.actor_kind,
  mentoring.mentor_status;

notify pgrst, 'reload schema';
