-- The api functions, with plans whose cost follows what they return, not the roster.

-- What get_current_status reports beyond the mentor row, read as the owner for a caller
-- related to the mentor (resolve_actor refuses anyone else with mentor_not_found): one
-- row-level-security check in get_current_status instead of one per table.
create function mentoring.status_facts(
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

-- Paused mentors: through the coordinator's assignments when there is a coordinator, else
-- through an index of the paused; never a scan of the roster.
create index mentors_paused_idx on mentoring.mentors (open_pause_id) where status = 'paused';

-- A signed-in coordinator's own paused mentors, read as the owner: the caller coordinates
-- each of them, which is what lets the mentors policy show them to the caller, so the rows
-- are the same as through row-level security, without its checks per row.
create function mentoring.caller_paused_mentors()
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

-- The expiry sweep: candidates through the certified_through index, the truth through an
-- indexed EXISTS per candidate, and one UPDATE that the state machine handles set-based.
create or replace function api.expire_lapsed_certifications(batch_size integer default 500)
  returns integer
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
  set jit = off
as $$
declare
  caller text := mentoring.caller_key();
  everyone boolean := caller like 'system:%';
  administered uuid[] := case when not everyone
                              then mentoring.caller_administered_organizations() end;
  expired integer;
begin
  if batch_size is null or batch_size < 1 then
    perform mentoring.raise_error('invalid_input', 'batch_size must be positive',
      jsonb_build_object('field', 'batch_size'));
  end if;
  if not everyone and cardinality(administered) = 0 then
    perform mentoring.raise_error('forbidden',
      'only admins (for their organizations) and the system run the expiry sweep');
  end if;

  perform set_config('mentoring.transition_request',
    jsonb_build_object('reason', 'certification lapsed')::text, true);
  with lapsed as (
    select m.id
    from mentoring.mentors m
    join mentoring.organizations o on o.id = m.organization_id
    where m.status <> 'expired_cert'
      -- the index: no organization's today is later than UTC's tomorrow
      and (m.certified_through is null
           or m.certified_through < (now() at time zone 'UTC')::date + 1)
      and (m.certified_through is null
           or m.certified_through < (now() at time zone o.time_zone)::date)
      -- the truth
      and not mentoring.is_certified(m.id, (now() at time zone o.time_zone)::date)
      and (everyone or m.organization_id = any (administered))
      -- on their own record an admin is the mentor, who may not expire: leave it to the
      -- system rather than fail the whole batch
      and (everyone or m.user_id is distinct from auth.uid())
    limit batch_size
    for update of m skip locked
  )
  update mentoring.mentors m
  set status = 'expired_cert'
  from lapsed
  where m.id = lapsed.id;
  get diagnostics expired = row_count;
  perform set_config('mentoring.transition_request', '', true);
  return expired;
end
$$;

create or replace function mentoring.remind_overdue_pauses(batch_size integer default 500)
  returns integer
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  due record;
  reminded integer := 0;
  sent_at timestamptz := clock_timestamp();
begin
  if batch_size is null or batch_size < 1 then
    perform mentoring.raise_error('invalid_input', 'batch_size must be positive',
      jsonb_build_object('field', 'batch_size'));
  end if;
  for due in
    select p.id as pause_id, p.start_date, p.expected_return_date, p.reason,
           p.started_by, p.started_by_kind, m as mentor,
           (now() at time zone o.time_zone)::date as today
    from mentoring.pause_periods p
    join mentoring.mentors m on m.open_pause_id = p.id
    join mentoring.organizations o on o.id = m.organization_id
    where p.ended_at is null
      and p.overdue_notified_at is null
      and p.expected_return_date is not null
      and p.expected_return_date < (now() at time zone o.time_zone)::date
    limit batch_size
    -- the mentor too, so that the expiry sweep skips them rather than wait for us
    for update of p skip locked
    for no key update of m skip locked
  loop
    insert into mentoring.outbox (pause_id, recipient_id, kind, payload)
    select due.pause_id, recipient, 'pause_overdue', jsonb_build_object(
      'kind', 'pause_overdue',
      'pause_id', due.pause_id,
      'mentor', jsonb_build_object(
        'id', (due.mentor).id, 'display_name', (due.mentor).display_name,
        'organization_id', (due.mentor).organization_id),
      'recipient_id', recipient,
      'start_date', due.start_date,
      'expected_return_date', due.expected_return_date,
      'days_overdue', due.today - due.expected_return_date,
      'reason', due.reason,
      'started_by', jsonb_build_object('user_id', due.started_by, 'kind', due.started_by_kind),
      'occurred_at', sent_at)
    from (select a.recipient_id as recipient from mentoring.notification_audience a
          where a.mentor_id = (due.mentor).id order by a.recipient_id) as audience;
    update mentoring.pause_periods p set overdue_notified_at = sent_at
    where p.id = due.pause_id;
    reminded := reminded + 1;
  end loop;
  if reminded > 0 then
    perform mentoring.wake_relays();
  end if;
  return reminded;
end
$$;

-- Replaced by the array helpers of the policies, and by mentoring.refusal.
drop function mentoring.visible_mentors();
drop function mentoring.coordinated_mentors();
drop function mentoring.member_organizations();
drop function mentoring.administered_organizations();
drop function mentoring.transition_refusal(
  mentoring.mentors, mentoring.mentor_status, mentoring.actor_kind, uuid, boolean, date);

-- The write functions in PL/pgSQL: a SQL function with its own search_path is parsed and
-- planned again at every call. Same arguments, same results.
create or replace function api.activate_pause(
  mentor_id uuid,
  reason text,
  expected_return_date date default null,
  force boolean default false,
  idempotency_key uuid default null
)
  returns jsonb
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
begin
  return mentoring.idempotent_transition(
    'activate_pause', idempotency_key,
    jsonb_build_object('mentor_id', mentor_id, 'reason', reason,
                       'expected_return_date', expected_return_date,
                       'force', coalesce(force, false)),
    'paused', '{active}');
end
$$;

create or replace function api.lift_pause(
  mentor_id uuid,
  reason text default null,
  idempotency_key uuid default null
)
  returns jsonb
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
begin
  return mentoring.idempotent_transition(
    'lift_pause', idempotency_key,
    jsonb_build_object('mentor_id', mentor_id, 'reason', reason, 'end_reason', 'lifted'),
    'active', '{paused}');
end
$$;

create or replace function api.reactivate_mentor(
  mentor_id uuid,
  reason text default null,
  idempotency_key uuid default null
)
  returns jsonb
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
begin
  return mentoring.idempotent_transition(
    'reactivate_mentor', idempotency_key,
    jsonb_build_object('mentor_id', mentor_id, 'reason', reason, 'end_reason', 'reactivated'),
    'active', '{paused,expired_cert}');
end
$$;

create or replace function api.auto_expire_for_certification(mentor_id uuid)
  returns jsonb
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
begin
  return mentoring.request_transition(
    auto_expire_for_certification.mentor_id, 'expired_cert', '{active,paused}', '{}');
end
$$;

-- Without a key there is nothing to replay: no call to the definer at all.
create or replace function mentoring.idempotent_transition(
  operation text,
  idempotency_key uuid,
  arguments jsonb,
  target mentoring.mentor_status,
  allowed_from mentoring.mentor_status[]
)
  returns jsonb
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
declare
  replayed jsonb;
begin
  if idempotency_key is not null then
    replayed := mentoring.idempotent_replay(operation, idempotency_key, arguments);
  end if;
  if replayed is not null then
    -- replay only what the caller may still see
    if not exists (
      select from mentoring.mentors m where m.id = (arguments ->> 'mentor_id')::uuid
    ) then
      perform mentoring.raise_error('mentor_not_found', 'no such mentor',
        jsonb_build_object('mentor_id', arguments ->> 'mentor_id'));
    end if;
    return replayed;
  end if;
  -- the key's result is recorded by the apply_transitions trigger
  return mentoring.request_transition(
    (arguments ->> 'mentor_id')::uuid, target, allowed_from,
    arguments || jsonb_build_object('idempotency_key', idempotency_key));
end
$$;
