-- Back to revision 0005: policies over set-returning helpers, the row-by-row state
-- machine, SQL helpers, and NOTIFY on every change.

-- The api functions and their helpers, as in 0005.
create or replace function api.activate_pause(
  mentor_id uuid,
  reason text,
  expected_return_date date default null,
  force boolean default false,
  idempotency_key uuid default null
)
  returns jsonb
  language sql volatile
  set search_path = pg_catalog, pg_temp
as $$
  select mentoring.idempotent_transition(
    'activate_pause', idempotency_key,
    jsonb_build_object('mentor_id', mentor_id, 'reason', reason,
                       'expected_return_date', expected_return_date,
                       'force', coalesce(force, false)),
    'paused', '{active}')
$$;

create or replace function api.lift_pause(
  mentor_id uuid,
  reason text default null,
  idempotency_key uuid default null
)
  returns jsonb
  language sql volatile
  set search_path = pg_catalog, pg_temp
as $$
  select mentoring.idempotent_transition(
    'lift_pause', idempotency_key,
    jsonb_build_object('mentor_id', mentor_id, 'reason', reason, 'end_reason', 'lifted'),
    'active', '{paused}')
$$;

create or replace function api.reactivate_mentor(
  mentor_id uuid,
  reason text default null,
  idempotency_key uuid default null
)
  returns jsonb
  language sql volatile
  set search_path = pg_catalog, pg_temp
as $$
  select mentoring.idempotent_transition(
    'reactivate_mentor', idempotency_key,
    jsonb_build_object('mentor_id', mentor_id, 'reason', reason, 'end_reason', 'reactivated'),
    'active', '{paused,expired_cert}')
$$;

create or replace function api.auto_expire_for_certification(mentor_id uuid)
  returns jsonb
  language sql volatile
  set search_path = pg_catalog, pg_temp
as $$
  select mentoring.request_transition(
    auto_expire_for_certification.mentor_id, 'expired_cert', '{active,paused}', '{}')
$$;

create or replace function api.get_current_status(mentor_id uuid)
  returns jsonb
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
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

create or replace function api.expire_lapsed_certifications(batch_size integer default 500)
  returns integer
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
declare
  caller text := mentoring.caller_key();
  everyone boolean := caller like 'system:%';
  expired integer;
begin
  if batch_size is null or batch_size < 1 then
    perform mentoring.raise_error('invalid_input', 'batch_size must be positive',
      jsonb_build_object('field', 'batch_size'));
  end if;
  if not everyone and not exists (select from mentoring.administered_organizations()) then
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
      and mentoring.certification_coverage(m.id, (now() at time zone o.time_zone)::date)
          is null
      and (everyone or m.organization_id in (select mentoring.administered_organizations()))
      -- on their own record an admin is the mentor, who may not expire: leave it to the
      -- system rather than fail the whole batch
      and (everyone or m.user_id is distinct from (select auth.uid()))
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
    from unnest(mentoring.notification_recipients(due.mentor, null)) as recipient;
    update mentoring.pause_periods p set overdue_notified_at = sent_at
    where p.id = due.pause_id;
    reminded := reminded + 1;
  end loop;
  if reminded > 0 then
    perform pg_notify('mentoring_outbox', '');
  end if;
  return reminded;
end
$$;

create or replace function mentoring.outbox_requeue(ids bigint[] default null)
  returns integer
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  requeued integer;
begin
  update mentoring.outbox o
  set dead_at = null, attempts = 0, available_at = clock_timestamp()
  where o.dead_at is not null
    and (outbox_requeue.ids is null or o.id = any (outbox_requeue.ids));
  get diagnostics requeued = row_count;
  if requeued > 0 then
    perform pg_notify('mentoring_outbox', '');
  end if;
  return requeued;
end
$$;

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
  replayed jsonb := mentoring.idempotent_replay(operation, idempotency_key, arguments);
begin
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
  -- the key's result is recorded by the record_idempotent_result trigger
  return mentoring.request_transition(
    (arguments ->> 'mentor_id')::uuid, target, allowed_from,
    arguments || jsonb_build_object('idempotency_key', idempotency_key));
end
$$;

create or replace function mentoring.request_transition(
  mentor_id uuid,
  target mentoring.mentor_status,
  allowed_from mentoring.mentor_status[],
  request jsonb
)
  returns jsonb
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
declare
  mentor mentoring.mentors;
  previous mentoring.mentor_status;
  actor record;
begin
  if mentor_id is null then
    perform mentoring.raise_error('invalid_input', 'mentor_id is required',
      jsonb_build_object('field', 'mentor_id'));
  end if;
  perform mentoring.caller_key();

  -- FOR UPDATE, not NO KEY UPDATE: a pause changes open_pause_id, a key column, and
  -- upgrading the lock later could deadlock with foreign key checks (KEY SHARE).
  select m.* into mentor
  from mentoring.mentors m
  where m.id = request_transition.mentor_id
  for update;
  if mentor.id is null then
    perform mentoring.raise_error('mentor_not_found', 'no such mentor',
      jsonb_build_object('mentor_id', request_transition.mentor_id));
  end if;

  if mentor.status = target and target = 'expired_cert' then
    select a.kind into actor from mentoring.resolve_actor(mentor) a;
    if not exists (
      select from mentoring.transitions t
      where t.to_status = 'expired_cert' and t.actor_kind = actor.kind
    ) then
      perform mentoring.raise_error('forbidden',
        format('a %s may not expire a mentor''s certification', actor.kind),
        jsonb_build_object('mentor_id', mentor.id, 'actor_kind', actor.kind));
    end if;
    return mentoring.transition_result(mentor, mentor.status, false);
  end if;

  if not mentor.status = any (allowed_from) then
    perform mentoring.raise_error('transition_not_allowed',
      format('this applies to a mentor who is %s; this one is %s',
             array_to_string(allowed_from, ' or '), mentor.status),
      jsonb_build_object('mentor_id', mentor.id, 'current_status', mentor.status,
                         'requested_status', target, 'applies_to', allowed_from));
  end if;

  previous := mentor.status;
  perform set_config('mentoring.transition_request',
    (request || jsonb_build_object('mentor_id', mentor.id))::text, true);
  update mentoring.mentors m set status = target where m.id = mentor.id
  returning m.* into mentor;
  if not found then  -- visible but not updatable: no policy lets this caller write
    perform mentoring.raise_error('forbidden', 'you may not change this mentor',
      jsonb_build_object('mentor_id', request_transition.mentor_id));
  end if;
  perform set_config('mentoring.transition_request', '', true);
  return mentoring.transition_result(mentor, previous, true);
exception
  when lock_not_available or serialization_failure or deadlock_detected then
    perform mentoring.raise_error('concurrent_update',
      'another change to this mentor got in the way',
      jsonb_build_object('mentor_id', request_transition.mentor_id), 'retry the request');
end
$$;

create or replace function mentoring.clean_text(value text, field text, required boolean)
  returns text
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
declare
  cleaned text := nullif(btrim(value), '');
begin
  if cleaned is null and required then
    perform mentoring.raise_error('invalid_input', format('%s is required', field),
      jsonb_build_object('field', field));
  end if;
  if char_length(cleaned) > 500 then
    perform mentoring.raise_error('invalid_input',
      format('%s is %s characters long; the limit is 500', field, char_length(cleaned)),
      jsonb_build_object('field', field, 'length', char_length(cleaned)));
  end if;
  return cleaned;
end
$$;

create or replace function mentoring.caller_key()
  returns text
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
declare
  request_role text := mentoring.request_role();
  schema_owner oid := (
    select n.nspowner from pg_catalog.pg_namespace n where n.nspname = 'mentoring');
begin
  if pg_has_role(request_role, schema_owner, 'usage')
     or pg_has_role(request_role, 'service_role', 'usage') then
    return 'system:' || request_role;
  end if;
  if pg_has_role(request_role, 'authenticated', 'usage') and auth.uid() is not null then
    return 'user:' || auth.uid();
  end if;
  perform mentoring.raise_error('unauthenticated', 'sign in to manage mentors');
  return null;
end
$$;

create or replace function mentoring.idempotent_operation(
  operation text, out target mentoring.mentor_status, out argument_names text[]
)
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  select o.target, o.argument_names
  from (values
    ('activate_pause', 'paused'::mentoring.mentor_status,
     '{mentor_id,reason,expected_return_date,force}'::text[]),
    ('lift_pause', 'active', '{mentor_id,reason,end_reason}'),
    ('reactivate_mentor', 'active', '{mentor_id,reason,end_reason}')
  ) as o(operation, target, argument_names)
  where o.operation = idempotent_operation.operation
$$;

create or replace function mentoring.transition_result(
  mentor mentoring.mentors, previous_status mentoring.mentor_status, changed boolean
)
  returns jsonb
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  select jsonb_build_object(
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
      where p.id = mentor.open_pause_id))
$$;

create or replace function mentoring.event_json(event mentoring.status_events)
  returns jsonb
  language sql immutable
  set search_path = pg_catalog, pg_temp
as $$
  select pg_catalog.to_jsonb(event) - 'id' - 'transaction_id'
$$;

create or replace function mentoring.notification_recipients(mentor mentoring.mentors, actor_user_id uuid)
  returns uuid[]
  language sql stable security definer
  set search_path = pg_catalog, pg_temp
as $$
  select case
    when exists (select from mentoring.mentor_coordinators c where c.mentor_id = mentor.id)
    then array(
      select c.coordinator_id from mentoring.mentor_coordinators c
      where c.mentor_id = mentor.id
        and c.coordinator_id is distinct from notification_recipients.actor_user_id
      order by c.coordinator_id)
    else array(
      select s.user_id from mentoring.organization_staff s
      where s.organization_id = mentor.organization_id
        and s.role = 'admin'
        and s.user_id is distinct from notification_recipients.actor_user_id
      order by s.user_id)
  end
$$;

create or replace function mentoring.certified_through(mentor_id uuid, on_date date)
  returns date
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  select case
    when covered is null then null
    when upper_inf(covered) then 'infinity'::date
    else upper(covered) - 1
  end
  from (select mentoring.certification_coverage(certified_through.mentor_id,
                                                certified_through.on_date) as covered) c
$$;

create or replace function mentoring.certification_coverage(mentor_id uuid, on_date date)
  returns daterange
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  select covered
  from unnest((
    select range_agg(c.valid_during)
    from mentoring.certifications c
    where c.mentor_id = certification_coverage.mentor_id
  )) as covered
  where covered @> certification_coverage.on_date
$$;

create or replace function mentoring.request_role()
  returns text
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  select coalesce(nullif(current_setting('role'), 'none'), session_user)
$$;

drop function mentoring.status_facts(uuid);
drop function mentoring.caller_paused_mentors();
drop index mentoring.mentors_paused_idx;
drop view mentoring.notification_audience;

-- The row-by-row state machine.
create function mentoring.transition_refusal(
  mentor mentoring.mentors,
  target mentoring.mentor_status,
  actor_kind mentoring.actor_kind,
  actor_user_id uuid,
  force boolean,
  today date
)
  returns jsonb
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
declare
  rule mentoring.transitions;
  coverage daterange;
  facts jsonb := jsonb_build_object(
    'mentor_id', mentor.id, 'current_status', mentor.status, 'requested_status', target);
begin
  if not exists (
    select from mentoring.transitions t
    where t.from_status = mentor.status and t.to_status = target
  ) then
    return jsonb_build_object('code', 'transition_not_allowed',
      'message', format('a mentor who is %s cannot become %s', mentor.status, target),
      'details', facts);
  end if;

  select t.* into rule
  from mentoring.transitions t
  where t.from_status = mentor.status
    and t.to_status = target
    and t.actor_kind = transition_refusal.actor_kind;
  if not found then
    return jsonb_build_object('code', 'forbidden',
      'message', format('a %s may not move a mentor from %s to %s', actor_kind, mentor.status, target),
      'details', facts || jsonb_build_object('actor_kind', actor_kind));
  end if;

  if rule.own_pause_only and not exists (
    select from mentoring.pause_periods p
    where p.id = mentor.open_pause_id and p.started_by = actor_user_id
  ) then
    return jsonb_build_object('code', 'forbidden',
      'message', 'a mentor may only end a pause they started themselves',
      'details', facts || jsonb_build_object('actor_kind', actor_kind),
      'hint', 'ask a coordinator to lift this pause');
  end if;

  if force and actor_kind not in ('coordinator', 'admin') then
    return jsonb_build_object('code', 'forbidden',
      'message', 'only coordinators and admins can force a pause',
      'details', facts || jsonb_build_object('actor_kind', actor_kind));
  end if;

  if rule.certification <> 'any' then
    coverage := mentoring.certification_coverage(mentor.id, today);
    if rule.certification = 'valid' and coverage is null then
      return jsonb_build_object('code', 'certification_lapsed',
        'message', format('the mentor has no valid certification on %s', today),
        'details', facts || jsonb_build_object('today', today),
        'hint', 'record a current certification first');
    elsif rule.certification = 'lapsed' and coverage is not null then
      return jsonb_build_object('code', 'certification_valid',
        'message', format('the certification is valid on %s: nothing to expire', today),
        'details', facts || jsonb_build_object('today', today, 'valid_until', upper(coverage) - 1));
    end if;
  end if;
  return null;
end
$$;

revoke execute on function mentoring.transition_refusal(
  mentoring.mentors, mentoring.mentor_status, mentoring.actor_kind, uuid, boolean, date)
  from public;
grant execute on function mentoring.transition_refusal(
  mentoring.mentors, mentoring.mentor_status, mentoring.actor_kind, uuid, boolean, date)
  to authenticated, service_role;

create function mentoring.notify_coordinators(event mentoring.status_events, mentor mentoring.mentors)
  returns integer
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  recipients uuid[] := mentoring.notification_recipients(mentor, event.actor_user_id);
  pause mentoring.pause_periods;
begin
  if cardinality(recipients) = 0 then
    return 0;
  end if;

  select p.* into pause from mentoring.pause_periods p where p.id = event.pause_id;
  insert into mentoring.outbox (event_id, recipient_id, kind, payload)
  select event.id, recipient, 'status_changed', jsonb_build_object(
    'event_id', event.id,
    'kind', 'status_changed',
    'sequence', event.sequence,
    'mentor', jsonb_build_object(
      'id', mentor.id, 'display_name', mentor.display_name,
      'organization_id', mentor.organization_id),
    'recipient_id', recipient,
    'from_status', event.from_status,
    'to_status', event.to_status,
    'reason', event.reason,
    'actor', jsonb_build_object('user_id', event.actor_user_id, 'kind', event.actor_kind),
    'occurred_at', event.occurred_at,
    'expected_return_date', pause.expected_return_date,
    'forced', event.forced,
    'findings', event.findings)
  from unnest(recipients) as recipient;

  perform pg_notify('mentoring_outbox', '');
  return cardinality(recipients);
end
$$;

revoke execute on function mentoring.notify_coordinators(mentoring.status_events, mentoring.mentors)
  from public;

create function mentoring.mentors_record_idempotent_result()
  returns trigger
  language plpgsql security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  request jsonb := mentoring.transition_request(new.id);
  claimed uuid := (request ->> 'idempotency_key')::uuid;
begin
  if claimed is null then
    return null;
  end if;
  update mentoring.idempotency_keys k
  set result = mentoring.transition_result(new, old.status, true)
  where k.caller = mentoring.caller_key()
    and k.key = claimed
    and k.result is null
    and k.arguments = request - 'idempotency_key'
    and (mentoring.idempotent_operation(k.operation)).target = new.status;
  return null;
end
$$;

revoke execute on function mentoring.mentors_record_idempotent_result() from public;

create trigger record_idempotent_result
  after update of status on mentoring.mentors
  for each row when (old.status is distinct from new.status)
  execute function mentoring.mentors_record_idempotent_result();

drop trigger compute_certified_through on mentoring.mentors;
create trigger compute_certified_through
  before insert or update on mentoring.mentors
  for each row execute function mentoring.mentors_compute_certified_through();

drop trigger apply_transitions on mentoring.mentors;
drop function mentoring.mentors_apply_transitions();
drop function mentoring.text_refusal(text, text, boolean);
create or replace function mentoring.mentors_before_update()
  returns trigger
  language plpgsql security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  request jsonb;
  actor record;
  today date;
  note text;
  expected_return date;
  force boolean;
  closing_reason mentoring.pause_end_reason;
  findings jsonb := '[]';
  forced boolean := false;
  touched_pause uuid;
  event mentoring.status_events;
  -- when the change happens (after the row lock), never before the previous one
  changed_at timestamptz := greatest(clock_timestamp(), old.status_changed_at);
begin
  if new.open_pause_id is distinct from old.open_pause_id
     or new.status_version is distinct from old.status_version
     or new.status_changed_at is distinct from old.status_changed_at then
    perform mentoring.raise_error('invalid_input',
      'open_pause_id, status_version and status_changed_at follow the status: change status instead',
      jsonb_build_object('mentor_id', old.id));
  end if;
  if new.status = old.status then
    return new;
  end if;

  request := coalesce(mentoring.transition_request(old.id), '{}');
  select a.kind, a.user_id into actor from mentoring.resolve_actor(old) a;
  today := mentoring.organization_today(old.organization_id);
  force := coalesce((request ->> 'force')::boolean, false);
  perform mentoring.raise_refusal(
    mentoring.transition_refusal(old, new.status, actor.kind, actor.user_id, force, today));
  note := mentoring.clean_text(request ->> 'reason', 'reason', new.status = 'paused');

  if old.status = 'paused' then
    if new.status = 'expired_cert' then
      closing_reason := 'certification_expired';
    elsif coalesce(request ->> 'end_reason', 'lifted') in ('lifted', 'reactivated') then
      closing_reason := coalesce(request ->> 'end_reason', 'lifted');
    else
      perform mentoring.raise_error('invalid_input', 'end_reason is lifted or reactivated',
        jsonb_build_object('field', 'end_reason'));
    end if;
    update mentoring.pause_periods p
    set ended_at = changed_at,
        end_date = greatest(today, p.start_date),
        end_reason = closing_reason,
        ended_by = actor.user_id,
        ended_by_kind = actor.kind,
        end_note = note
    where p.id = old.open_pause_id;
    touched_pause := old.open_pause_id;
    new.open_pause_id := null;
  end if;

  if new.status = 'paused' then
    expected_return := (request ->> 'expected_return_date')::date;
    if expected_return <= today or expected_return > today + 365 then
      perform mentoring.raise_error('invalid_input',
        format('expected_return_date must be after %s and at most 365 days later', today),
        jsonb_build_object('field', 'expected_return_date', 'start_date', today));
    end if;
    findings := mentoring.pause_findings(old.id);
    if jsonb_path_exists(findings, '$[*] ? (@.blocking == true)') then
      if not force then
        perform mentoring.raise_error('precondition_failed',
          'a pause precondition blocks this pause',
          jsonb_build_object('mentor_id', old.id, 'findings', findings),
          'a coordinator or admin can pause anyway with force => true');
      end if;
      forced := true;
    end if;
    insert into mentoring.pause_periods
      (mentor_id, start_date, expected_return_date, reason, started_at, started_by,
       started_by_kind, forced)
    values (old.id, today, expected_return, note, changed_at, actor.user_id, actor.kind, forced)
    returning id into touched_pause;
    new.open_pause_id := touched_pause;
  end if;

  new.status_version := old.status_version + 1;
  new.status_changed_at := changed_at;
  insert into mentoring.status_events
    (mentor_id, sequence, from_status, to_status, reason, actor_user_id, actor_kind,
     database_role, forced, findings, idempotency_key, pause_id, occurred_at)
  values
    (old.id, new.status_version, old.status, new.status, note, actor.user_id, actor.kind,
     mentoring.request_role(), forced, findings, (request ->> 'idempotency_key')::uuid,
     touched_pause, changed_at)
  returning * into event;
  perform mentoring.notify_coordinators(event, new);
  return new;
end
$$;

drop function mentoring.wake_relays();
drop function mentoring.relay_fence_lock();
drop function mentoring.relay_awake_lock();
drop function mentoring.is_certified(uuid, date);
drop function mentoring.refusal(
  uuid, mentoring.mentor_status, mentoring.mentor_status, mentoring.actor_kind, uuid,
  mentoring.transitions, boolean, uuid, boolean, boolean, date);
drop type mentoring.status_change;

-- The policies over set-returning helpers.
create function mentoring.administered_organizations()
  returns setof uuid
  language sql stable security definer
  set search_path = pg_catalog, pg_temp
as $$
  select s.organization_id
  from mentoring.organization_staff s
  where s.user_id = (select auth.uid()) and s.role = 'admin'
$$;

create function mentoring.coordinated_mentors()
  returns setof uuid
  language sql stable security definer
  set search_path = pg_catalog, pg_temp
as $$
  select c.mentor_id
  from mentoring.mentor_coordinators c
  where c.coordinator_id = (select auth.uid())
$$;

create function mentoring.visible_mentors()
  returns setof uuid
  language sql stable security definer
  set search_path = pg_catalog, pg_temp
as $$
  select m.id from mentoring.mentors m where m.user_id = (select auth.uid())
  union
  select mentoring.coordinated_mentors()
  union
  select m.id from mentoring.mentors m
  where m.organization_id in (select mentoring.administered_organizations())
$$;

create function mentoring.member_organizations()
  returns setof uuid
  language sql stable security definer
  set search_path = pg_catalog, pg_temp
as $$
  select s.organization_id from mentoring.organization_staff s
  where s.user_id = (select auth.uid())
  union
  select m.organization_id from mentoring.mentors m
  where m.user_id = (select auth.uid())
$$;

revoke execute on function
  mentoring.administered_organizations(), mentoring.coordinated_mentors(),
  mentoring.visible_mentors(), mentoring.member_organizations()
  from public;
grant execute on function
  mentoring.administered_organizations(), mentoring.coordinated_mentors(),
  mentoring.visible_mentors(), mentoring.member_organizations()
  to authenticated, service_role;

drop policy members_see_their_organization on mentoring.organizations;
create policy members_see_their_organization on mentoring.organizations
  for select to authenticated
  using (id in (select mentoring.member_organizations()));

drop policy staff_see_themselves_and_admins_their_staff on mentoring.organization_staff;
create policy staff_see_themselves_and_admins_their_staff on mentoring.organization_staff
  for select to authenticated
  using (
    user_id = (select auth.uid())
    or organization_id in (select mentoring.administered_organizations())
  );

drop policy mentor_coordinator_or_admin_sees_the_mentor on mentoring.mentors;
create policy mentor_coordinator_or_admin_sees_the_mentor on mentoring.mentors
  for select to authenticated
  using (id in (select mentoring.visible_mentors()));

drop policy mentor_coordinator_or_admin_changes_the_status on mentoring.mentors;
create policy mentor_coordinator_or_admin_changes_the_status on mentoring.mentors
  for update to authenticated
  using (id in (select mentoring.visible_mentors()))
  with check (id in (select mentoring.visible_mentors()));

drop policy visible_mentors_assignments on mentoring.mentor_coordinators;
create policy visible_mentors_assignments on mentoring.mentor_coordinators
  for select to authenticated
  using (mentor_id in (select mentoring.visible_mentors()));

drop policy visible_mentors_certifications on mentoring.certifications;
create policy visible_mentors_certifications on mentoring.certifications
  for select to authenticated
  using (mentor_id in (select mentoring.visible_mentors()));

drop policy visible_mentors_pauses on mentoring.pause_periods;
create policy visible_mentors_pauses on mentoring.pause_periods
  for select to authenticated
  using (mentor_id in (select mentoring.visible_mentors()));

drop policy visible_mentors_events on mentoring.status_events;
create policy visible_mentors_events on mentoring.status_events
  for select to authenticated
  using (mentor_id in (select mentoring.visible_mentors()));

drop function mentoring.caller_sees_mentor(uuid);
drop function mentoring.caller_organizations();
drop function mentoring.caller_administered_organizations();

notify pgrst, 'reload schema';
