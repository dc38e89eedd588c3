-- Nobody is refused as such before a mentor is looked up.
--
-- status_facts and caller_pause_findings (definer helpers authenticated may execute)
-- looked the mentor up before asking who calls: a session without a user got
-- `unauthenticated` for a real mentor id and `mentor_not_found` for an unknown one, and so
-- learnt which ids exist. They now look the mentor up through seen_mentor, which asks
-- caller_key() first, as the api functions do.

-- The mentor, once the caller is known (unauthenticated first, then mentor_not_found).
-- Invoker rights: only our definer functions call it, as the owner.
create function mentoring.seen_mentor(mentor_id uuid)
  returns mentoring.mentors
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
declare
  mentor mentoring.mentors;
begin
  perform mentoring.caller_key();  -- nobody is refused as such, before not found
  select m.* into mentor from mentoring.mentors m where m.id = seen_mentor.mentor_id;
  if mentor.id is null then
    perform mentoring.raise_error('mentor_not_found', 'no such mentor',
      pg_catalog.jsonb_build_object('mentor_id', seen_mentor.mentor_id));
  end if;
  return mentor;
end
$$;

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
  mentor := mentoring.seen_mentor(status_facts.mentor_id);
  select a.kind, a.user_id into caller_kind, caller_user_id
  from mentoring.resolve_actor(mentor) a;
  select (pg_catalog.now() at time zone o.time_zone)::date into today
  from mentoring.organizations o where o.id = mentor.organization_id;
  coverage := mentoring.certification_coverage(mentor.id, today);
  select pg_catalog.to_jsonb(p) - 'open_id' into open_pause
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
  mentor := mentoring.seen_mentor(caller_pause_findings.mentor_id);
  perform mentoring.resolve_actor(mentor);
  if not exists (select from mentoring.pause_preconditions p where p.enabled) then
    return '[]'::jsonb;
  end if;
  return mentoring.pause_findings(mentor.id);
end
$$;

-- Every grant of this revision, in one place: seen_mentor is nobody's to call directly.
revoke execute on function mentoring.seen_mentor(uuid)
  from public, anon, authenticated, service_role;
