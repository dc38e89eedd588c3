-- One listing of a coordinator's paused mentors, whose plan follows the assignments.
--
-- caller_paused_mentors (the caller's own, as the owner) and get_paused_mentors (another
-- coordinator's, under row-level security) each held the same query; they now share
-- assigned_paused_mentors, which runs with its caller's rights. And its plan no longer
-- depends on the roster: at 100,000 mentors the planner traded the 200 index probes of a
-- coordinator's open pauses for a scan of every open pause (10,000 rows, 1 ms), cheaper by
-- its costs only. A LATERAL subquery with LIMIT 1 (a mentor has at most one open pause:
-- pause_periods_one_open_per_mentor) keeps one probe per assignment.

create function mentoring.assigned_paused_mentors(coordinator uuid)
  returns setof jsonb
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
begin
  return query
    with open_pauses as materialized (
      select p.*
      from mentoring.mentor_coordinators c
      cross join lateral (
        select o.*
        from mentoring.pause_periods o
        where o.mentor_id = c.mentor_id and o.ended_at is null
        limit 1
      ) p
      where c.coordinator_id = assigned_paused_mentors.coordinator
    )
    select pg_catalog.jsonb_build_object(
      'mentor_id', m.id,
      'display_name', m.display_name,
      'organization_id', m.organization_id,
      'status_since', m.status_changed_at,
      'open_pause', pg_catalog.to_jsonb(p) - 'open_id')
    from open_pauses p
    join mentoring.mentors m on m.id = p.mentor_id and m.open_pause_id = p.id
    where m.status = 'paused'
    order by p.start_date, m.display_name, m.id;
end
$$;

comment on function mentoring.assigned_paused_mentors(uuid) is
  'The paused mentors a coordinator is assigned, with their open pauses, as the caller '
  'may see them (invoker rights: under row-level security unless the owner calls).';

-- A signed-in coordinator's own paused mentors, read as the owner: the caller coordinates
-- each of them, which is what lets the mentors policy show them to the caller, so the rows
-- are the same as through row-level security, without its checks per row.
create or replace function mentoring.caller_paused_mentors()
  returns setof jsonb
  language plpgsql stable security definer
  set search_path = pg_catalog, pg_temp
as $$
begin
  return query select * from mentoring.assigned_paused_mentors(auth.uid());
end
$$;

create or replace function api.get_paused_mentors(coordinator_id uuid default null)
  returns setof jsonb
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
declare
  coordinator uuid;
begin
  if mentoring.caller_key() like 'user:%' then
    coordinator := coalesce(get_paused_mentors.coordinator_id, auth.uid());
    if coordinator = auth.uid() then
      return query select * from mentoring.caller_paused_mentors();
      return;
    end if;
  else
    coordinator := get_paused_mentors.coordinator_id;
  end if;
  if coordinator is null then
    return query
      select pg_catalog.jsonb_build_object(
        'mentor_id', m.id,
        'display_name', m.display_name,
        'organization_id', m.organization_id,
        'status_since', m.status_changed_at,
        'open_pause', pg_catalog.to_jsonb(p) - 'open_id')
      from mentoring.mentors m
      join mentoring.pause_periods p on p.id = m.open_pause_id
      where m.status = 'paused'
      order by p.start_date, m.display_name, m.id;
  else
    -- another coordinator's, through row-level security: their open pauses first, then
    -- only those mentors, so that the policies check the few paused mentors
    return query select * from mentoring.assigned_paused_mentors(coordinator);
  end if;
end
$$;

-- Every grant of this revision, in one place.
revoke execute on function mentoring.assigned_paused_mentors(uuid)
  from public, anon, authenticated, service_role;
grant execute on function mentoring.assigned_paused_mentors(uuid) to authenticated, service_role;
