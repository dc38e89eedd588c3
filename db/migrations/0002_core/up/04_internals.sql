-- Internal functions and triggers: the state machine, pause records, audit and
-- notifications. Everything here is in the unexposed mentoring schema.
--
-- The state machine runs in a trigger on mentors.status, so that every path obeys it:
-- the api functions, the scheduler, a direct UPDATE as authenticated, a DBA in psql.
-- The api functions pass their arguments (reason, force, ...) to the trigger in the
-- transaction-local setting mentoring.transition_request.

-- Errors ------------------------------------------------------------------------------

-- Raises an error PostgREST turns into {code, message, details, hint} with the HTTP
-- status of mentoring.error_codes. details is JSON, sent as a string.
create function mentoring.raise_error(
  code text, message text, details jsonb default null, hint text default null
)
  returns void
  language plpgsql volatile
  set search_path = ''
as $$
declare
  status_code integer;
begin
  select e.http_status into status_code from mentoring.error_codes e where e.code = raise_error.code;
  if status_code is null then
    raise exception 'mentoring.raise_error: unknown error code %', raise_error.code;
  end if;
  raise sqlstate 'PGRST' using
    message = json_build_object(
      'code', raise_error.code,
      'message', raise_error.message,
      'details', raise_error.details::text,
      'hint', raise_error.hint
    )::text,
    detail = json_build_object('status', status_code, 'headers', json_build_object())::text;
end
$$;

-- Raises a refusal from mentoring.transition_refusal; does nothing for null.
create function mentoring.raise_refusal(refusal jsonb)
  returns void
  language plpgsql volatile
  set search_path = ''
as $$
begin
  if refusal is not null then
    perform mentoring.raise_error(
      refusal ->> 'code', refusal ->> 'message', refusal -> 'details', refusal ->> 'hint');
  end if;
end
$$;

-- Trimmed text, or null when blank; refused when required and missing, or too long.
create function mentoring.clean_text(value text, field text, required boolean)
  returns text
  language plpgsql stable
  set search_path = ''
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

-- Time and certification ------------------------------------------------------------

create function mentoring.organization_today(organization_id uuid)
  returns date
  language sql stable security definer
  set search_path = ''
as $$
  select (now() at time zone o.time_zone)::date
  from mentoring.organizations o
  where o.id = organization_today.organization_id
$$;
comment on function mentoring.organization_today(uuid) is
  'Today''s date in the organization''s time zone.';

-- The unbroken stretch of certification covering on_date, or null when not certified.
create function mentoring.certification_coverage(mentor_id uuid, on_date date)
  returns daterange
  language sql stable
  set search_path = ''
as $$
  select covered
  from unnest((
    select range_agg(c.valid_during)
    from mentoring.certifications c
    where c.mentor_id = certification_coverage.mentor_id
  )) as covered
  where covered @> certification_coverage.on_date
$$;

-- Who is asking -------------------------------------------------------------------------

-- The role the request runs as: SET ROLE's (PostgREST, our wrappers), else the login role.
-- It stays the caller's inside SECURITY DEFINER functions, unlike current_user.
create function mentoring.request_role()
  returns text
  language sql stable
  set search_path = ''
as $$
  select coalesce(nullif(current_setting('role'), 'none'), session_user)
$$;

-- Who is calling, as a key. 'system:<role>' for the owner's side (a DBA, pg_cron; any
-- superuser) and for service_role; 'user:<uuid>' for a signed-in user (authenticated, or
-- a role that inherits it). Anything else, anon included, is unauthenticated: an unknown
-- role never counts as the system. 'usage' (not 'member') keeps PostgREST's NOINHERIT
-- authenticator out.
create function mentoring.caller_key()
  returns text
  language plpgsql stable
  set search_path = ''
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

-- The caller's relationship to a mentor. Roles come from tables, never from the JWT.
-- On their own record a person is the mentor, whatever staff role they also hold.
create function mentoring.resolve_actor(
  mentor mentoring.mentors, out kind mentoring.actor_kind, out user_id uuid
)
  language plpgsql stable security definer
  set search_path = ''
as $$
begin
  if mentoring.caller_key() like 'system:%' then
    kind := 'system';
    return;
  end if;
  user_id := auth.uid();
  if mentor.user_id = resolve_actor.user_id then
    kind := 'mentor';
  elsif exists (
    select from mentoring.organization_staff s
    where s.organization_id = mentor.organization_id
      and s.user_id = resolve_actor.user_id
      and s.role = 'admin'
  ) then
    kind := 'admin';
  elsif exists (
    select from mentoring.mentor_coordinators c
    where c.mentor_id = mentor.id and c.coordinator_id = resolve_actor.user_id
  ) then
    kind := 'coordinator';
  else
    perform mentoring.raise_error('mentor_not_found', 'no such mentor',
      jsonb_build_object('mentor_id', mentor.id));
  end if;
end
$$;

-- The state machine -------------------------------------------------------------------

-- Why this actor may not move this mentor to target today, as an error object;
-- null when the transition is allowed. The one place the rules are evaluated.
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
  set search_path = ''
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

-- The arguments the api function passed for this mentor's transition, if any.
create function mentoring.transition_request(mentor_id uuid)
  returns jsonb
  language sql stable
  set search_path = ''
as $$
  select request
  from (
    select nullif(current_setting('mentoring.transition_request', true), '')::jsonb as request
  ) s
  where request ->> 'mentor_id' is null
     or (request ->> 'mentor_id')::uuid = transition_request.mentor_id
$$;

-- A certification change and a transition on the same mentor run one after the other:
-- the lock taken here conflicts with the one every transition holds, so a transition
-- never decides on a certification another transaction is changing. NO KEY UPDATE (not
-- SHARE): two certification writers for one mentor queue rather than both holding a
-- shared lock each would later have to upgrade.
create function mentoring.certifications_lock_mentor()
  returns trigger
  language plpgsql security definer
  set search_path = ''
as $$
begin
  perform from mentoring.mentors m
  where m.id in (old.mentor_id, new.mentor_id)
  order by m.id
  for no key update;
  return coalesce(new, old);
end
$$;

create trigger certification_changes_wait_for_transitions
  before insert or update or delete on mentoring.certifications
  for each row execute function mentoring.certifications_lock_mentor();

-- Pause preconditions -----------------------------------------------------------------

-- A check function is trusted when the owner of mentoring.pause_preconditions owns it
-- and it is STABLE or IMMUTABLE (so it cannot write).
create function mentoring.is_trusted_check(check_fn regproc)
  returns boolean
  language sql stable
  set search_path = ''
as $$
  select coalesce((
    select p.proowner = c.relowner and p.provolatile in ('s', 'i')
    from pg_catalog.pg_proc p, pg_catalog.pg_class c
    where p.oid = check_fn and c.oid = 'mentoring.pause_preconditions'::regclass), false)
$$;

create function mentoring.pause_preconditions_validate()
  returns trigger
  language plpgsql
  set search_path = ''
as $$
declare
  check_fn regprocedure := to_regprocedure(new.check_function || '(uuid)');
begin
  if check_fn is null or not exists (
    select from pg_catalog.pg_proc p
    where p.oid = check_fn
      and p.proretset
      and p.prorettype = 'mentoring.precondition_finding'::regtype
  ) then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('%s(mentor_id uuid) returning setof mentoring.precondition_finding '
                       'does not exist', new.check_function);
  end if;
  if not mentoring.is_trusted_check(check_fn::regproc) then
    raise exception using
      errcode = 'invalid_parameter_value',
      message = format('%s must be STABLE and owned by the owner of '
                       'mentoring.pause_preconditions (it runs with that role''s rights)',
                       check_fn);
  end if;
  new.check_function := check_fn::regproc::text;
  return new;
end
$$;

create trigger validate_check_function
  before insert or update of check_function on mentoring.pause_preconditions
  for each row execute function mentoring.pause_preconditions_validate();

-- Every enabled check's findings for a mentor, as a JSON array.
create function mentoring.pause_findings(mentor_id uuid)
  returns jsonb
  language plpgsql volatile security definer
  set search_path = ''
as $$
declare
  registered record;
  found_now jsonb;
  findings jsonb := '[]';
begin
  for registered in
    select p.name, to_regprocedure(p.check_function || '(uuid)')::regproc as check_fn
    from mentoring.pause_preconditions p
    where p.enabled
    order by p.name
  loop
    -- checks run as the table owner: only the owner's own read-only functions may run
    -- a misconfiguration, not the caller's fault: a server error (500), not a 403
    if not mentoring.is_trusted_check(registered.check_fn) then
      raise exception using
        errcode = 'object_not_in_prerequisite_state',
        message = format('pause precondition %s: %s is missing, not owned by the owner of '
                         'mentoring.pause_preconditions, or not STABLE',
                         registered.name, registered.check_fn);
    end if;
    execute format(
      'select coalesce(jsonb_agg(jsonb_build_object(''check'', $2, ''code'', f.code, '
      '''message'', f.message, ''blocking'', coalesce(f.blocking, true), '
      '''details'', f.details)), ''[]'') from %s($1) f',
      registered.check_fn)
      into found_now
      using pause_findings.mentor_id, registered.name;
    findings := findings || found_now;
  end loop;
  return findings;
end
$$;

-- Notifications -------------------------------------------------------------------------

-- Who hears about a mentor: the assigned coordinators but the actor; the organization's
-- admins (but the actor) when no coordinator is assigned.
create function mentoring.notification_recipients(mentor mentoring.mentors, actor_user_id uuid)
  returns uuid[]
  language sql stable security definer
  set search_path = ''
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

-- One outbox row per recipient, then one constant wake-up per transaction (pg_notify
-- folds duplicates); the outbox row is the truth.
create function mentoring.notify_coordinators(event mentoring.status_events, mentor mentoring.mentors)
  returns integer
  language plpgsql volatile security definer
  set search_path = ''
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

-- Triggers on mentors ---------------------------------------------------------------------

create function mentoring.mentors_before_insert()
  returns trigger
  language plpgsql
  set search_path = ''
as $$
begin
  if new.status = 'paused' then
    perform mentoring.raise_error('invalid_input',
      'a new mentor starts active or expired_cert; pause them afterwards',
      jsonb_build_object('field', 'status'));
  end if;
  new.open_pause_id := null;
  new.status_version := 0;
  new.status_changed_at := now();
  return new;
end
$$;

create trigger new_mentor_starts_clean
  before insert on mentoring.mentors
  for each row execute function mentoring.mentors_before_insert();

-- Checked at commit, so that the certification can be recorded after the mentor.
create function mentoring.mentors_new_active_is_certified()
  returns trigger
  language plpgsql security definer
  set search_path = ''
as $$
declare
  mentor mentoring.mentors;
begin
  select m.* into mentor from mentoring.mentors m where m.id = new.id;
  if mentor.status = 'active' and mentoring.certification_coverage(
       mentor.id, mentoring.organization_today(mentor.organization_id)) is null then
    perform mentoring.raise_error('certification_lapsed',
      'a new mentor can only be active with a valid certification',
      jsonb_build_object('mentor_id', mentor.id),
      'insert the certification in the same transaction, or start as expired_cert');
  end if;
  return null;
end
$$;

create constraint trigger new_active_mentor_is_certified
  after insert on mentoring.mentors
  deferrable initially deferred
  for each row execute function mentoring.mentors_new_active_is_certified();

-- The state machine, whichever path the change takes.
create function mentoring.mentors_before_update()
  returns trigger
  language plpgsql security definer
  set search_path = ''
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

create trigger state_machine
  before update on mentoring.mentors
  for each row execute function mentoring.mentors_before_update();

-- The audit trail is append-only ----------------------------------------------------------

create function mentoring.refuse_audit_change()
  returns trigger
  language plpgsql
  set search_path = ''
as $$
begin
  perform mentoring.raise_error('forbidden',
    format('status events are append-only: %s is refused', lower(tg_op)));
  return null;
end
$$;

create trigger append_only
  before update or delete on mentoring.status_events
  for each row execute function mentoring.refuse_audit_change();

create trigger append_only_truncate
  before truncate on mentoring.status_events
  for each statement execute function mentoring.refuse_audit_change();

-- Shared by the api write functions ---------------------------------------------------------

-- For a repeated idempotency key: the first call's result. For a new key: null, and the
-- key is claimed (a concurrent call with the same key waits for this one to finish).
create function mentoring.idempotent_replay(operation text, key uuid, arguments jsonb)
  returns jsonb
  language plpgsql volatile security definer
  set search_path = ''
as $$
declare
  this_caller text;
  stored mentoring.idempotency_keys;
begin
  if key is null then
    return null;
  end if;
  this_caller := mentoring.caller_key();
  insert into mentoring.idempotency_keys (caller, key, operation, arguments)
  values (this_caller, idempotent_replay.key, idempotent_replay.operation, idempotent_replay.arguments)
  on conflict do nothing;
  if found then
    return null;
  end if;
  select k.* into stored
  from mentoring.idempotency_keys k
  where k.caller = this_caller and k.key = idempotent_replay.key;
  if stored.operation <> operation or stored.arguments <> arguments then
    perform mentoring.raise_error('idempotency_conflict',
      'this idempotency key was already used with other arguments',
      jsonb_build_object('idempotency_key', key, 'operation', stored.operation),
      'use a new key for a new request');
  end if;
  return stored.result;
end
$$;

create function mentoring.idempotent_record(key uuid, result jsonb)
  returns jsonb
  language plpgsql volatile security definer
  set search_path = ''
as $$
begin
  if key is not null then
    update mentoring.idempotency_keys k
    set result = idempotent_record.result
    where k.caller = mentoring.caller_key() and k.key = idempotent_record.key;
  end if;
  return result;
end
$$;

create function mentoring.transition_result(
  mentor mentoring.mentors, previous_status mentoring.mentor_status, changed boolean
)
  returns jsonb
  language sql stable
  set search_path = ''
as $$
  select jsonb_build_object(
    'mentor_id', mentor.id,
    'changed', changed,
    'previous_status', previous_status,
    'status', mentor.status,
    'status_since', mentor.status_changed_at,
    'event', case when changed then (
      select to_jsonb(e) from mentoring.status_events e
      where e.mentor_id = mentor.id and e.sequence = mentor.status_version) end,
    'open_pause', (
      select to_jsonb(p) - 'open_id' from mentoring.pause_periods p
      where p.id = mentor.open_pause_id))
$$;

-- Lock the mentor, check the entry status, and run the transition through the trigger.
-- Runs as the caller: RLS decides which mentors exist for them.
create function mentoring.request_transition(
  mentor_id uuid,
  target mentoring.mentor_status,
  allowed_from mentoring.mentor_status[],
  request jsonb
)
  returns jsonb
  language plpgsql volatile
  set search_path = ''
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

-- The body of every idempotent write in api: replay a repeated key, else transition and
-- remember the result under the key.
create function mentoring.idempotent_transition(
  operation text,
  idempotency_key uuid,
  arguments jsonb,
  target mentoring.mentor_status,
  allowed_from mentoring.mentor_status[]
)
  returns jsonb
  language plpgsql volatile
  set search_path = ''
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
  return mentoring.idempotent_record(idempotency_key, mentoring.request_transition(
    (arguments ->> 'mentor_id')::uuid, target, allowed_from,
    arguments || jsonb_build_object('idempotency_key', idempotency_key)));
end
$$;

-- Idempotency keys are kept long enough for any sensible retry; the scheduler purges them.
create function mentoring.purge_idempotency_keys(older_than interval default '7 days')
  returns integer
  language sql volatile security definer
  set search_path = ''
as $$
  with purged as (
    delete from mentoring.idempotency_keys k
    where k.created_at < now() - purge_idempotency_keys.older_than
    returning 1
  )
  select count(*)::integer from purged
$$;
