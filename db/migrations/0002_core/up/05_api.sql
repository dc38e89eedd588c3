-- The RPC contract, exposed to PostgREST as /rpc/<name>. Each function runs as its
-- caller (SECURITY INVOKER): RLS and the state machine trigger are the only gates.
-- No function here is overloaded.

create function api.activate_pause(
  mentor_id uuid,
  reason text,
  expected_return_date date default null,
  force boolean default false,
  idempotency_key uuid default null
)
  returns jsonb
  language sql volatile
  set search_path = ''
as $$
  select mentoring.idempotent_transition(
    'activate_pause', idempotency_key,
    jsonb_build_object('mentor_id', mentor_id, 'reason', reason,
                       'expected_return_date', expected_return_date,
                       'force', coalesce(force, false)),
    'paused', '{active}')
$$;
comment on function api.activate_pause(uuid, text, date, boolean, uuid) is
  'Pause an active mentor. reason: 1-500 characters. expected_return_date: after today, '
  'within 365 days. force: coordinators and admins only, overrides blocking preconditions.';

create function api.lift_pause(
  mentor_id uuid,
  reason text default null,
  idempotency_key uuid default null
)
  returns jsonb
  language sql volatile
  set search_path = ''
as $$
  select mentoring.idempotent_transition(
    'lift_pause', idempotency_key,
    jsonb_build_object('mentor_id', mentor_id, 'reason', reason, 'end_reason', 'lifted'),
    'active', '{paused}')
$$;
comment on function api.lift_pause(uuid, text, uuid) is
  'End a paused mentor''s pause: paused -> active. Needs a valid certification.';

create function api.reactivate_mentor(
  mentor_id uuid,
  reason text default null,
  idempotency_key uuid default null
)
  returns jsonb
  language sql volatile
  set search_path = ''
as $$
  select mentoring.idempotent_transition(
    'reactivate_mentor', idempotency_key,
    jsonb_build_object('mentor_id', mentor_id, 'reason', reason, 'end_reason', 'reactivated'),
    'active', '{paused,expired_cert}')
$$;
comment on function api.reactivate_mentor(uuid, text, uuid) is
  'Make a paused or expired_cert mentor active again. Needs a valid certification.';

create function api.auto_expire_for_certification(mentor_id uuid)
  returns jsonb
  language sql volatile
  set search_path = ''
as $$
  select mentoring.request_transition(
    auto_expire_for_certification.mentor_id, 'expired_cert', '{active,paused}', '{}')
$$;
comment on function api.auto_expire_for_certification(uuid) is
  'Move a mentor whose certification has lapsed to expired_cert (closing any open pause). '
  'service_role and admins. Already expired: changes nothing (changed = false).';

create function api.get_current_status(mentor_id uuid)
  returns jsonb
  language plpgsql stable
  set search_path = ''
as $$
declare
  mentor mentoring.mentors;
  actor record;
  today date;
  coverage daterange;
begin
  perform mentoring.caller_key();
  select m.* into mentor from mentoring.mentors m where m.id = get_current_status.mentor_id;
  if mentor.id is null then
    perform mentoring.raise_error('mentor_not_found', 'no such mentor',
      jsonb_build_object('mentor_id', get_current_status.mentor_id));
  end if;
  select a.kind, a.user_id into actor from mentoring.resolve_actor(mentor) a;
  today := mentoring.organization_today(mentor.organization_id);
  coverage := mentoring.certification_coverage(mentor.id, today);
  return jsonb_build_object(
    'mentor_id', mentor.id,
    'organization_id', mentor.organization_id,
    'display_name', mentor.display_name,
    'status', mentor.status,
    'status_since', mentor.status_changed_at,
    'status_version', mentor.status_version,
    'today', today,
    'open_pause', (
      select to_jsonb(p) - 'open_id' from mentoring.pause_periods p
      where p.id = mentor.open_pause_id),
    'certification', jsonb_build_object(
      'certified', coverage is not null,
      'valid_until', upper(coverage) - 1),
    'caller_kind', actor.kind,
    'allowed_transitions', coalesce((
      select jsonb_agg(t.to_status order by t.to_status)
      from mentoring.transitions t
      where t.from_status = mentor.status
        and t.actor_kind = actor.kind
        and mentoring.transition_refusal(
              mentor, t.to_status, actor.kind, actor.user_id, false, today) is null),
      '[]'));
end
$$;
comment on function api.get_current_status(uuid) is
  'Status, since when, the open pause, certification (valid_until is the last valid day, '
  'null when open-ended), and the statuses the caller may move the mentor to now.';

create function api.get_pause_history(mentor_id uuid)
  returns jsonb
  language plpgsql stable
  set search_path = ''
as $$
begin
  perform mentoring.caller_key();
  if not exists (select from mentoring.mentors m where m.id = get_pause_history.mentor_id) then
    perform mentoring.raise_error('mentor_not_found', 'no such mentor',
      jsonb_build_object('mentor_id', get_pause_history.mentor_id));
  end if;
  return jsonb_build_object(
    'mentor_id', mentor_id,
    'pauses', coalesce((
      select jsonb_agg(to_jsonb(p) - 'open_id' order by p.started_at desc, p.id)
      from mentoring.pause_periods p
      where p.mentor_id = get_pause_history.mentor_id), '[]'),
    'events', coalesce((
      select jsonb_agg(to_jsonb(e) order by e.sequence desc)
      from mentoring.status_events e
      where e.mentor_id = get_pause_history.mentor_id), '[]'));
end
$$;
comment on function api.get_pause_history(uuid) is
  'Pause periods and status events of a mentor, newest first.';

create function api.get_paused_mentors(coordinator_id uuid default null)
  returns setof jsonb
  language plpgsql stable
  set search_path = ''
as $$
declare
  coordinator uuid;
begin
  if mentoring.caller_key() like 'user:%' then
    coordinator := coalesce(get_paused_mentors.coordinator_id, auth.uid());
  else
    coordinator := get_paused_mentors.coordinator_id;
  end if;
  return query
    select jsonb_build_object(
      'mentor_id', m.id,
      'display_name', m.display_name,
      'organization_id', m.organization_id,
      'status_since', m.status_changed_at,
      'open_pause', to_jsonb(p) - 'open_id')
    from mentoring.mentors m
    join mentoring.pause_periods p on p.id = m.open_pause_id
    where m.status = 'paused'
      and (coordinator is null or exists (
        select from mentoring.mentor_coordinators c
        where c.mentor_id = m.id and c.coordinator_id = coordinator))
    order by p.start_date, m.display_name, m.id;
end
$$;
comment on function api.get_paused_mentors(uuid) is
  'Paused mentors assigned to coordinator_id (default: the caller; for the system: all), '
  'with their open pause, among the mentors the caller may see.';

create function api.is_transition_allowed(current_status text, target_status text)
  returns boolean
  language plpgsql stable
  set search_path = ''
as $$
declare
  statuses text[] := enum_range(null::mentoring.mentor_status)::text[];
begin
  perform mentoring.caller_key();
  if current_status is null or not current_status = any (statuses) then
    perform mentoring.raise_error('invalid_input',
      format('current_status must be one of %s', array_to_string(statuses, ', ')),
      jsonb_build_object('field', 'current_status'));
  end if;
  if target_status is null or not target_status = any (statuses) then
    perform mentoring.raise_error('invalid_input',
      format('target_status must be one of %s', array_to_string(statuses, ', ')),
      jsonb_build_object('field', 'target_status'));
  end if;
  return exists (
    select from mentoring.transitions t
    where t.from_status = current_status::mentoring.mentor_status
      and t.to_status = target_status::mentoring.mentor_status);
end
$$;
comment on function api.is_transition_allowed(text, text) is
  'Whether the state machine has this transition for anyone. Who may take it for a given '
  'mentor: get_current_status(...).allowed_transitions.';
