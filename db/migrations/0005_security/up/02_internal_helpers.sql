-- Internal functions reveal nothing about rows the caller cannot see, and write nothing
-- the api functions would not have written themselves.

-- Today in an organization the caller may see (RLS), null otherwise: as the invoker, it
-- no longer tells a signed-in user which organization ids exist. The triggers, which run
-- as the owner, still see every organization.
alter function mentoring.organization_today(uuid) security invoker;

-- What users see of a status event: the per-mentor sequence and the times, never the
-- database-wide counters (id, transaction_id), which would show how many changes other
-- organizations made in between.
create function mentoring.event_json(event mentoring.status_events)
  returns jsonb
  language sql immutable
  set search_path = pg_catalog, pg_temp
as $$
  select pg_catalog.to_jsonb(event) - 'id' - 'transaction_id'
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

create or replace function api.get_pause_history(mentor_id uuid)
  returns jsonb
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
begin
  perform mentoring.caller_key();
  if not exists (select from mentoring.mentors m where m.id = get_pause_history.mentor_id) then
    perform mentoring.raise_error('mentor_not_found', 'no such mentor',
      jsonb_build_object('mentor_id', get_pause_history.mentor_id));
  end if;
  return jsonb_build_object(
    'mentor_id', mentor_id,
    'pauses', coalesce((
      select jsonb_agg(to_jsonb(p) - 'open_id' order by p.started_at desc, p.id)
      from mentoring.pause_periods p
      where p.mentor_id = get_pause_history.mentor_id), '[]'),
    'events', coalesce((
      select jsonb_agg(mentoring.event_json(e) order by e.sequence desc)
      from mentoring.status_events e
      where e.mentor_id = get_pause_history.mentor_id), '[]'));
end
$$;

-- Idempotency -----------------------------------------------------------------------------
--
-- A key is claimed by idempotent_replay (a concurrent call with the same key waits), and
-- its result is recorded by a trigger on the transition itself, never taken from the
-- caller. A key still without a result at commit is refused: a committed key always holds
-- the result of a real transition, by the same caller, with the same arguments, in the
-- same transaction.

-- The transitions api functions make idempotent: the status each one leads to, and the
-- arguments it remembers.
create function mentoring.idempotent_operation(
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

-- Remembered arguments are small: a reason is at most 500 characters once trimmed.
create function mentoring.idempotent_arguments_limit()
  returns integer
  language sql immutable
  set search_path = pg_catalog, pg_temp
as $$
  select 8192
$$;

create or replace function mentoring.idempotent_replay(operation text, key uuid, arguments jsonb)
  returns jsonb
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  this_caller text;
  known mentoring.mentor_status := (mentoring.idempotent_operation(operation)).target;
  stored mentoring.idempotency_keys;
begin
  if key is null then
    return null;
  end if;
  if known is null
     or jsonb_typeof(arguments) is distinct from 'object'
     or not arguments ? 'mentor_id'
     or exists (
       select from jsonb_object_keys(arguments) as given(name)
       where given.name <> all ((mentoring.idempotent_operation(operation)).argument_names))
  then
    perform mentoring.raise_error('invalid_input',
      'idempotency keys are for activate_pause, lift_pause and reactivate_mentor, with their '
      'own arguments',
      jsonb_build_object('field', 'idempotency_key', 'operation', operation));
  end if;
  if octet_length(arguments::text) > mentoring.idempotent_arguments_limit() then
    perform mentoring.raise_error('invalid_input',
      format('arguments over %s bytes cannot be kept with an idempotency key',
             mentoring.idempotent_arguments_limit()),
      jsonb_build_object('field', 'reason', 'bytes', octet_length(arguments::text)));
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

drop function mentoring.idempotent_record(uuid, jsonb);

-- After a status change that carried an idempotency key: the result, computed here from
-- what the transition wrote, goes to the key the same caller claimed for exactly this
-- request.
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

create trigger record_idempotent_result
  after update of status on mentoring.mentors
  for each row when (old.status is distinct from new.status)
  execute function mentoring.mentors_record_idempotent_result();

-- At commit: every key claimed in the transaction holds its transition's result.
-- (SECURITY DEFINER: it runs at commit, as whoever the transaction's role is then.)
create function mentoring.idempotency_keys_hold_a_result()
  returns trigger
  language plpgsql security definer
  set search_path = pg_catalog, pg_temp
as $$
begin
  if exists (
    select from mentoring.idempotency_keys k
    where k.caller = new.caller and k.key = new.key and k.result is null
  ) then
    perform mentoring.raise_error('invalid_input',
      'an idempotency key is kept only with the result of its own transition',
      jsonb_build_object('field', 'idempotency_key', 'idempotency_key', new.key));
  end if;
  return null;
end
$$;

create constraint trigger keys_hold_their_result
  after insert on mentoring.idempotency_keys
  deferrable initially deferred
  for each row execute function mentoring.idempotency_keys_hold_a_result();

-- Keys left without a result (claimed by a direct call), and counters in kept results.
delete from mentoring.idempotency_keys k where k.result is null;
update mentoring.idempotency_keys k
set result = jsonb_set(k.result, '{event}', (k.result -> 'event') - 'id' - 'transaction_id')
where jsonb_typeof(k.result -> 'event') = 'object';

-- Pause preconditions ---------------------------------------------------------------------
--
-- A check runs as the owner of mentoring.pause_preconditions, with the caller's session:
-- like ours, it must pin a search_path that ends with pg_temp.

create function mentoring.search_path_ends_with_pg_temp(config text[])
  returns boolean
  language sql immutable
  set search_path = pg_catalog, pg_temp
as $$
  select coalesce(bool_or(setting ~ '^search_path=(.*,\s*)?"?pg_temp"?\s*$'), false)
  from unnest(config) as setting
$$;

create or replace function mentoring.is_trusted_check(check_fn regproc)
  returns boolean
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  select coalesce((
    select p.proowner = c.relowner and p.provolatile in ('s', 'i')
           and mentoring.search_path_ends_with_pg_temp(p.proconfig)
    from pg_catalog.pg_proc p, pg_catalog.pg_class c
    where p.oid = check_fn and c.oid = 'mentoring.pause_preconditions'::regclass), false)
$$;

create function mentoring.untrusted_check_message(check_fn text)
  returns text
  language sql immutable
  set search_path = pg_catalog, pg_temp
as $$
  select format('%s must be STABLE, owned by the owner of mentoring.pause_preconditions '
                '(it runs with that role''s rights), and set search_path ending with pg_temp '
                '(for example: alter function %s set search_path = pg_catalog, pg_temp)',
                check_fn, check_fn)
$$;

create or replace function mentoring.pause_preconditions_validate()
  returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
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
      message = mentoring.untrusted_check_message(check_fn::regproc::text);
  end if;
  new.check_function := check_fn::regproc::text;
  return new;
end
$$;

create or replace function mentoring.pause_findings(mentor_id uuid)
  returns jsonb
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
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
    -- a misconfiguration, not the caller's fault: a server error (500), not a 403
    if not mentoring.is_trusted_check(registered.check_fn) then
      raise exception using
        errcode = 'object_not_in_prerequisite_state',
        message = format('pause precondition %s: %s', registered.name,
                         mentoring.untrusted_check_message(
                           coalesce(registered.check_fn::text, 'its function'))),
        hint = 'fix the function, or disable the precondition';
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

-- Checks registered before this revision that now refuse every manual pause.
do $$
declare
  untrusted record;
begin
  for untrusted in
    select p.name, p.check_function
    from mentoring.pause_preconditions p
    where p.enabled
      and not mentoring.is_trusted_check(to_regprocedure(p.check_function || '(uuid)')::regproc)
  loop
    raise warning 'pause precondition %: %', untrusted.name,
      mentoring.untrusted_check_message(untrusted.check_function);
  end loop;
end
$$;

-- auth.uid() runs inside our definers: unset (Supabase's own definition, which takes our
-- search_path) and a path ending with pg_temp are safe; search_path '' is not.
do $$
declare
  auth_function record;
begin
  for auth_function in
    select p.oid::regprocedure as fn
    from pg_catalog.pg_proc p
    where p.oid in (to_regprocedure('auth.uid()'), to_regprocedure('auth.jwt()'))
      and exists (select from unnest(p.proconfig) c where c like 'search_path=%')
      and not mentoring.search_path_ends_with_pg_temp(p.proconfig)
  loop
    raise warning '% sets a search_path that does not end with pg_temp: a caller''s temporary '
                  'types can run inside it, in our SECURITY DEFINER functions', auth_function.fn
      using hint = 'alter function ' || auth_function.fn::text
                   || ' set search_path = pg_catalog, pg_temp (or pyproj-rpc db bootstrap)';
  end loop;
end
$$;
