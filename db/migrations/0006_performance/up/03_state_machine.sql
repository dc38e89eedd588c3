-- The state machine, set-based: one code path for a single transition and for a batch.
--
-- A BEFORE ROW trigger only stamps each changed row (its next status_version, when, and
-- the id of the pause it opens). An AFTER STATEMENT trigger, reading the statement's
-- transition tables, then checks every change against the rules and writes the pause
-- records, the audit events and the outbox rows with a few set-based statements: a sweep
-- expiring ten thousand mentors costs a handful of statements, not ten thousand trigger
-- runs. Any refusal aborts the whole statement, as before.

-- One status change of the current statement, with what the rules need to know.
create type mentoring.status_change as (
  mentor_id uuid,
  organization_id uuid,
  mentor_user_id uuid,
  from_status mentoring.mentor_status,
  to_status mentoring.mentor_status,
  sequence integer,
  changed_at timestamptz,
  closed_pause_id uuid,
  opened_pause_id uuid,
  today date,
  certified boolean,
  actor_kind mentoring.actor_kind,
  actor_user_id uuid,
  request jsonb
);

-- Why this change is refused, as an error object; null when the rules allow it. Pure:
-- the caller gathers the facts (the rule for this actor, whether any actor has one, who
-- started the open pause, whether the mentor is certified today), once per mentor.
create function mentoring.refusal(
  mentor_id uuid,
  from_status mentoring.mentor_status,
  to_status mentoring.mentor_status,
  actor_kind mentoring.actor_kind,
  actor_user_id uuid,
  rule mentoring.transitions,
  any_rule boolean,
  pause_started_by uuid,
  force boolean,
  certified boolean,
  today date
)
  returns jsonb
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
declare
  facts jsonb := jsonb_build_object(
    'mentor_id', mentor_id, 'current_status', from_status, 'requested_status', to_status);
begin
  if not any_rule then
    return jsonb_build_object('code', 'transition_not_allowed',
      'message', format('a mentor who is %s cannot become %s', from_status, to_status),
      'details', facts);
  end if;
  if (rule).actor_kind is null then
    return jsonb_build_object('code', 'forbidden',
      'message', format('a %s may not move a mentor from %s to %s', actor_kind, from_status,
                        to_status),
      'details', facts || jsonb_build_object('actor_kind', actor_kind));
  end if;
  if (rule).own_pause_only and pause_started_by is distinct from actor_user_id then
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
  if (rule).certification = 'valid' and not certified then
    return jsonb_build_object('code', 'certification_lapsed',
      'message', format('the mentor has no valid certification on %s', today),
      'details', facts || jsonb_build_object('today', today),
      'hint', 'record a current certification first');
  elsif (rule).certification = 'lapsed' and certified then
    return jsonb_build_object('code', 'certification_valid',
      'message', format('the certification is valid on %s: nothing to expire', today),
      'details', facts || jsonb_build_object('today', today, 'valid_until',
        upper(mentoring.certification_coverage(mentor_id, today)) - 1));
  end if;
  return null;
end
$$;

-- Certified on a date: some certification covers it (back-to-back ones count as one, so
-- one row covering the date is enough). An indexed EXISTS.
create function mentoring.is_certified(mentor_id uuid, on_date date)
  returns boolean
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
begin
  return exists (
    select from mentoring.certifications c
    where c.mentor_id = is_certified.mentor_id and c.valid_during @> is_certified.on_date);
end
$$;

-- Relays are woken by NOTIFY, which serializes every notifying transaction's commit on one
-- cluster-wide lock. Busy writers skip it while a relay is draining, with two advisory
-- locks (session-wide numbers, no table touched):
--   relay_awake_lock: a draining relay holds it exclusively;
--   relay_fence_lock: every writer holds it shared until commit; a relay about to sleep
--     releases the first, takes this one exclusively (waiting for the writers in flight),
--     then claims once more before it listens.
-- A writer that finds a relay draining does not notify: that relay claims its rows before
-- it sleeps. Without a draining relay every writer notifies, as plain LISTEN expects.
-- Anyone may take advisory locks: the worst a role can do with these is to make writers
-- notify (holding the fence), or to delay a sleeping relay by up to its poll interval
-- (holding the awake lock); no row is ever lost.
create function mentoring.relay_awake_lock()
  returns bigint
  language sql immutable
  set search_path = pg_catalog, pg_temp
as $$
  select 7309953649059921001
$$;

create function mentoring.relay_fence_lock()
  returns bigint
  language sql immutable
  set search_path = pg_catalog, pg_temp
as $$
  select 7309953649059921002
$$;

create function mentoring.wake_relays()
  returns void
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
begin
  if not pg_try_advisory_xact_lock_shared(mentoring.relay_fence_lock()) then
    perform pg_notify('mentoring_outbox', '');  -- a relay is falling asleep: wake it
  elsif pg_try_advisory_lock_shared(mentoring.relay_awake_lock()) then
    perform pg_advisory_unlock_shared(mentoring.relay_awake_lock());
    perform pg_notify('mentoring_outbox', '');  -- no relay is draining
  end if;
end
$$;

-- The BEFORE ROW part: stamp each changed row; the checks and writes come after the
-- statement (mentors_apply_transitions).
create or replace function mentoring.mentors_before_update()
  returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
as $$
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
  new.status_version := old.status_version + 1;
  -- when the change happens (after the row lock), never before the previous one
  new.status_changed_at := greatest(clock_timestamp(), old.status_changed_at);
  new.open_pause_id := case when new.status = 'paused' then gen_random_uuid() end;
  return new;
end
$$;

-- Whether a text argument is fine, as an error object; null when it is: trimmed, blank is
-- null, required or not, at most 500 characters. (clean_text raises it.)
create function mentoring.text_refusal(value text, field text, required boolean)
  returns jsonb
  language plpgsql immutable
  set search_path = pg_catalog, pg_temp
as $$
declare
  cleaned text := nullif(btrim(value), '');
begin
  if cleaned is null and required then
    return jsonb_build_object('code', 'invalid_input',
      'message', format('%s is required', field),
      'details', jsonb_build_object('field', field));
  end if;
  if char_length(cleaned) > 500 then
    return jsonb_build_object('code', 'invalid_input',
      'message', format('%s is %s characters long; the limit is 500', field,
                        char_length(cleaned)),
      'details', jsonb_build_object('field', field, 'length', char_length(cleaned)));
  end if;
  return null;
end
$$;

create or replace function mentoring.clean_text(value text, field text, required boolean)
  returns text
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
begin
  perform mentoring.raise_refusal(mentoring.text_refusal(value, field, required));
  return nullif(btrim(value), '');
end
$$;

-- The AFTER STATEMENT part: every rule, then every write, for all the statement's changes,
-- in a few statements whatever their number.
create function mentoring.mentors_apply_transitions()
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
  -- one audit event per change, one outbox row per recipient; and the api's result.
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
  ), events as (
    insert into mentoring.status_events
      (mentor_id, sequence, from_status, to_status, reason, actor_user_id, actor_kind,
       database_role, forced, findings, idempotency_key, pause_id, occurred_at)
    select ch.mentor_id, ch.sequence, ch.from_status, ch.to_status,
           nullif(btrim(ch.request ->> 'reason'), ''), ch.actor_user_id, ch.actor_kind,
           database_role,
           ch.to_status = 'paused' and jsonb_path_exists(
             coalesce(findings_by_mentor -> ch.mentor_id::text, '[]'),
             '$[*] ? (@.blocking == true)'),
           coalesce(findings_by_mentor -> ch.mentor_id::text, '[]'),
           (ch.request ->> 'idempotency_key')::uuid,
           coalesce(ch.opened_pause_id, ch.closed_pause_id), ch.changed_at
    from unnest(changes) ch
    returning *
  ), pauses as (
    select * from closed
    union all
    select * from opened
  ), sent as (
    insert into mentoring.outbox (event_id, recipient_id, kind, payload)
    select e.id, a.recipient_id, 'status_changed', jsonb_build_object(
      'event_id', e.id,
      'kind', 'status_changed',
      'sequence', e.sequence,
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

create trigger apply_transitions
  after update on mentoring.mentors
  referencing old table as before_rows new table as after_rows
  for each statement execute function mentoring.mentors_apply_transitions();

-- Change one mentor's status for an api function: the UPDATE itself takes the row lock
-- (a concurrent change waits, then finds the status moved on: a clean refusal), and the
-- result comes from apply_transitions, which wrote it. Runs as the caller: RLS decides
-- which mentors exist for them. Only when nothing changed does it look at why.
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
  actor record;
  result jsonb;
  changed integer;
begin
  if mentor_id is null then
    perform mentoring.raise_error('invalid_input', 'mentor_id is required',
      jsonb_build_object('field', 'mentor_id'));
  end if;
  -- who is calling is resolved once, by apply_transitions (or below, when nothing changed)

  perform set_config('mentoring.transition_request',
    (request || jsonb_build_object('mentor_id', request_transition.mentor_id))::text, true);
  for attempt in 1..2 loop
    perform set_config('mentoring.transition_result', '', true);
    update mentoring.mentors m set status = target
    where m.id = request_transition.mentor_id and m.status = any (allowed_from)
    returning m.* into mentor;
    get diagnostics changed = row_count;
    if changed > 0 then
      perform set_config('mentoring.transition_request', '', true);
      result := nullif(current_setting('mentoring.transition_result', true), '')::jsonb;
      perform set_config('mentoring.transition_result', '', true);
      if result ->> 'mentor_id' = mentor.id::text
         and (result #>> '{event,sequence}')::integer = mentor.status_version then
        return result;
      end if;
      raise exception 'mentoring.request_transition: no result for mentor %', mentor.id;
    end if;

    -- Nothing changed: why? Under the row lock (a concurrent change finishes first).
    perform mentoring.caller_key();  -- refuses callers who are nobody before anything else
    select m.* into mentor
    from mentoring.mentors m
    where m.id = request_transition.mentor_id
    for update;
    if mentor.id is null then
      perform mentoring.raise_error('mentor_not_found', 'no such mentor',
        jsonb_build_object('mentor_id', request_transition.mentor_id));
    end if;
    if mentor.status = target and target = 'expired_cert' then
      perform set_config('mentoring.transition_request', '', true);
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
    -- the status allows it now (another change moved it back): again, under our lock
  end loop;
  -- visible but not updatable: no policy lets this caller write
  perform mentoring.raise_error('forbidden', 'you may not change this mentor',
    jsonb_build_object('mentor_id', request_transition.mentor_id));
  return null;
exception
  when lock_not_available or serialization_failure or deadlock_detected then
    perform mentoring.raise_error('concurrent_update',
      'another change to this mentor got in the way',
      jsonb_build_object('mentor_id', request_transition.mentor_id), 'retry the request');
    return null;
end
$$;

-- Folded into apply_transitions.
drop trigger record_idempotent_result on mentoring.mentors;
drop function mentoring.mentors_record_idempotent_result();
drop function mentoring.notify_coordinators(mentoring.status_events, mentoring.mentors);

-- certified_through follows certifications and the organization, not the status: a
-- status change no longer recomputes it (the expiry sweep writes no certification).
drop trigger compute_certified_through on mentoring.mentors;
create trigger compute_certified_through
  before insert or update of organization_id, certified_through on mentoring.mentors
  for each row execute function mentoring.mentors_compute_certified_through();

-- The other wake-ups go through the gate too.
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
    perform mentoring.wake_relays();
  end if;
  return requeued;
end
$$;
