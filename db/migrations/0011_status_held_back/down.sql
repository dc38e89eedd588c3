-- Back to 0006's get_current_status.

create or replace function api.get_current_status(mentor_id uuid)
  returns jsonb
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
declare
  mentor mentoring.mentors;
  facts record;
begin
  select m.* into mentor from mentoring.mentors m where m.id = get_current_status.mentor_id;
  if mentor.id is null then
    perform mentoring.caller_key();  -- nobody is refused as such, before not found
    perform mentoring.raise_error('mentor_not_found', 'no such mentor',
      jsonb_build_object('mentor_id', get_current_status.mentor_id));
  end if;
  select f.* into facts from mentoring.status_facts(mentor.id) f;
  return jsonb_build_object(
    'mentor_id', mentor.id,
    'organization_id', mentor.organization_id,
    'display_name', mentor.display_name,
    'status', mentor.status,
    'status_since', mentor.status_changed_at,
    'status_version', mentor.status_version,
    'today', facts.today,
    'open_pause', facts.open_pause,
    'certification', jsonb_build_object(
      'certified', facts.coverage is not null,
      'valid_until', upper(facts.coverage) - 1),
    'caller_kind', facts.caller_kind,
    'allowed_transitions', coalesce((
      select jsonb_agg(t.to_status order by t.to_status)
      from mentoring.transitions t
      where t.from_status = mentor.status
        and t.actor_kind = facts.caller_kind
        and mentoring.refusal(
              mentor.id, mentor.status, t.to_status, facts.caller_kind, facts.caller_user_id,
              t, true, (facts.open_pause ->> 'started_by')::uuid, false,
              facts.coverage is not null, facts.today) is null),
      '[]'));
end
$$;

comment on function api.get_current_status(uuid) is
  'Status, since when, the open pause, certification (valid_until is the last valid day, '
  'null when open-ended), and the statuses the caller may move the mentor to now.';

drop function mentoring.caller_pause_findings(uuid);

notify pgrst, 'reload schema';
