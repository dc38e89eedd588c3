-- The state machine chains each event it writes, marks its own writes of the audit tables
-- (03_guards.sql refuses every other), and every notification carries its event's hash.
-- Everything else is 0006's, unchanged: one set-based pass per statement.

-- The previous event of each changed mentor is read through (mentor_id, sequence), under
-- the row lock of the mentor that the UPDATE holds: no other lock, no per-row loop.
create or replace function mentoring.mentors_apply_transitions()
  returns trigger
  language plpgsql security definer
  set search_path = pg_catalog, pg_temp
  -- plans depend on how many rows changed: no JIT compiling per statement (a sweep of 10k
  -- mentors at 1M: 1.5 s with it, 1.2 s without), one plan kept for every size
  set jit = off
  set plan_cache_mode = force_generic_plan
as $$
declare
  this_caller text := mentoring.caller_key();  -- refuses callers who are nobody
  caller_id uuid;
  given jsonb := coalesce(
    nullif(current_setting('mentoring.transition_request', true), '')::jsonb, '{}');
  changes mentoring.status_change[];
  pausing boolean;
  refused jsonb;
  findings_by_mentor jsonb := '{}';
  notified boolean;
  api_result jsonb;
  result_status mentoring.mentor_status;
  database_role text := mentoring.request_role();
begin
  if this_caller not like 'system:%' then
    caller_id := auth.uid();
  end if;

  -- The changes, with who acts on each mentor: on their own record a person is the mentor,
  -- whatever staff role they also hold. Roles come from tables, never from the JWT.
  select array_agg(row(
      n.id, n.organization_id, o.user_id, o.status, n.status, n.status_version,
      n.status_changed_at, o.open_pause_id, n.open_pause_id,
      (now() at time zone org.time_zone)::date,
      mentoring.is_certified(n.id, (now() at time zone org.time_zone)::date),
      case
        when caller_id is null then 'system'
        when o.user_id = caller_id then 'mentor'
        when exists (
          select from mentoring.organization_staff s
          where s.organization_id = n.organization_id and s.user_id = caller_id
            and s.role = 'admin') then 'admin'
        when exists (
          select from mentoring.mentor_coordinators c
          where c.mentor_id = n.id and c.coordinator_id = caller_id) then 'coordinator'
      end::mentoring.actor_kind,
      caller_id,
      -- the api function's arguments, when they are for this mentor
      case when given ->> 'mentor_id' is null or given ->> 'mentor_id' = n.id::text
           then given else '{}' end
    )::mentoring.status_change order by n.id),
    bool_or(n.status = 'paused')
  into changes, pausing
  from before_rows o
  join after_rows n on n.id = o.id
  join mentoring.organizations org on org.id = n.organization_id
  where n.status <> o.status;
  if changes is null then
    return null;
  end if;

  -- The first refusal, in this order: who may see the mentor, the rules, the reason, how a
  -- pause ends, the expected return.
  select problem.refusal into refused
  from (
    select 1 as step, ch.mentor_id, jsonb_build_object('code', 'mentor_not_found',
             'message', 'no such mentor', 'details', jsonb_build_object('mentor_id', ch.mentor_id))
             as refusal
    from unnest(changes) ch where ch.actor_kind is null
    union all
    select 2, ch.mentor_id, mentoring.refusal(
      ch.mentor_id, ch.from_status, ch.to_status, ch.actor_kind, ch.actor_user_id, t,
      exists (select from mentoring.transitions a
              where a.from_status = ch.from_status and a.to_status = ch.to_status),
      (select p.started_by from mentoring.pause_periods p where p.id = ch.closed_pause_id),
      coalesce((ch.request ->> 'force')::boolean, false), ch.certified, ch.today)
    from unnest(changes) ch
    left join mentoring.transitions t
      on t.from_status = ch.from_status and t.to_status = ch.to_status
     and t.actor_kind = ch.actor_kind
    where ch.actor_kind is not null
    union all
    select 3, ch.mentor_id,
           mentoring.text_refusal(ch.request ->> 'reason', 'reason', ch.to_status = 'paused')
    from unnest(changes) ch
    union all
    select 4, ch.mentor_id, jsonb_build_object('code', 'invalid_input',
             'message', 'end_reason is lifted or reactivated',
             'details', jsonb_build_object('field', 'end_reason'))
    from unnest(changes) ch
    where ch.from_status = 'paused' and ch.to_status <> 'expired_cert'
      and coalesce(ch.request ->> 'end_reason', 'lifted') not in ('lifted', 'reactivated')
    union all
    select 5, ch.mentor_id, jsonb_build_object('code', 'invalid_input',
             'message', format('expected_return_date must be after %s and at most 365 days later',
                               ch.today),
             'details', jsonb_build_object('field', 'expected_return_date',
                                           'start_date', ch.today))
    from unnest(changes) ch
    where ch.to_status = 'paused'
      and ((ch.request ->> 'expected_return_date')::date <= ch.today
           or (ch.request ->> 'expected_return_date')::date > ch.today + 365)
  ) problem
  where problem.refusal is not null
  order by problem.step, problem.mentor_id
  limit 1;
  perform mentoring.raise_refusal(refused);

  -- Preconditions of a manual pause: a blocking finding refuses it unless forced.
  if pausing and exists (select from mentoring.pause_preconditions p where p.enabled) then
    select coalesce(
             jsonb_object_agg(ch.mentor_id, mentoring.pause_findings(ch.mentor_id)), '{}')
    into findings_by_mentor
    from unnest(changes) ch where ch.to_status = 'paused';
    select jsonb_build_object('code', 'precondition_failed',
             'message', 'a pause precondition blocks this pause',
             'details', jsonb_build_object('mentor_id', ch.mentor_id,
                                           'findings', findings_by_mentor -> ch.mentor_id::text),
             'hint', 'a coordinator or admin can pause anyway with force => true')
    into refused
    from unnest(changes) ch
    where jsonb_path_exists(findings_by_mentor -> ch.mentor_id::text,
                            '$[*] ? (@.blocking == true)')
      and not coalesce((ch.request ->> 'force')::boolean, false)
    order by ch.mentor_id
    limit 1;
    perform mentoring.raise_refusal(refused);
  end if;

  -- The writes, in one statement: the pauses left are closed and the pauses taken opened,
  -- one audit event per change, chained to the mentor's previous one, one outbox row per
  -- recipient; and the api's result. Only this statement may write the pauses and the
  -- events (mentoring.audit_writer, checked by the guards of 03_guards.sql).
  perform set_config('mentoring.audit_writer', 'state_machine', true);
  with closed as (
    update mentoring.pause_periods p
    set ended_at = ch.changed_at,
        end_date = greatest(ch.today, p.start_date),
        end_reason = case when ch.to_status = 'expired_cert' then 'certification_expired'
                          else coalesce(ch.request ->> 'end_reason', 'lifted')
                     end::mentoring.pause_end_reason,
        ended_by = ch.actor_user_id,
        ended_by_kind = ch.actor_kind,
        end_note = nullif(btrim(ch.request ->> 'reason'), '')
    from unnest(changes) ch
    where ch.closed_pause_id is not null and p.id = ch.closed_pause_id
    returning p.*
  ), opened as (
    insert into mentoring.pause_periods
      (id, mentor_id, start_date, expected_return_date, reason, started_at, started_by,
       started_by_kind, forced)
    select ch.opened_pause_id, ch.mentor_id, ch.today,
           (ch.request ->> 'expected_return_date')::date, btrim(ch.request ->> 'reason'),
           ch.changed_at, ch.actor_user_id, ch.actor_kind,
           jsonb_path_exists(coalesce(findings_by_mentor -> ch.mentor_id::text, '[]'),
                             '$[*] ? (@.blocking == true)')
    from unnest(changes) ch
    where ch.to_status = 'paused'
    returning *
  ), pauses as (
    select * from closed
    union all
    select * from opened
  ), written as (
    select ch.mentor_id, ch.sequence, ch.from_status, ch.to_status,
           nullif(btrim(ch.request ->> 'reason'), '') as reason, ch.actor_user_id,
           ch.actor_kind, database_role,
           ch.to_status = 'paused' and jsonb_path_exists(
             coalesce(findings_by_mentor -> ch.mentor_id::text, '[]'),
             '$[*] ? (@.blocking == true)') as forced,
           coalesce(findings_by_mentor -> ch.mentor_id::text, '[]') as findings,
           (ch.request ->> 'idempotency_key')::uuid as idempotency_key,
           coalesce(ch.opened_pause_id, ch.closed_pause_id) as pause_id,
           ch.changed_at as occurred_at,
           (select previous.hash from mentoring.status_events previous
            where previous.mentor_id = ch.mentor_id
              and previous.sequence = ch.sequence - 1) as prev_hash,
           row(p.*)::mentoring.pause_periods as pause
    from unnest(changes) ch
    left join pauses p on p.id = coalesce(ch.opened_pause_id, ch.closed_pause_id)
  ), events as (
    insert into mentoring.status_events
      (mentor_id, sequence, from_status, to_status, reason, actor_user_id, actor_kind,
       database_role, forced, findings, idempotency_key, pause_id, occurred_at, prev_hash,
       hash)
    select w.mentor_id, w.sequence, w.from_status, w.to_status, w.reason, w.actor_user_id,
           w.actor_kind, w.database_role, w.forced, w.findings, w.idempotency_key,
           w.pause_id, w.occurred_at, w.prev_hash,
           mentoring.status_event_hash(w.prev_hash, w.mentor_id, w.sequence, w.from_status,
             w.to_status, w.reason, w.actor_user_id, w.actor_kind, w.database_role, w.forced,
             w.findings, w.idempotency_key, w.pause_id, w.occurred_at, w.pause)
    from written w
    returning *
  ), sent as (
    insert into mentoring.outbox (event_id, recipient_id, kind, payload)
    select e.id, a.recipient_id, 'status_changed', jsonb_build_object(
      'event_id', e.id,
      'kind', 'status_changed',
      'sequence', e.sequence,
      'hash', encode(e.hash, 'hex'),
      'mentor', jsonb_build_object(
        'id', m.id, 'display_name', m.display_name, 'organization_id', m.organization_id),
      'recipient_id', a.recipient_id,
      'from_status', e.from_status,
      'to_status', e.to_status,
      'reason', e.reason,
      'actor', jsonb_build_object('user_id', e.actor_user_id, 'kind', e.actor_kind),
      'occurred_at', e.occurred_at,
      'expected_return_date', p.expected_return_date,
      'forced', e.forced,
      'findings', e.findings)
    from events e
    join after_rows m on m.id = e.mentor_id
    left join pauses p on p.id = e.pause_id
    -- a subplan per event: index lookups for each mentor, whatever the plan thinks of sizes
    cross join lateral unnest(array(
      select audience.recipient_id from mentoring.notification_audience audience
      where audience.mentor_id = e.mentor_id
        and audience.recipient_id is distinct from e.actor_user_id)) as a(recipient_id)
    order by e.mentor_id, a.recipient_id
    returning 1
  )
  select exists (select from sent),
         (select jsonb_build_object(
                   'mentor_id', m.id,
                   'changed', true,
                   'previous_status', e.from_status,
                   'status', m.status,
                   'status_since', m.status_changed_at,
                   'event', mentoring.event_json(e::mentoring.status_events),
                   'open_pause', (select to_jsonb(p) - 'open_id' from opened p
                                  where p.id = m.open_pause_id))
          from events e join after_rows m on m.id = e.mentor_id
          where e.mentor_id = (given ->> 'mentor_id')::uuid),
         (select e.to_status from events e where e.mentor_id = (given ->> 'mentor_id')::uuid)
  into notified, api_result, result_status;
  perform set_config('mentoring.audit_writer', '', true);
  if notified then
    perform mentoring.wake_relays();
  end if;

  -- The api function's result (request_transition returns it), also kept by an idempotency
  -- key the same caller claimed for exactly this request.
  if given ->> 'mentor_id' is not null then
    perform set_config('mentoring.transition_result', coalesce(api_result::text, ''), true);
    if given ->> 'idempotency_key' is not null and api_result is not null then
      update mentoring.idempotency_keys k
      set result = api_result
      where k.caller = this_caller
        and k.key = (given ->> 'idempotency_key')::uuid
        and k.result is null
        and k.arguments = given - 'idempotency_key'
        and (mentoring.idempotent_operation(k.operation)).target = result_status;
    end if;
  end if;
  return null;
end
$$;

-- The api's events stay as they were: the hashes travel in the notifications.
create or replace function mentoring.event_json(event mentoring.status_events)
  returns jsonb
  language plpgsql immutable
  set search_path = pg_catalog, pg_temp
as $$
begin
  return to_jsonb(event) - 'id' - 'transaction_id' - 'prev_hash' - 'hash';
end
$$;

-- A reminder names the event that started the pause: its event_sequence and hash (not
-- "sequence", which orders status changes). An open pause's event is its mentor's latest,
-- so the receivers keep a chain head.
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
           (now() at time zone o.time_zone)::date as today,
           started.sequence as event_sequence, started.hash as event_hash
    from mentoring.pause_periods p
    join mentoring.mentors m on m.open_pause_id = p.id
    join mentoring.organizations o on o.id = m.organization_id
    left join mentoring.status_events started
      on started.mentor_id = m.id and started.sequence = m.status_version
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
      'event_sequence', due.event_sequence,
      'hash', encode(due.event_hash, 'hex'),
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
