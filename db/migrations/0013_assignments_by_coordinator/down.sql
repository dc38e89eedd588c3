-- Back to 0002's index of assignments by coordinator, and 0006's paused listings.

create index mentor_coordinators_coordinator_id_idx
  on mentoring.mentor_coordinators (coordinator_id);
drop index mentoring.mentor_coordinators_coordinator_mentor_idx;

create or replace function mentoring.caller_paused_mentors()
  returns setof jsonb
  language plpgsql stable security definer
  set search_path = pg_catalog, pg_temp
as $$
begin
  return query
    with open_pauses as materialized (
      select p.*
      from mentoring.mentor_coordinators c
      join mentoring.pause_periods p on p.mentor_id = c.mentor_id and p.ended_at is null
      where c.coordinator_id = auth.uid()
    )
    select jsonb_build_object(
      'mentor_id', m.id,
      'display_name', m.display_name,
      'organization_id', m.organization_id,
      'status_since', m.status_changed_at,
      'open_pause', to_jsonb(p) - 'open_id')
    from open_pauses p
    join mentoring.mentors m on m.id = p.mentor_id and m.open_pause_id = p.id
    where m.status = 'paused'
    order by p.start_date, m.display_name, m.id;
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
      select jsonb_build_object(
        'mentor_id', m.id,
        'display_name', m.display_name,
        'organization_id', m.organization_id,
        'status_since', m.status_changed_at,
        'open_pause', to_jsonb(p) - 'open_id')
      from mentoring.mentors m
      join mentoring.pause_periods p on p.id = m.open_pause_id
      where m.status = 'paused'
      order by p.start_date, m.display_name, m.id;
  else
    -- another coordinator's, through row-level security (as caller_paused_mentors reads
    -- the caller's own): their open pauses first (a small partial index), then only those
    -- mentors, so that the policies check the few paused mentors, not every assigned one
    return query
      with open_pauses as materialized (
        select p.*
        from mentoring.mentor_coordinators c
        join mentoring.pause_periods p on p.mentor_id = c.mentor_id and p.ended_at is null
        where c.coordinator_id = coordinator
      )
      select jsonb_build_object(
        'mentor_id', m.id,
        'display_name', m.display_name,
        'organization_id', m.organization_id,
        'status_since', m.status_changed_at,
        'open_pause', to_jsonb(p) - 'open_id')
      from open_pauses p
      join mentoring.mentors m on m.id = p.mentor_id and m.open_pause_id = p.id
      where m.status = 'paused'
      order by p.start_date, m.display_name, m.id;
  end if;
end
$$;

drop function mentoring.assigned_paused_mentors(uuid);
