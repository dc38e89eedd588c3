-- Back to revision 0004. (Kept idempotency results keep their results without the
-- counters; keys left without a result were deleted on the way up.)

drop function mentoring.release_sweeper_lease(uuid);
drop function mentoring.take_sweeper_lease(uuid, interval);
drop table mentoring.sweeper_leases;

-- Pause preconditions, as in 0002.
create or replace function mentoring.is_trusted_check(check_fn regproc)
  returns boolean
  language sql stable
  set search_path = ''
as $$
  select coalesce((
    select p.proowner = c.relowner and p.provolatile in ('s', 'i')
    from pg_catalog.pg_proc p, pg_catalog.pg_class c
    where p.oid = check_fn and c.oid = 'mentoring.pause_preconditions'::regclass), false)
$$;

create or replace function mentoring.pause_preconditions_validate()
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

create or replace function mentoring.pause_findings(mentor_id uuid)
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

drop function mentoring.untrusted_check_message(text);
drop function mentoring.search_path_ends_with_pg_temp(text[]);

-- Idempotency, as in 0002.
drop trigger keys_hold_their_result on mentoring.idempotency_keys;
drop function mentoring.idempotency_keys_hold_a_result();
drop trigger record_idempotent_result on mentoring.mentors;
drop function mentoring.mentors_record_idempotent_result();

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

create or replace function mentoring.idempotent_replay(operation text, key uuid, arguments jsonb)
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

create or replace function mentoring.idempotent_transition(
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

drop function mentoring.idempotent_arguments_limit();
drop function mentoring.idempotent_operation(text);

-- Results, as in 0002.
create or replace function mentoring.transition_result(
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

create or replace function api.get_pause_history(mentor_id uuid)
  returns jsonb
  language plpgsql stable
  set search_path = ''
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
      select jsonb_agg(to_jsonb(e) order by e.sequence desc)
      from mentoring.status_events e
      where e.mentor_id = get_pause_history.mentor_id), '[]'));
end
$$;

drop function mentoring.event_json(mentoring.status_events);

alter function mentoring.organization_today(uuid) security definer;

alter function mentoring.is_time_zone(text) set search_path = '';
alter function mentoring.raise_error(text,text,jsonb,text) set search_path = '';
alter function mentoring.raise_refusal(jsonb) set search_path = '';
alter function mentoring.clean_text(text,text,boolean) set search_path = '';
alter function mentoring.organization_today(uuid) set search_path = '';
alter function mentoring.certification_coverage(uuid,date) set search_path = '';
alter function mentoring.request_role() set search_path = '';
alter function mentoring.caller_key() set search_path = '';
alter function mentoring.resolve_actor(mentoring.mentors) set search_path = '';
alter function mentoring.transition_refusal(mentoring.mentors,mentoring.mentor_status,mentoring.actor_kind,uuid,boolean,date) set search_path = '';
alter function mentoring.transition_request(uuid) set search_path = '';
alter function mentoring.certifications_lock_mentor() set search_path = '';
alter function mentoring.is_trusted_check(regproc) set search_path = '';
alter function mentoring.pause_preconditions_validate() set search_path = '';
alter function mentoring.pause_findings(uuid) set search_path = '';
alter function mentoring.notification_recipients(mentoring.mentors,uuid) set search_path = '';
alter function mentoring.notify_coordinators(mentoring.status_events,mentoring.mentors) set search_path = '';
alter function mentoring.mentors_before_insert() set search_path = '';
alter function mentoring.mentors_new_active_is_certified() set search_path = '';
alter function mentoring.mentors_before_update() set search_path = '';
alter function mentoring.refuse_audit_change() set search_path = '';
alter function mentoring.idempotent_replay(text,uuid,jsonb) set search_path = '';
alter function mentoring.transition_result(mentoring.mentors,mentoring.mentor_status,boolean) set search_path = '';
alter function mentoring.request_transition(uuid,mentoring.mentor_status,mentoring.mentor_status[],jsonb) set search_path = '';
alter function mentoring.idempotent_transition(text,uuid,jsonb,mentoring.mentor_status,mentoring.mentor_status[]) set search_path = '';
alter function mentoring.purge_idempotency_keys(interval) set search_path = '';
alter function mentoring.administered_organizations() set search_path = '';
alter function mentoring.coordinated_mentors() set search_path = '';
alter function mentoring.visible_mentors() set search_path = '';
alter function mentoring.member_organizations() set search_path = '';
alter function mentoring.claim_outbox(integer,interval) set search_path = '';
alter function mentoring.outbox_delivered(bigint[]) set search_path = '';
alter function mentoring.outbox_failed(bigint,uuid,text,timestamp with time zone) set search_path = '';
alter function mentoring.outbox_release(uuid,bigint[]) set search_path = '';
alter function mentoring.outbox_requeue(bigint[]) set search_path = '';
alter function mentoring.outbox_purge_delivered(interval) set search_path = '';
alter function mentoring.outbox_stats() set search_path = '';
alter function mentoring.certified_through(uuid,date) set search_path = '';
alter function mentoring.mentors_compute_certified_through() set search_path = '';
alter function mentoring.certifications_refresh_mentor() set search_path = '';
alter function mentoring.certifications_refresh_all_mentors() set search_path = '';
alter function mentoring.organizations_refresh_mentors() set search_path = '';
alter function mentoring.remind_overdue_pauses(integer) set search_path = '';
alter function api.activate_pause(uuid,text,date,boolean,uuid) set search_path = '';
alter function api.lift_pause(uuid,text,uuid) set search_path = '';
alter function api.reactivate_mentor(uuid,text,uuid) set search_path = '';
alter function api.auto_expire_for_certification(uuid) set search_path = '';
alter function api.get_current_status(uuid) set search_path = '';
alter function api.get_pause_history(uuid) set search_path = '';
alter function api.get_paused_mentors(uuid) set search_path = '';
alter function api.is_transition_allowed(text,text) set search_path = '';
alter function api.expire_lapsed_certifications(integer) set search_path = '';

revoke execute on function mentoring.idempotent_record(uuid, jsonb) from public;
grant execute on function mentoring.idempotent_record(uuid, jsonb) to authenticated, service_role;

notify pgrst, 'reload schema';
