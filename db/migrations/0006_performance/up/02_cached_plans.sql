-- Hot helpers in PL/pgSQL, whose plans are cached for the session. A SQL function with
-- its own search_path (every function of ours has one) is never inlined, and PostgreSQL
-- plans its statements again at every call: 170 µs for transition_result alone. The
-- bodies are unchanged.

create or replace function mentoring.request_role()
  returns text
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
begin
  return coalesce(nullif(current_setting('role'), 'none'), session_user);
end
$$;

create or replace function mentoring.certification_coverage(mentor_id uuid, on_date date)
  returns daterange
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
begin
  return (
    select covered
    from unnest((
      select range_agg(c.valid_during)
      from mentoring.certifications c
      where c.mentor_id = certification_coverage.mentor_id
    )) as covered
    where covered @> certification_coverage.on_date);
end
$$;

create or replace function mentoring.certified_through(mentor_id uuid, on_date date)
  returns date
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
declare
  covered daterange := mentoring.certification_coverage(
    certified_through.mentor_id, certified_through.on_date);
begin
  return case
    when covered is null then null
    when upper_inf(covered) then 'infinity'::date
    else upper(covered) - 1
  end;
end
$$;

-- Who hears about a mentor, as a view: set-based statements join it (a sweep of ten
-- thousand mentors, one join), and notification_recipients reads it for one mentor.
create view mentoring.notification_audience with (security_invoker = true) as
select c.mentor_id, c.coordinator_id as recipient_id
from mentoring.mentor_coordinators c
union all
select m.id, s.user_id
from mentoring.mentors m
join mentoring.organization_staff s on s.organization_id = m.organization_id and s.role = 'admin'
where not exists (select from mentoring.mentor_coordinators c where c.mentor_id = m.id);
comment on view mentoring.notification_audience is
  'Who hears about a mentor: the assigned coordinators; the organization''s admins when '
  'none is assigned. Whoever acted is left out by the reader.';

create or replace function mentoring.notification_recipients(
  mentor mentoring.mentors, actor_user_id uuid
)
  returns uuid[]
  language plpgsql stable security definer
  set search_path = pg_catalog, pg_temp
as $$
begin
  return array(
    select a.recipient_id from mentoring.notification_audience a
    where a.mentor_id = mentor.id
      and a.recipient_id is distinct from notification_recipients.actor_user_id
    order by a.recipient_id);
end
$$;

create or replace function mentoring.event_json(event mentoring.status_events)
  returns jsonb
  language plpgsql immutable
  set search_path = pg_catalog, pg_temp
as $$
begin
  return to_jsonb(event) - 'id' - 'transaction_id';
end
$$;

create or replace function mentoring.transition_result(
  mentor mentoring.mentors, previous_status mentoring.mentor_status, changed boolean
)
  returns jsonb
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
begin
  return jsonb_build_object(
    'mentor_id', mentor.id,
    'changed', changed,
    'previous_status', previous_status,
    'status', mentor.status,
    'status_since', mentor.status_changed_at,
    'event', case when changed then (
      select mentoring.event_json(e) from mentoring.status_events e
      where e.mentor_id = mentor.id and e.sequence = mentor.status_version) end,
    'open_pause', (
      select to_jsonb(p) - 'open_id' from mentoring.pause_periods p
      where p.id = mentor.open_pause_id));
end
$$;

create or replace function mentoring.idempotent_operation(
  operation text, out target mentoring.mentor_status, out argument_names text[]
)
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
begin
  select o.target, o.argument_names into target, argument_names
  from (values
    ('activate_pause', 'paused'::mentoring.mentor_status,
     '{mentor_id,reason,expected_return_date,force}'::text[]),
    ('lift_pause', 'active', '{mentor_id,reason,end_reason}'),
    ('reactivate_mentor', 'active', '{mentor_id,reason,end_reason}')
  ) as o(operation, target, argument_names)
  where o.operation = idempotent_operation.operation;
end
$$;

-- Who is calling, with the signed-in user read once.
create or replace function mentoring.caller_key()
  returns text
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
declare
  request_role text := mentoring.request_role();
  user_id uuid;
begin
  if pg_has_role(request_role,
                 (select n.nspowner from pg_catalog.pg_namespace n where n.nspname = 'mentoring'),
                 'usage')
     or pg_has_role(request_role, 'service_role', 'usage') then
    return 'system:' || request_role;
  end if;
  if pg_has_role(request_role, 'authenticated', 'usage') then
    user_id := auth.uid();
    if user_id is not null then
      return 'user:' || user_id;
    end if;
  end if;
  perform mentoring.raise_error('unauthenticated', 'sign in to manage mentors');
  return null;
end
$$;
