-- get_current_status lists only what the caller can take now, and says what holds a
-- transition back.
--
-- It listed `paused` for a mentor whom a blocking pause precondition stops, to a caller
-- who cannot force (the mentor): a button that can only fail. Now `paused` is listed then
-- only to coordinators and admins (who may pass force => true), and `held_back` says why:
-- the precondition's findings, and whether this caller can force.

-- The pause findings of a mentor, for a caller who may see that mentor (resolve_actor
-- refuses anyone else with mentor_not_found, as the api does).
create function mentoring.caller_pause_findings(mentor_id uuid)
  returns jsonb
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  mentor mentoring.mentors;
begin
  select m.* into mentor from mentoring.mentors m where m.id = caller_pause_findings.mentor_id;
  if mentor.id is null then
    perform mentoring.raise_error('mentor_not_found', 'no such mentor',
      jsonb_build_object('mentor_id', caller_pause_findings.mentor_id));
  end if;
  perform mentoring.resolve_actor(mentor);
  if not exists (select from mentoring.pause_preconditions p where p.enabled) then
    return '[]'::jsonb;
  end if;
  return mentoring.pause_findings(mentor.id);
end
$$;

create or replace function api.get_current_status(mentor_id uuid)
  returns jsonb
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
declare
  mentor mentoring.mentors;
  facts record;
  permitted mentoring.mentor_status[];
  findings jsonb := '[]'::jsonb;
  blocked boolean := false;
  can_force boolean;
begin
  select m.* into mentor from mentoring.mentors m where m.id = get_current_status.mentor_id;
  if mentor.id is null then
    perform mentoring.caller_key();  -- nobody is refused as such, before not found
    perform mentoring.raise_error('mentor_not_found', 'no such mentor',
      jsonb_build_object('mentor_id', get_current_status.mentor_id));
  end if;
  select f.* into facts from mentoring.status_facts(mentor.id) f;
  select coalesce(array_agg(t.to_status order by t.to_status), '{}') into permitted
  from mentoring.transitions t
  where t.from_status = mentor.status
    and t.actor_kind = facts.caller_kind
    and mentoring.refusal(
          mentor.id, mentor.status, t.to_status, facts.caller_kind, facts.caller_user_id,
          t, true, (facts.open_pause ->> 'started_by')::uuid, false,
          facts.coverage is not null, facts.today) is null;
  can_force := facts.caller_kind in ('coordinator', 'admin');
  if 'paused' = any (permitted) then
    findings := mentoring.caller_pause_findings(mentor.id);
    blocked := jsonb_path_exists(findings, '$[*] ? (@.blocking == true)');
    if blocked and not can_force then
      permitted := array_remove(permitted, 'paused');
    end if;
  end if;
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
    'allowed_transitions', to_jsonb(permitted),
    'held_back', case when blocked then jsonb_build_array(jsonb_build_object(
      'to_status', 'paused',
      'code', 'precondition_failed',
      'message', 'a pause precondition blocks this pause',
      'can_force', can_force,
      'findings', findings)) else '[]'::jsonb end);
end
$$;

comment on function api.get_current_status(uuid) is
  'Status, since when, the open pause, certification (valid_until is the last valid day, '
  'null when open-ended), the statuses the caller can move the mentor to now, and '
  'held_back: transitions a blocking pause precondition holds back (findings; can_force: '
  'the caller may pass force => true, and the status is then in allowed_transitions).';

-- Every grant of this revision, in one place.
revoke execute on function mentoring.caller_pause_findings(uuid)
  from public, anon, authenticated, service_role;
grant execute on function mentoring.caller_pause_findings(uuid) to authenticated, service_role;

notify pgrst, 'reload schema';
