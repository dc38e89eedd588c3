-- Back to 0006's status_facts and 0011's caller_pause_findings.

create or replace function mentoring.status_facts(
  mentor_id uuid,
  out caller_kind mentoring.actor_kind,
  out caller_user_id uuid,
  out today date,
  out coverage daterange,
  out open_pause jsonb
)
  language plpgsql stable security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  mentor mentoring.mentors;
begin
  select m.* into mentor from mentoring.mentors m where m.id = status_facts.mentor_id;
  if mentor.id is null then
    perform mentoring.raise_error('mentor_not_found', 'no such mentor',
      jsonb_build_object('mentor_id', status_facts.mentor_id));
  end if;
  select a.kind, a.user_id into caller_kind, caller_user_id
  from mentoring.resolve_actor(mentor) a;
  select (now() at time zone o.time_zone)::date into today
  from mentoring.organizations o where o.id = mentor.organization_id;
  coverage := mentoring.certification_coverage(mentor.id, today);
  select to_jsonb(p) - 'open_id' into open_pause
  from mentoring.pause_periods p where p.id = mentor.open_pause_id;
end
$$;

create or replace function mentoring.caller_pause_findings(mentor_id uuid)
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

drop function mentoring.seen_mentor(uuid);
