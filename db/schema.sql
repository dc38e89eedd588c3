-- The schemas api and mentoring at revision 0013, as the migrations build them:
-- every table, function, trigger, policy and grant, in one place.
-- Generated, do not edit: `pyproj-rpc db schema` writes it from a fresh database migrated to head,
-- as printed by pg_dump 15; the test suite fails when it is stale.

--
-- Name: api; Type: SCHEMA; Schema: -; Owner: postgres
--

CREATE SCHEMA api;

ALTER SCHEMA api OWNER TO postgres;

--
-- Name: SCHEMA api; Type: COMMENT; Schema: -; Owner: postgres
--

COMMENT ON SCHEMA api IS 'pyproj-rpc RPC functions, called through PostgREST as /rpc/<name>.';

--
-- Name: mentoring; Type: SCHEMA; Schema: -; Owner: postgres
--

CREATE SCHEMA mentoring;

ALTER SCHEMA mentoring OWNER TO postgres;

--
-- Name: SCHEMA mentoring; Type: COMMENT; Schema: -; Owner: postgres
--

COMMENT ON SCHEMA mentoring IS 'Peer mentor pause management: tables and internal functions. Not exposed through PostgREST.';

--
-- Name: actor_kind; Type: TYPE; Schema: mentoring; Owner: postgres
--

CREATE TYPE mentoring.actor_kind AS ENUM (
    'mentor',
    'coordinator',
    'admin',
    'system'
);

ALTER TYPE mentoring.actor_kind OWNER TO postgres;

--
-- Name: certification_rule; Type: TYPE; Schema: mentoring; Owner: postgres
--

CREATE TYPE mentoring.certification_rule AS ENUM (
    'any',
    'valid',
    'lapsed'
);

ALTER TYPE mentoring.certification_rule OWNER TO postgres;

--
-- Name: mentor_status; Type: TYPE; Schema: mentoring; Owner: postgres
--

CREATE TYPE mentoring.mentor_status AS ENUM (
    'active',
    'paused',
    'expired_cert'
);

ALTER TYPE mentoring.mentor_status OWNER TO postgres;

--
-- Name: TYPE mentor_status; Type: COMMENT; Schema: mentoring; Owner: postgres
--

COMMENT ON TYPE mentoring.mentor_status IS 'active: may mentor. paused: on a break, with one open pause period. expired_cert: certification lapsed (or never valid); needs recertification.';

--
-- Name: pause_end_reason; Type: TYPE; Schema: mentoring; Owner: postgres
--

CREATE TYPE mentoring.pause_end_reason AS ENUM (
    'lifted',
    'reactivated',
    'certification_expired'
);

ALTER TYPE mentoring.pause_end_reason OWNER TO postgres;

--
-- Name: precondition_finding; Type: TYPE; Schema: mentoring; Owner: postgres
--

CREATE TYPE mentoring.precondition_finding AS (
	code text,
	message text,
	blocking boolean,
	details jsonb
);

ALTER TYPE mentoring.precondition_finding OWNER TO postgres;

--
-- Name: staff_role; Type: TYPE; Schema: mentoring; Owner: postgres
--

CREATE TYPE mentoring.staff_role AS ENUM (
    'coordinator',
    'admin'
);

ALTER TYPE mentoring.staff_role OWNER TO postgres;

--
-- Name: status_change; Type: TYPE; Schema: mentoring; Owner: postgres
--

CREATE TYPE mentoring.status_change AS (
	mentor_id uuid,
	organization_id uuid,
	mentor_user_id uuid,
	from_status mentoring.mentor_status,
	to_status mentoring.mentor_status,
	sequence integer,
	changed_at timestamp with time zone,
	closed_pause_id uuid,
	opened_pause_id uuid,
	today date,
	certified boolean,
	actor_kind mentoring.actor_kind,
	actor_user_id uuid,
	request jsonb
);

ALTER TYPE mentoring.status_change OWNER TO postgres;

--
-- Name: activate_pause(uuid, text, date, boolean, uuid); Type: FUNCTION; Schema: api; Owner: postgres
--

CREATE FUNCTION api.activate_pause(mentor_id uuid, reason text, expected_return_date date DEFAULT NULL::date, force boolean DEFAULT false, idempotency_key uuid DEFAULT NULL::uuid) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  return mentoring.idempotent_transition(
    'activate_pause', idempotency_key,
    jsonb_build_object('mentor_id', mentor_id, 'reason', reason,
                       'expected_return_date', expected_return_date,
                       'force', coalesce(force, false)),
    'paused', '{active}');
end
$$;

ALTER FUNCTION api.activate_pause(mentor_id uuid, reason text, expected_return_date date, force boolean, idempotency_key uuid) OWNER TO postgres;

--
-- Name: FUNCTION activate_pause(mentor_id uuid, reason text, expected_return_date date, force boolean, idempotency_key uuid); Type: COMMENT; Schema: api; Owner: postgres
--

COMMENT ON FUNCTION api.activate_pause(mentor_id uuid, reason text, expected_return_date date, force boolean, idempotency_key uuid) IS 'Pause an active mentor. reason: 1-500 characters. expected_return_date: after today, within 365 days. force: coordinators and admins only, overrides blocking preconditions.';

--
-- Name: auto_expire_for_certification(uuid); Type: FUNCTION; Schema: api; Owner: postgres
--

CREATE FUNCTION api.auto_expire_for_certification(mentor_id uuid) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  return mentoring.request_transition(
    auto_expire_for_certification.mentor_id, 'expired_cert', '{active,paused}', '{}');
end
$$;

ALTER FUNCTION api.auto_expire_for_certification(mentor_id uuid) OWNER TO postgres;

--
-- Name: FUNCTION auto_expire_for_certification(mentor_id uuid); Type: COMMENT; Schema: api; Owner: postgres
--

COMMENT ON FUNCTION api.auto_expire_for_certification(mentor_id uuid) IS 'Move a mentor whose certification has lapsed to expired_cert (closing any open pause). service_role and admins. Already expired: changes nothing (changed = false).';

--
-- Name: expire_lapsed_certifications(integer); Type: FUNCTION; Schema: api; Owner: postgres
--

CREATE FUNCTION api.expire_lapsed_certifications(batch_size integer DEFAULT 500) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET jit TO 'off'
    AS $$
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

ALTER FUNCTION api.expire_lapsed_certifications(batch_size integer) OWNER TO postgres;

--
-- Name: FUNCTION expire_lapsed_certifications(batch_size integer); Type: COMMENT; Schema: api; Owner: postgres
--

COMMENT ON FUNCTION api.expire_lapsed_certifications(batch_size integer) IS 'Expire up to batch_size mentors whose certification lapsed; returns how many. Call again until it returns less than batch_size. service_role: everyone; admins: their organizations.';

--
-- Name: get_current_status(uuid); Type: FUNCTION; Schema: api; Owner: postgres
--

CREATE FUNCTION api.get_current_status(mentor_id uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
  mentor mentoring.mentors;
  facts record;
  permitted mentoring.mentor_status[];
  findings jsonb := '[]'::jsonb;
  blocked boolean := false;
  can_force boolean;
begin
  select m.* into mentor from mentoring.mentors m where m.id = get_current_status.mentor_id;
  if mentor.id is null then
    perform mentoring.caller_key();  -- nobody is refused as such, before not found
    perform mentoring.raise_error('mentor_not_found', 'no such mentor',
      jsonb_build_object('mentor_id', get_current_status.mentor_id));
  end if;
  select f.* into facts from mentoring.status_facts(mentor.id) f;
  select coalesce(array_agg(t.to_status order by t.to_status), '{}') into permitted
  from mentoring.transitions t
  where t.from_status = mentor.status
    and t.actor_kind = facts.caller_kind
    and mentoring.refusal(
          mentor.id, mentor.status, t.to_status, facts.caller_kind, facts.caller_user_id,
          t, true, (facts.open_pause ->> 'started_by')::uuid, false,
          facts.coverage is not null, facts.today) is null;
  can_force := facts.caller_kind in ('coordinator', 'admin');
  if 'paused' = any (permitted) then
    findings := mentoring.caller_pause_findings(mentor.id);
    blocked := jsonb_path_exists(findings, '$[*] ? (@.blocking == true)');
    if blocked and not can_force then
      permitted := array_remove(permitted, 'paused');
    end if;
  end if;
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
    'allowed_transitions', to_jsonb(permitted),
    'held_back', case when blocked then jsonb_build_array(jsonb_build_object(
      'to_status', 'paused',
      'code', 'precondition_failed',
      'message', 'a pause precondition blocks this pause',
      'can_force', can_force,
      'findings', findings)) else '[]'::jsonb end);
end
$_$;

ALTER FUNCTION api.get_current_status(mentor_id uuid) OWNER TO postgres;

--
-- Name: FUNCTION get_current_status(mentor_id uuid); Type: COMMENT; Schema: api; Owner: postgres
--

COMMENT ON FUNCTION api.get_current_status(mentor_id uuid) IS 'Status, since when, the open pause, certification (valid_until is the last valid day, null when open-ended), the statuses the caller can move the mentor to now, and held_back: transitions a blocking pause precondition holds back (findings; can_force: the caller may pass force => true, and the status is then in allowed_transitions).';

--
-- Name: get_pause_history(uuid); Type: FUNCTION; Schema: api; Owner: postgres
--

CREATE FUNCTION api.get_pause_history(mentor_id uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

ALTER FUNCTION api.get_pause_history(mentor_id uuid) OWNER TO postgres;

--
-- Name: FUNCTION get_pause_history(mentor_id uuid); Type: COMMENT; Schema: api; Owner: postgres
--

COMMENT ON FUNCTION api.get_pause_history(mentor_id uuid) IS 'Pause periods and status events of a mentor, newest first.';

--
-- Name: get_paused_mentors(uuid); Type: FUNCTION; Schema: api; Owner: postgres
--

CREATE FUNCTION api.get_paused_mentors(coordinator_id uuid DEFAULT NULL::uuid) RETURNS SETOF jsonb
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

ALTER FUNCTION api.get_paused_mentors(coordinator_id uuid) OWNER TO postgres;

--
-- Name: FUNCTION get_paused_mentors(coordinator_id uuid); Type: COMMENT; Schema: api; Owner: postgres
--

COMMENT ON FUNCTION api.get_paused_mentors(coordinator_id uuid) IS 'Paused mentors assigned to coordinator_id (default: the caller; for the system: all), with their open pause, among the mentors the caller may see.';

--
-- Name: is_transition_allowed(text, text); Type: FUNCTION; Schema: api; Owner: postgres
--

CREATE FUNCTION api.is_transition_allowed(current_status text, target_status text) RETURNS boolean
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  statuses text[] := enum_range(null::mentoring.mentor_status)::text[];
begin
  perform mentoring.caller_key();
  if current_status is null or not current_status = any (statuses) then
    perform mentoring.raise_error('invalid_input',
      format('current_status must be one of %s', array_to_string(statuses, ', ')),
      jsonb_build_object('field', 'current_status'));
  end if;
  if target_status is null or not target_status = any (statuses) then
    perform mentoring.raise_error('invalid_input',
      format('target_status must be one of %s', array_to_string(statuses, ', ')),
      jsonb_build_object('field', 'target_status'));
  end if;
  return exists (
    select from mentoring.transitions t
    where t.from_status = current_status::mentoring.mentor_status
      and t.to_status = target_status::mentoring.mentor_status);
end
$$;

ALTER FUNCTION api.is_transition_allowed(current_status text, target_status text) OWNER TO postgres;

--
-- Name: FUNCTION is_transition_allowed(current_status text, target_status text); Type: COMMENT; Schema: api; Owner: postgres
--

COMMENT ON FUNCTION api.is_transition_allowed(current_status text, target_status text) IS 'Whether the state machine has this transition for anyone. Who may take it for a given mentor: get_current_status(...).allowed_transitions.';

--
-- Name: lift_pause(uuid, text, uuid); Type: FUNCTION; Schema: api; Owner: postgres
--

CREATE FUNCTION api.lift_pause(mentor_id uuid, reason text DEFAULT NULL::text, idempotency_key uuid DEFAULT NULL::uuid) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  return mentoring.idempotent_transition(
    'lift_pause', idempotency_key,
    jsonb_build_object('mentor_id', mentor_id, 'reason', reason, 'end_reason', 'lifted'),
    'active', '{paused}');
end
$$;

ALTER FUNCTION api.lift_pause(mentor_id uuid, reason text, idempotency_key uuid) OWNER TO postgres;

--
-- Name: FUNCTION lift_pause(mentor_id uuid, reason text, idempotency_key uuid); Type: COMMENT; Schema: api; Owner: postgres
--

COMMENT ON FUNCTION api.lift_pause(mentor_id uuid, reason text, idempotency_key uuid) IS 'End a paused mentor''s pause: paused -> active. Needs a valid certification.';

--
-- Name: reactivate_mentor(uuid, text, uuid); Type: FUNCTION; Schema: api; Owner: postgres
--

CREATE FUNCTION api.reactivate_mentor(mentor_id uuid, reason text DEFAULT NULL::text, idempotency_key uuid DEFAULT NULL::uuid) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  return mentoring.idempotent_transition(
    'reactivate_mentor', idempotency_key,
    jsonb_build_object('mentor_id', mentor_id, 'reason', reason, 'end_reason', 'reactivated'),
    'active', '{paused,expired_cert}');
end
$$;

ALTER FUNCTION api.reactivate_mentor(mentor_id uuid, reason text, idempotency_key uuid) OWNER TO postgres;

--
-- Name: FUNCTION reactivate_mentor(mentor_id uuid, reason text, idempotency_key uuid); Type: COMMENT; Schema: api; Owner: postgres
--

COMMENT ON FUNCTION api.reactivate_mentor(mentor_id uuid, reason text, idempotency_key uuid) IS 'Make a paused or expired_cert mentor active again. Needs a valid certification.';

--
-- Name: assigned_paused_mentors(uuid); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.assigned_paused_mentors(coordinator uuid) RETURNS SETOF jsonb
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

ALTER FUNCTION mentoring.assigned_paused_mentors(coordinator uuid) OWNER TO postgres;

--
-- Name: FUNCTION assigned_paused_mentors(coordinator uuid); Type: COMMENT; Schema: mentoring; Owner: postgres
--

COMMENT ON FUNCTION mentoring.assigned_paused_mentors(coordinator uuid) IS 'The paused mentors a coordinator is assigned, with their open pauses, as the caller may see them (invoker rights: under row-level security unless the owner calls).';

--
-- Name: caller_administered_organizations(); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.caller_administered_organizations() RETURNS uuid[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  return (select coalesce(array_agg(s.organization_id), '{}')
          from mentoring.organization_staff s
          where s.user_id = auth.uid() and s.role = 'admin');
end
$$;

ALTER FUNCTION mentoring.caller_administered_organizations() OWNER TO postgres;

--
-- Name: FUNCTION caller_administered_organizations(); Type: COMMENT; Schema: mentoring; Owner: postgres
--

COMMENT ON FUNCTION mentoring.caller_administered_organizations() IS 'The organizations the signed-in caller administers (for policies: once per statement).';

--
-- Name: caller_key(); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.caller_key() RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

ALTER FUNCTION mentoring.caller_key() OWNER TO postgres;

--
-- Name: caller_organizations(); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.caller_organizations() RETURNS uuid[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  caller uuid := auth.uid();
begin
  return (select coalesce(array_agg(distinct member.organization_id), '{}')
          from (
            select s.organization_id from mentoring.organization_staff s
            where s.user_id = caller
            union all
            select m.organization_id from mentoring.mentors m where m.user_id = caller
          ) member);
end
$$;

ALTER FUNCTION mentoring.caller_organizations() OWNER TO postgres;

--
-- Name: FUNCTION caller_organizations(); Type: COMMENT; Schema: mentoring; Owner: postgres
--

COMMENT ON FUNCTION mentoring.caller_organizations() IS 'The organizations the signed-in caller belongs to, as staff or as a mentor.';

--
-- Name: caller_pause_findings(uuid); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.caller_pause_findings(mentor_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  mentor mentoring.mentors;
begin
  mentor := mentoring.seen_mentor(caller_pause_findings.mentor_id);
  perform mentoring.resolve_actor(mentor);
  if not exists (select from mentoring.pause_preconditions p where p.enabled) then
    return '[]'::jsonb;
  end if;
  return mentoring.pause_findings(mentor.id);
end
$$;

ALTER FUNCTION mentoring.caller_pause_findings(mentor_id uuid) OWNER TO postgres;

--
-- Name: caller_paused_mentors(); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.caller_paused_mentors() RETURNS SETOF jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  return query select * from mentoring.assigned_paused_mentors(auth.uid());
end
$$;

ALTER FUNCTION mentoring.caller_paused_mentors() OWNER TO postgres;

--
-- Name: caller_sees_mentor(uuid); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.caller_sees_mentor(mentor_id uuid) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  caller uuid := auth.uid();
begin
  return exists (
      select from mentoring.mentors m
      where m.id = caller_sees_mentor.mentor_id
        and (m.user_id = caller
             or m.organization_id = any (mentoring.caller_administered_organizations())))
    or exists (
      select from mentoring.mentor_coordinators c
      where c.mentor_id = caller_sees_mentor.mentor_id and c.coordinator_id = caller);
end
$$;

ALTER FUNCTION mentoring.caller_sees_mentor(mentor_id uuid) OWNER TO postgres;

--
-- Name: FUNCTION caller_sees_mentor(mentor_id uuid); Type: COMMENT; Schema: mentoring; Owner: postgres
--

COMMENT ON FUNCTION mentoring.caller_sees_mentor(mentor_id uuid) IS 'Whether the signed-in caller may see this mentor: the rule of the mentors policy.';

--
-- Name: certification_coverage(uuid, date); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.certification_coverage(mentor_id uuid, on_date date) RETURNS daterange
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

ALTER FUNCTION mentoring.certification_coverage(mentor_id uuid, on_date date) OWNER TO postgres;

--
-- Name: certifications_lock_mentor(); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.certifications_lock_mentor() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  perform from mentoring.mentors m
  where m.id in (old.mentor_id, new.mentor_id)
  order by m.id
  for no key update;
  return coalesce(new, old);
end
$$;

ALTER FUNCTION mentoring.certifications_lock_mentor() OWNER TO postgres;

--
-- Name: certifications_refresh_all_mentors(); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.certifications_refresh_all_mentors() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  update mentoring.mentors m set certified_through = null;
  return null;
end
$$;

ALTER FUNCTION mentoring.certifications_refresh_all_mentors() OWNER TO postgres;

--
-- Name: certifications_refresh_mentor(); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.certifications_refresh_mentor() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  update mentoring.mentors m
  set certified_through = null  -- computed again by compute_certified_through
  where m.id in (old.mentor_id, new.mentor_id);
  return null;
end
$$;

ALTER FUNCTION mentoring.certifications_refresh_mentor() OWNER TO postgres;

--
-- Name: certified_through(uuid, date); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.certified_through(mentor_id uuid, on_date date) RETURNS date
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

ALTER FUNCTION mentoring.certified_through(mentor_id uuid, on_date date) OWNER TO postgres;

--
-- Name: outbox; Type: TABLE; Schema: mentoring; Owner: postgres
--

CREATE TABLE mentoring.outbox (
    id bigint NOT NULL,
    event_id bigint,
    recipient_id uuid NOT NULL,
    kind text DEFAULT 'status_changed'::text NOT NULL,
    payload jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    available_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    claim_id uuid,
    leased_until timestamp with time zone,
    delivered_at timestamp with time zone,
    dead_at timestamp with time zone,
    last_error text,
    pause_id uuid,
    mentor_id uuid GENERATED ALWAYS AS (((payload #>> '{mentor,id}'::text[]))::uuid) STORED,
    CONSTRAINT a_lease_has_a_claim CHECK (((claim_id IS NULL) = (leased_until IS NULL))),
    CONSTRAINT about_one_event_or_one_pause CHECK ((num_nonnulls(event_id, pause_id) = 1)),
    CONSTRAINT delivered_or_dead_not_both CHECK (((delivered_at IS NULL) OR (dead_at IS NULL))),
    CONSTRAINT outbox_attempts_check CHECK ((attempts >= 0)),
    CONSTRAINT outbox_kind_check CHECK ((kind ~ '^[a-z][a-z_]*$'::text)),
    CONSTRAINT outbox_last_error_check CHECK ((char_length(last_error) <= 2000)),
    CONSTRAINT outbox_payload_check CHECK ((jsonb_typeof(payload) = 'object'::text)),
    CONSTRAINT reminders_name_their_pause CHECK (((kind <> 'pause_overdue'::text) OR (pause_id IS NOT NULL))),
    CONSTRAINT status_changes_name_their_event CHECK (((kind <> 'status_changed'::text) OR (event_id IS NOT NULL)))
);

ALTER TABLE mentoring.outbox OWNER TO postgres;

--
-- Name: COLUMN outbox.available_at; Type: COMMENT; Schema: mentoring; Owner: postgres
--

COMMENT ON COLUMN mentoring.outbox.available_at IS 'Earliest time a relay may claim the row (now, or a retry''s scheduled time).';

--
-- Name: COLUMN outbox.leased_until; Type: COMMENT; Schema: mentoring; Owner: postgres
--

COMMENT ON COLUMN mentoring.outbox.leased_until IS 'While in the future, a relay is delivering the row under claim_id.';

--
-- Name: COLUMN outbox.mentor_id; Type: COMMENT; Schema: mentoring; Owner: postgres
--

COMMENT ON COLUMN mentoring.outbox.mentor_id IS 'The mentor the notification is about (from the payload): the key of the delivery order.';

--
-- Name: claim_outbox(integer, interval); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.claim_outbox(batch_size integer, lease interval) RETURNS SETOF mentoring.outbox
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  this_claim uuid := gen_random_uuid();
begin
  if batch_size is null or batch_size < 1 or lease is null or lease <= interval '0' then
    perform mentoring.raise_error('invalid_input', 'batch_size and lease must be positive');
  end if;
  return query
    with picked as materialized (
      select d.id
      from mentoring.outbox d
      where d.delivered_at is null
        and d.dead_at is null
        and d.available_at <= clock_timestamp()
        and (d.leased_until is null or d.leased_until <= clock_timestamp())
        -- a subplan per candidate (an index probe of its mentor's pending rows), whatever
        -- the queue's statistics say
        and (select 1
             from mentoring.outbox earlier
             where earlier.mentor_id = d.mentor_id
               and earlier.id < d.id
               and earlier.delivered_at is null
               and earlier.dead_at is null
               -- the same notification to other recipients does not wait for itself
               and not coalesce(earlier.event_id = d.event_id
                                or earlier.pause_id = d.pause_id, false)
             limit 1) is null
      order by d.id
      limit claim_outbox.batch_size
      for update skip locked
    ), claimed as (
      update mentoring.outbox o
      set attempts = o.attempts + 1,
          claim_id = this_claim,
          leased_until = clock_timestamp() + claim_outbox.lease
      from picked
      where o.id = picked.id
      returning o.*
    )
    select * from claimed order by claimed.id;  -- RETURNING has no order
end
$$;

ALTER FUNCTION mentoring.claim_outbox(batch_size integer, lease interval) OWNER TO postgres;

--
-- Name: clean_text(text, text, boolean); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.clean_text(value text, field text, required boolean) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  perform mentoring.raise_refusal(mentoring.text_refusal(value, field, required));
  return nullif(btrim(value), '');
end
$$;

ALTER FUNCTION mentoring.clean_text(value text, field text, required boolean) OWNER TO postgres;

--
-- Name: status_events; Type: TABLE; Schema: mentoring; Owner: postgres
--

CREATE TABLE mentoring.status_events (
    id bigint NOT NULL,
    mentor_id uuid NOT NULL,
    sequence integer NOT NULL,
    from_status mentoring.mentor_status NOT NULL,
    to_status mentoring.mentor_status NOT NULL,
    reason text,
    actor_user_id uuid,
    actor_kind mentoring.actor_kind NOT NULL,
    database_role text NOT NULL,
    forced boolean DEFAULT false NOT NULL,
    findings jsonb DEFAULT '[]'::jsonb NOT NULL,
    idempotency_key uuid,
    pause_id uuid,
    occurred_at timestamp with time zone DEFAULT now() NOT NULL,
    transaction_id xid8 DEFAULT pg_current_xact_id() NOT NULL,
    prev_hash bytea,
    hash bytea NOT NULL,
    CONSTRAINT actor_is_a_user_unless_system CHECK (((actor_user_id IS NULL) = (actor_kind = 'system'::mentoring.actor_kind))),
    CONSTRAINT changes_the_status CHECK ((from_status <> to_status)),
    CONSTRAINT hash_is_sha256 CHECK ((octet_length(hash) = 32)),
    CONSTRAINT only_staff_force_a_pause CHECK (((NOT forced) OR ((to_status = 'paused'::mentoring.mentor_status) AND (actor_kind = ANY (ARRAY['coordinator'::mentoring.actor_kind, 'admin'::mentoring.actor_kind]))))),
    CONSTRAINT only_the_first_event_has_no_prev_hash CHECK (((prev_hash IS NULL) = (sequence = 1))),
    CONSTRAINT prev_hash_is_sha256 CHECK ((octet_length(prev_hash) = 32)),
    CONSTRAINT status_events_findings_check CHECK ((jsonb_typeof(findings) = 'array'::text)),
    CONSTRAINT status_events_reason_check CHECK ((char_length(reason) <= 500)),
    CONSTRAINT status_events_sequence_check CHECK ((sequence > 0))
);

ALTER TABLE mentoring.status_events OWNER TO postgres;

--
-- Name: COLUMN status_events.database_role; Type: COMMENT; Schema: mentoring; Owner: postgres
--

COMMENT ON COLUMN mentoring.status_events.database_role IS 'The database role the change ran as: authenticated, service_role, or a DBA''s own role.';

--
-- Name: COLUMN status_events.prev_hash; Type: COMMENT; Schema: mentoring; Owner: postgres
--

COMMENT ON COLUMN mentoring.status_events.prev_hash IS 'The hash of the previous event of this mentor; null for the first (sequence 1).';

--
-- Name: COLUMN status_events.hash; Type: COMMENT; Schema: mentoring; Owner: postgres
--

COMMENT ON COLUMN mentoring.status_events.hash IS 'SHA-256 of the event, its pause and prev_hash (see mentoring.status_event_hash).';

--
-- Name: event_json(mentoring.status_events); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.event_json(event mentoring.status_events) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  return to_jsonb(event) - 'id' - 'transaction_id' - 'prev_hash' - 'hash';
end
$$;

ALTER FUNCTION mentoring.event_json(event mentoring.status_events) OWNER TO postgres;

--
-- Name: idempotency_keys_hold_a_result(); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.idempotency_keys_hold_a_result() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

ALTER FUNCTION mentoring.idempotency_keys_hold_a_result() OWNER TO postgres;

--
-- Name: idempotent_arguments_limit(); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.idempotent_arguments_limit() RETURNS integer
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  select 8192
$$;

ALTER FUNCTION mentoring.idempotent_arguments_limit() OWNER TO postgres;

--
-- Name: idempotent_operation(text); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.idempotent_operation(operation text, OUT target mentoring.mentor_status, OUT argument_names text[]) RETURNS record
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

ALTER FUNCTION mentoring.idempotent_operation(operation text, OUT target mentoring.mentor_status, OUT argument_names text[]) OWNER TO postgres;

--
-- Name: idempotent_replay(text, uuid, jsonb); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.idempotent_replay(operation text, key uuid, arguments jsonb) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

ALTER FUNCTION mentoring.idempotent_replay(operation text, key uuid, arguments jsonb) OWNER TO postgres;

--
-- Name: idempotent_transition(text, uuid, jsonb, mentoring.mentor_status, mentoring.mentor_status[]); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.idempotent_transition(operation text, idempotency_key uuid, arguments jsonb, target mentoring.mentor_status, allowed_from mentoring.mentor_status[]) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

ALTER FUNCTION mentoring.idempotent_transition(operation text, idempotency_key uuid, arguments jsonb, target mentoring.mentor_status, allowed_from mentoring.mentor_status[]) OWNER TO postgres;

--
-- Name: is_certified(uuid, date); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.is_certified(mentor_id uuid, on_date date) RETURNS boolean
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  return exists (
    select from mentoring.certifications c
    where c.mentor_id = is_certified.mentor_id and c.valid_during @> is_certified.on_date);
end
$$;

ALTER FUNCTION mentoring.is_certified(mentor_id uuid, on_date date) OWNER TO postgres;

--
-- Name: is_state_machine_writing(); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.is_state_machine_writing() RETURNS boolean
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  return pg_trigger_depth() > 1
     and coalesce(current_setting('mentoring.audit_writer', true), '') = 'state_machine';
end
$$;

ALTER FUNCTION mentoring.is_state_machine_writing() OWNER TO postgres;

--
-- Name: is_time_zone(text); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.is_time_zone(name text) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  select exists (select from pg_catalog.pg_timezone_names z where z.name = is_time_zone.name)
$$;

ALTER FUNCTION mentoring.is_time_zone(name text) OWNER TO postgres;

--
-- Name: FUNCTION is_time_zone(name text); Type: COMMENT; Schema: mentoring; Owner: postgres
--

COMMENT ON FUNCTION mentoring.is_time_zone(name text) IS 'True for an IANA time zone name PostgreSQL knows (Europe/Paris, UTC, ...).';

--
-- Name: is_trusted_check(regproc); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.is_trusted_check(check_fn regproc) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  select coalesce((
    select p.proowner = c.relowner and p.provolatile in ('s', 'i')
           and mentoring.search_path_ends_with_pg_temp(p.proconfig)
    from pg_catalog.pg_proc p, pg_catalog.pg_class c
    where p.oid = check_fn and c.oid = 'mentoring.pause_preconditions'::regclass), false)
$$;

ALTER FUNCTION mentoring.is_trusted_check(check_fn regproc) OWNER TO postgres;

--
-- Name: mentors_apply_transitions(); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.mentors_apply_transitions() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET jit TO 'off'
    SET plan_cache_mode TO 'force_generic_plan'
    AS $_$
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
$_$;

ALTER FUNCTION mentoring.mentors_apply_transitions() OWNER TO postgres;

--
-- Name: mentors_before_insert(); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.mentors_before_insert() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

ALTER FUNCTION mentoring.mentors_before_insert() OWNER TO postgres;

--
-- Name: mentors_before_update(); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.mentors_before_update() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

ALTER FUNCTION mentoring.mentors_before_update() OWNER TO postgres;

--
-- Name: mentors_compute_certified_through(); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.mentors_compute_certified_through() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  new.certified_through := mentoring.certified_through(
    new.id, mentoring.organization_today(new.organization_id));
  return new;
end
$$;

ALTER FUNCTION mentoring.mentors_compute_certified_through() OWNER TO postgres;

--
-- Name: mentors_new_active_is_certified(); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.mentors_new_active_is_certified() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

ALTER FUNCTION mentoring.mentors_new_active_is_certified() OWNER TO postgres;

--
-- Name: mentors; Type: TABLE; Schema: mentoring; Owner: postgres
--

CREATE TABLE mentoring.mentors (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    organization_id uuid NOT NULL,
    user_id uuid,
    display_name text NOT NULL,
    status mentoring.mentor_status NOT NULL,
    status_changed_at timestamp with time zone DEFAULT now() NOT NULL,
    status_version integer DEFAULT 0 NOT NULL,
    open_pause_id uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    certified_through date,
    CONSTRAINT display_name_is_trimmed_and_short CHECK (((display_name = btrim(display_name)) AND ((char_length(display_name) >= 1) AND (char_length(display_name) <= 200)))),
    CONSTRAINT mentors_status_version_check CHECK ((status_version >= 0)),
    CONSTRAINT paused_exactly_when_a_pause_is_open CHECK (((status = 'paused'::mentoring.mentor_status) = (open_pause_id IS NOT NULL)))
);

ALTER TABLE mentoring.mentors OWNER TO postgres;

--
-- Name: COLUMN mentors.status_version; Type: COMMENT; Schema: mentoring; Owner: postgres
--

COMMENT ON COLUMN mentoring.mentors.status_version IS 'Number of status changes so far; the sequence of the latest status event.';

--
-- Name: COLUMN mentors.certified_through; Type: COMMENT; Schema: mentoring; Owner: postgres
--

COMMENT ON COLUMN mentoring.mentors.certified_through IS 'Last day of the certification covering the day it was computed (kept by triggers); null: not certified then. The expiry sweep''s index; the truth stays certifications.';

--
-- Name: notification_recipients(mentoring.mentors, uuid); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.notification_recipients(mentor mentoring.mentors, actor_user_id uuid) RETURNS uuid[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  return array(
    select a.recipient_id from mentoring.notification_audience a
    where a.mentor_id = mentor.id
      and a.recipient_id is distinct from notification_recipients.actor_user_id
    order by a.recipient_id);
end
$$;

ALTER FUNCTION mentoring.notification_recipients(mentor mentoring.mentors, actor_user_id uuid) OWNER TO postgres;

--
-- Name: organization_today(uuid); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.organization_today(organization_id uuid) RETURNS date
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  select (now() at time zone o.time_zone)::date
  from mentoring.organizations o
  where o.id = organization_today.organization_id
$$;

ALTER FUNCTION mentoring.organization_today(organization_id uuid) OWNER TO postgres;

--
-- Name: FUNCTION organization_today(organization_id uuid); Type: COMMENT; Schema: mentoring; Owner: postgres
--

COMMENT ON FUNCTION mentoring.organization_today(organization_id uuid) IS 'Today''s date in the organization''s time zone.';

--
-- Name: organizations_refresh_mentors(); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.organizations_refresh_mentors() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  update mentoring.mentors m set certified_through = null
  where m.organization_id = new.id;
  return null;
end
$$;

ALTER FUNCTION mentoring.organizations_refresh_mentors() OWNER TO postgres;

--
-- Name: outbox_delivered(bigint[]); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.outbox_delivered(ids bigint[]) RETURNS integer
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  with done as (
    update mentoring.outbox o
    set delivered_at = clock_timestamp(), claim_id = null, leased_until = null,
        last_error = null
    where o.id = any (outbox_delivered.ids) and o.delivered_at is null and o.dead_at is null
    returning 1
  )
  select count(*)::integer from done
$$;

ALTER FUNCTION mentoring.outbox_delivered(ids bigint[]) OWNER TO postgres;

--
-- Name: outbox_failed(bigint, uuid, text, timestamp with time zone); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.outbox_failed(id bigint, claim_id uuid, error text, retry_at timestamp with time zone) RETURNS boolean
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  with failed as (
    update mentoring.outbox o
    set claim_id = null,
        leased_until = null,
        last_error = left(outbox_failed.error, 2000),
        available_at = coalesce(outbox_failed.retry_at, o.available_at),
        dead_at = case when outbox_failed.retry_at is null then clock_timestamp() end
    where o.id = outbox_failed.id
      and o.claim_id = outbox_failed.claim_id
      and o.delivered_at is null
    returning 1
  )
  select exists (select from failed)
$$;

ALTER FUNCTION mentoring.outbox_failed(id bigint, claim_id uuid, error text, retry_at timestamp with time zone) OWNER TO postgres;

--
-- Name: FUNCTION outbox_failed(id bigint, claim_id uuid, error text, retry_at timestamp with time zone); Type: COMMENT; Schema: mentoring; Owner: postgres
--

COMMENT ON FUNCTION mentoring.outbox_failed(id bigint, claim_id uuid, error text, retry_at timestamp with time zone) IS 'retry_at null dead-letters the row. Returns false when the claim is no longer current.';

--
-- Name: outbox_failed_v2(bigint[], uuid[], text[], timestamp with time zone[]); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.outbox_failed_v2(ids bigint[], claim_ids uuid[], errors text[], retry_ats timestamp with time zone[]) RETURNS bigint[]
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  decided bigint[];
begin
  if cardinality(ids) is distinct from cardinality(claim_ids)
     or cardinality(ids) is distinct from cardinality(errors)
     or cardinality(ids) is distinct from cardinality(retry_ats) then
    perform mentoring.raise_error('invalid_input', 'ids, claim_ids, errors and retry_ats pair up');
  end if;
  with failed as (
    update mentoring.outbox o
    set claim_id = null,
        leased_until = null,
        last_error = left(f.error, 2000),
        available_at = coalesce(f.retry_at, o.available_at),
        dead_at = case when f.retry_at is null then clock_timestamp() end
    from unnest(outbox_failed_v2.ids, outbox_failed_v2.claim_ids, outbox_failed_v2.errors,
                outbox_failed_v2.retry_ats) as f(id, claim_id, error, retry_at)
    where o.id = f.id
      and o.claim_id = f.claim_id
      and o.delivered_at is null
    returning o.id
  )
  select coalesce(array_agg(failed.id order by failed.id), '{}') into decided from failed;
  return decided;
end
$$;

ALTER FUNCTION mentoring.outbox_failed_v2(ids bigint[], claim_ids uuid[], errors text[], retry_ats timestamp with time zone[]) OWNER TO postgres;

--
-- Name: FUNCTION outbox_failed_v2(ids bigint[], claim_ids uuid[], errors text[], retry_ats timestamp with time zone[]); Type: COMMENT; Schema: mentoring; Owner: postgres
--

COMMENT ON FUNCTION mentoring.outbox_failed_v2(ids bigint[], claim_ids uuid[], errors text[], retry_ats timestamp with time zone[]) IS 'retry_at null dead-letters the row. Returns the rows whose claim was still current.';

--
-- Name: outbox_purge_delivered(interval); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.outbox_purge_delivered(older_than interval) RETURNS integer
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  with purged as (
    delete from mentoring.outbox o
    where o.delivered_at < clock_timestamp() - outbox_purge_delivered.older_than
    returning 1
  )
  select count(*)::integer from purged
$$;

ALTER FUNCTION mentoring.outbox_purge_delivered(older_than interval) OWNER TO postgres;

--
-- Name: outbox_release(uuid, bigint[]); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.outbox_release(claim_id uuid, ids bigint[]) RETURNS integer
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  with released as (
    update mentoring.outbox o
    set claim_id = null, leased_until = null, attempts = greatest(o.attempts - 1, 0)
    where o.id = any (outbox_release.ids)
      and o.claim_id = outbox_release.claim_id
      and o.delivered_at is null
    returning 1
  )
  select count(*)::integer from released
$$;

ALTER FUNCTION mentoring.outbox_release(claim_id uuid, ids bigint[]) OWNER TO postgres;

--
-- Name: outbox_release_v2(uuid, bigint[]); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.outbox_release_v2(claim_id uuid, ids bigint[]) RETURNS bigint[]
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  with released as (
    update mentoring.outbox o
    set claim_id = null, leased_until = null, attempts = greatest(o.attempts - 1, 0)
    where o.id = any (outbox_release_v2.ids)
      and o.claim_id = outbox_release_v2.claim_id
      and o.delivered_at is null
    returning o.id
  )
  select coalesce(array_agg(released.id order by released.id), '{}') from released
$$;

ALTER FUNCTION mentoring.outbox_release_v2(claim_id uuid, ids bigint[]) OWNER TO postgres;

--
-- Name: outbox_requeue(bigint[]); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.outbox_requeue(ids bigint[] DEFAULT NULL::bigint[]) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

ALTER FUNCTION mentoring.outbox_requeue(ids bigint[]) OWNER TO postgres;

--
-- Name: outbox_stats(); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.outbox_stats() RETURNS TABLE(pending bigint, due bigint, in_flight bigint, dead bigint, delivered bigint, oldest_pending_at timestamp with time zone)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  select
    count(*) filter (where o.delivered_at is null and o.dead_at is null),
    count(*) filter (where o.delivered_at is null and o.dead_at is null
                       and o.available_at <= clock_timestamp()
                       and (o.leased_until is null or o.leased_until <= clock_timestamp())),
    count(*) filter (where o.leased_until > clock_timestamp()),
    count(*) filter (where o.dead_at is not null),
    count(*) filter (where o.delivered_at is not null),
    min(o.created_at) filter (where o.delivered_at is null and o.dead_at is null)
  from mentoring.outbox o
$$;

ALTER FUNCTION mentoring.outbox_stats() OWNER TO postgres;

--
-- Name: pause_findings(uuid); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.pause_findings(mentor_id uuid) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
  registered record;
  found_now jsonb;
  findings jsonb := '[]'::jsonb;
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
$_$;

ALTER FUNCTION mentoring.pause_findings(mentor_id uuid) OWNER TO postgres;

--
-- Name: pause_preconditions_validate(); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.pause_preconditions_validate() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

ALTER FUNCTION mentoring.pause_preconditions_validate() OWNER TO postgres;

--
-- Name: purge_idempotency_keys(interval); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.purge_idempotency_keys(older_than interval DEFAULT '7 days'::interval) RETURNS integer
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  with purged as (
    delete from mentoring.idempotency_keys k
    where k.created_at < now() - purge_idempotency_keys.older_than
    returning 1
  )
  select count(*)::integer from purged
$$;

ALTER FUNCTION mentoring.purge_idempotency_keys(older_than interval) OWNER TO postgres;

--
-- Name: raise_error(text, text, jsonb, text); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.raise_error(code text, message text, details jsonb DEFAULT NULL::jsonb, hint text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

ALTER FUNCTION mentoring.raise_error(code text, message text, details jsonb, hint text) OWNER TO postgres;

--
-- Name: raise_refusal(jsonb); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.raise_refusal(refusal jsonb) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  if refusal is not null then
    perform mentoring.raise_error(
      refusal ->> 'code', refusal ->> 'message', refusal -> 'details', refusal ->> 'hint');
  end if;
end
$$;

ALTER FUNCTION mentoring.raise_refusal(refusal jsonb) OWNER TO postgres;

--
-- Name: transitions; Type: TABLE; Schema: mentoring; Owner: postgres
--

CREATE TABLE mentoring.transitions (
    from_status mentoring.mentor_status NOT NULL,
    to_status mentoring.mentor_status NOT NULL,
    actor_kind mentoring.actor_kind NOT NULL,
    certification mentoring.certification_rule NOT NULL,
    own_pause_only boolean DEFAULT false NOT NULL,
    description text NOT NULL,
    CONSTRAINT active_needs_a_valid_certification CHECK (((to_status <> 'active'::mentoring.mentor_status) OR (certification = 'valid'::mentoring.certification_rule))),
    CONSTRAINT changes_the_status CHECK ((from_status <> to_status)),
    CONSTRAINT expiry_needs_a_lapsed_certification CHECK (((to_status = 'expired_cert'::mentoring.mentor_status) = (certification = 'lapsed'::mentoring.certification_rule))),
    CONSTRAINT own_pause_only_for_a_mentor_lifting CHECK (((NOT own_pause_only) OR ((actor_kind = 'mentor'::mentoring.actor_kind) AND (from_status = 'paused'::mentoring.mentor_status))))
);

ALTER TABLE mentoring.transitions OWNER TO postgres;

--
-- Name: refusal(uuid, mentoring.mentor_status, mentoring.mentor_status, mentoring.actor_kind, uuid, mentoring.transitions, boolean, uuid, boolean, boolean, date); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.refusal(mentor_id uuid, from_status mentoring.mentor_status, to_status mentoring.mentor_status, actor_kind mentoring.actor_kind, actor_user_id uuid, rule mentoring.transitions, any_rule boolean, pause_started_by uuid, force boolean, certified boolean, today date) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

ALTER FUNCTION mentoring.refusal(mentor_id uuid, from_status mentoring.mentor_status, to_status mentoring.mentor_status, actor_kind mentoring.actor_kind, actor_user_id uuid, rule mentoring.transitions, any_rule boolean, pause_started_by uuid, force boolean, certified boolean, today date) OWNER TO postgres;

--
-- Name: refuse_audit_change(); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.refuse_audit_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  perform mentoring.raise_error('forbidden',
    format('status events are append-only: %s is refused', lower(tg_op)));
  return null;
end
$$;

ALTER FUNCTION mentoring.refuse_audit_change() OWNER TO postgres;

--
-- Name: refuse_foreign_event(); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.refuse_foreign_event() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  if not mentoring.is_state_machine_writing() then
    perform mentoring.raise_error('forbidden',
      'status events are written by the state machine alone: change mentors.status instead');
  end if;
  return null;
end
$$;

ALTER FUNCTION mentoring.refuse_foreign_event() OWNER TO postgres;

--
-- Name: refuse_pause_removal(); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.refuse_pause_removal() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  perform mentoring.raise_error('forbidden',
    format('pause periods are part of the audit trail: %s is refused', lower(tg_op)));
  return null;
end
$$;

ALTER FUNCTION mentoring.refuse_pause_removal() OWNER TO postgres;

--
-- Name: refuse_pause_rewrite(); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.refuse_pause_rewrite() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  state_machine boolean := mentoring.is_state_machine_writing();
  rewritten record;
begin
  select o.id, o.mentor_id, o.ended_at is not null as ended into rewritten
  from old_pauses o
  left join new_pauses n on n.id = o.id
  where not (
    -- an open pause, its start untouched ...
    o.ended_at is null
    and n.id is not null
    and (n.mentor_id, n.start_date, n.expected_return_date, n.reason, n.started_at,
         n.started_by, n.started_by_kind, n.forced)
        is not distinct from
        (o.mentor_id, o.start_date, o.expected_return_date, o.reason, o.started_at,
         o.started_by, o.started_by_kind, o.forced)
    and (
      -- ... ended by the state machine
      (state_machine and n.ended_at is not null
       and n.overdue_notified_at is not distinct from o.overdue_notified_at)
      -- ... or marked reminded, once, and nothing else
      or (n.ended_at is null and o.overdue_notified_at is null
          and n.overdue_notified_at is not null
          and (n.end_date, n.end_reason, n.ended_by, n.ended_by_kind, n.end_note)
              is not distinct from (o.end_date, o.end_reason, o.ended_by, o.ended_by_kind,
                                    o.end_note))))
  limit 1;
  if found then
    perform mentoring.raise_error('forbidden',
      case when rewritten.ended
           then 'an ended pause is part of the audit trail and never changes'
           else 'an open pause changes only through the state machine: change mentors.status'
      end,
      jsonb_build_object('mentor_id', rewritten.mentor_id, 'pause_id', rewritten.id));
  end if;
  return null;
end
$$;

ALTER FUNCTION mentoring.refuse_pause_rewrite() OWNER TO postgres;

--
-- Name: relay_awake_lock(); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.relay_awake_lock() RETURNS bigint
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  select 7309953649059921001
$$;

ALTER FUNCTION mentoring.relay_awake_lock() OWNER TO postgres;

--
-- Name: relay_fence_lock(); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.relay_fence_lock() RETURNS bigint
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  select 7309953649059921002
$$;

ALTER FUNCTION mentoring.relay_fence_lock() OWNER TO postgres;

--
-- Name: release_sweeper_lease(uuid); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.release_sweeper_lease(holder uuid) RETURNS boolean
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  with released as (
    delete from mentoring.sweeper_leases l
    where l.name = 'sweeps' and l.holder = release_sweeper_lease.holder
    returning 1
  )
  select exists (select from released)
$$;

ALTER FUNCTION mentoring.release_sweeper_lease(holder uuid) OWNER TO postgres;

--
-- Name: remind_overdue_pauses(integer); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.remind_overdue_pauses(batch_size integer DEFAULT 500) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

ALTER FUNCTION mentoring.remind_overdue_pauses(batch_size integer) OWNER TO postgres;

--
-- Name: request_role(); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.request_role() RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  return coalesce(nullif(current_setting('role'), 'none'), session_user);
end
$$;

ALTER FUNCTION mentoring.request_role() OWNER TO postgres;

--
-- Name: request_transition(uuid, mentoring.mentor_status, mentoring.mentor_status[], jsonb); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.request_transition(mentor_id uuid, target mentoring.mentor_status, allowed_from mentoring.mentor_status[], request jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

ALTER FUNCTION mentoring.request_transition(mentor_id uuid, target mentoring.mentor_status, allowed_from mentoring.mentor_status[], request jsonb) OWNER TO postgres;

--
-- Name: resolve_actor(mentoring.mentors); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.resolve_actor(mentor mentoring.mentors, OUT kind mentoring.actor_kind, OUT user_id uuid) RETURNS record
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

ALTER FUNCTION mentoring.resolve_actor(mentor mentoring.mentors, OUT kind mentoring.actor_kind, OUT user_id uuid) OWNER TO postgres;

--
-- Name: search_path_ends_with_pg_temp(text[]); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.search_path_ends_with_pg_temp(config text[]) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
  select coalesce(bool_or(setting ~ '^search_path=(.*,\s*)?"?pg_temp"?\s*$'), false)
  from unnest(config) as setting
$_$;

ALTER FUNCTION mentoring.search_path_ends_with_pg_temp(config text[]) OWNER TO postgres;

--
-- Name: seen_mentor(uuid); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.seen_mentor(mentor_id uuid) RETURNS mentoring.mentors
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  mentor mentoring.mentors;
begin
  perform mentoring.caller_key();  -- nobody is refused as such, before not found
  select m.* into mentor from mentoring.mentors m where m.id = seen_mentor.mentor_id;
  if mentor.id is null then
    perform mentoring.raise_error('mentor_not_found', 'no such mentor',
      pg_catalog.jsonb_build_object('mentor_id', seen_mentor.mentor_id));
  end if;
  return mentor;
end
$$;

ALTER FUNCTION mentoring.seen_mentor(mentor_id uuid) OWNER TO postgres;

--
-- Name: pause_periods; Type: TABLE; Schema: mentoring; Owner: postgres
--

CREATE TABLE mentoring.pause_periods (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    mentor_id uuid NOT NULL,
    start_date date NOT NULL,
    expected_return_date date,
    reason text NOT NULL,
    started_at timestamp with time zone DEFAULT now() NOT NULL,
    started_by uuid,
    started_by_kind mentoring.actor_kind NOT NULL,
    forced boolean DEFAULT false NOT NULL,
    ended_at timestamp with time zone,
    end_date date,
    end_reason mentoring.pause_end_reason,
    ended_by uuid,
    ended_by_kind mentoring.actor_kind,
    end_note text,
    open_id uuid GENERATED ALWAYS AS (
CASE
    WHEN (ended_at IS NULL) THEN id
    ELSE NULL::uuid
END) STORED,
    overdue_notified_at timestamp with time zone,
    CONSTRAINT end_is_all_or_nothing CHECK ((num_nulls(ended_at, end_date, end_reason, ended_by_kind) = ANY (ARRAY[0, 4]))),
    CONSTRAINT end_note_is_trimmed_and_short CHECK (((end_note = btrim(end_note)) AND ((char_length(end_note) >= 1) AND (char_length(end_note) <= 500)))),
    CONSTRAINT ender_is_a_user_unless_system CHECK (((ended_by_kind IS NULL) OR ((ended_by IS NULL) = (ended_by_kind = 'system'::mentoring.actor_kind)))),
    CONSTRAINT ends_after_it_starts CHECK (((ended_at >= started_at) AND (end_date >= start_date))),
    CONSTRAINT only_staff_force CHECK (((NOT forced) OR (started_by_kind = ANY (ARRAY['coordinator'::mentoring.actor_kind, 'admin'::mentoring.actor_kind])))),
    CONSTRAINT reason_is_trimmed_and_short CHECK (((reason = btrim(reason)) AND ((char_length(reason) >= 1) AND (char_length(reason) <= 500)))),
    CONSTRAINT return_is_after_start_and_within_a_year CHECK (((expected_return_date > start_date) AND (expected_return_date <= (start_date + 365)))),
    CONSTRAINT starter_is_a_user_unless_system CHECK (((started_by IS NULL) = (started_by_kind = 'system'::mentoring.actor_kind)))
);

ALTER TABLE mentoring.pause_periods OWNER TO postgres;

--
-- Name: COLUMN pause_periods.overdue_notified_at; Type: COMMENT; Schema: mentoring; Owner: postgres
--

COMMENT ON COLUMN mentoring.pause_periods.overdue_notified_at IS 'When the coordinators were told the pause is past its expected return (once per pause).';

--
-- Name: status_event_hash(bytea, uuid, integer, mentoring.mentor_status, mentoring.mentor_status, text, uuid, mentoring.actor_kind, text, boolean, jsonb, uuid, uuid, timestamp with time zone, mentoring.pause_periods); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.status_event_hash(prev_hash bytea, mentor_id uuid, sequence integer, from_status mentoring.mentor_status, to_status mentoring.mentor_status, reason text, actor_user_id uuid, actor_kind mentoring.actor_kind, database_role text, forced boolean, findings jsonb, idempotency_key uuid, pause_id uuid, occurred_at timestamp with time zone, pause mentoring.pause_periods) RETURNS bytea
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  return sha256(convert_to(jsonb_build_array(
    'pyproj-rpc/status_event/v1',
    encode(prev_hash, 'hex'),
    mentor_id, sequence, from_status, to_status, reason, actor_user_id, actor_kind,
    database_role, forced, findings, idempotency_key, pause_id,
    to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    case when to_status = 'paused' then jsonb_build_array(
      pause.start_date, pause.expected_return_date, pause.reason,
      to_char(pause.started_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
      pause.started_by, pause.started_by_kind, pause.forced) end,
    case when from_status = 'paused' then jsonb_build_array(
      to_char(pause.ended_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
      pause.end_date, pause.end_reason, pause.ended_by, pause.ended_by_kind,
      pause.end_note) end
  )::text, 'UTF8'));
end
$$;

ALTER FUNCTION mentoring.status_event_hash(prev_hash bytea, mentor_id uuid, sequence integer, from_status mentoring.mentor_status, to_status mentoring.mentor_status, reason text, actor_user_id uuid, actor_kind mentoring.actor_kind, database_role text, forced boolean, findings jsonb, idempotency_key uuid, pause_id uuid, occurred_at timestamp with time zone, pause mentoring.pause_periods) OWNER TO postgres;

--
-- Name: FUNCTION status_event_hash(prev_hash bytea, mentor_id uuid, sequence integer, from_status mentoring.mentor_status, to_status mentoring.mentor_status, reason text, actor_user_id uuid, actor_kind mentoring.actor_kind, database_role text, forced boolean, findings jsonb, idempotency_key uuid, pause_id uuid, occurred_at timestamp with time zone, pause mentoring.pause_periods); Type: COMMENT; Schema: mentoring; Owner: postgres
--

COMMENT ON FUNCTION mentoring.status_event_hash(prev_hash bytea, mentor_id uuid, sequence integer, from_status mentoring.mentor_status, to_status mentoring.mentor_status, reason text, actor_user_id uuid, actor_kind mentoring.actor_kind, database_role text, forced boolean, findings jsonb, idempotency_key uuid, pause_id uuid, occurred_at timestamp with time zone, pause mentoring.pause_periods) IS 'The hash of a status event: encoding in db/migrations/0009_audit_chain/up/01_hash_chain.sql.';

--
-- Name: status_facts(uuid); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.status_facts(mentor_id uuid, OUT caller_kind mentoring.actor_kind, OUT caller_user_id uuid, OUT today date, OUT coverage daterange, OUT open_pause jsonb) RETURNS record
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  mentor mentoring.mentors;
begin
  mentor := mentoring.seen_mentor(status_facts.mentor_id);
  select a.kind, a.user_id into caller_kind, caller_user_id
  from mentoring.resolve_actor(mentor) a;
  select (pg_catalog.now() at time zone o.time_zone)::date into today
  from mentoring.organizations o where o.id = mentor.organization_id;
  coverage := mentoring.certification_coverage(mentor.id, today);
  select pg_catalog.to_jsonb(p) - 'open_id' into open_pause
  from mentoring.pause_periods p where p.id = mentor.open_pause_id;
end
$$;

ALTER FUNCTION mentoring.status_facts(mentor_id uuid, OUT caller_kind mentoring.actor_kind, OUT caller_user_id uuid, OUT today date, OUT coverage daterange, OUT open_pause jsonb) OWNER TO postgres;

--
-- Name: take_sweeper_lease(uuid, interval); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.take_sweeper_lease(holder uuid, lease interval) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  if holder is null or lease is null or lease <= interval '0' or lease > interval '1 day' then
    perform mentoring.raise_error('invalid_input',
      'holder is required, and lease is more than 0 and at most 1 day',
      jsonb_build_object('field', 'lease'));
  end if;
  insert into mentoring.sweeper_leases as l (name, holder, leased_until)
  values ('sweeps', take_sweeper_lease.holder, clock_timestamp() + take_sweeper_lease.lease)
  on conflict (name) do update
    set holder = excluded.holder, leased_until = excluded.leased_until
    where l.holder = excluded.holder or l.leased_until <= clock_timestamp();
  return found;
end
$$;

ALTER FUNCTION mentoring.take_sweeper_lease(holder uuid, lease interval) OWNER TO postgres;

--
-- Name: FUNCTION take_sweeper_lease(holder uuid, lease interval); Type: COMMENT; Schema: mentoring; Owner: postgres
--

COMMENT ON FUNCTION mentoring.take_sweeper_lease(holder uuid, lease interval) IS 'One sweeper at a time: true when holder now holds the sweeps'' lease for lease.';

--
-- Name: text_refusal(text, text, boolean); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.text_refusal(value text, field text, required boolean) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

ALTER FUNCTION mentoring.text_refusal(value text, field text, required boolean) OWNER TO postgres;

--
-- Name: transition_request(uuid); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.transition_request(mentor_id uuid) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  select request
  from (
    select nullif(current_setting('mentoring.transition_request', true), '')::jsonb as request
  ) s
  where request ->> 'mentor_id' is null
     or (request ->> 'mentor_id')::uuid = transition_request.mentor_id
$$;

ALTER FUNCTION mentoring.transition_request(mentor_id uuid) OWNER TO postgres;

--
-- Name: transition_result(mentoring.mentors, mentoring.mentor_status, boolean); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.transition_result(mentor mentoring.mentors, previous_status mentoring.mentor_status, changed boolean) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

ALTER FUNCTION mentoring.transition_result(mentor mentoring.mentors, previous_status mentoring.mentor_status, changed boolean) OWNER TO postgres;

--
-- Name: untrusted_check_message(text); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.untrusted_check_message(check_fn text) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  select format('%s must be STABLE, owned by the owner of mentoring.pause_preconditions '
                '(it runs with that role''s rights), and set search_path ending with pg_temp '
                '(for example: alter function %s set search_path = pg_catalog, pg_temp)',
                check_fn, check_fn)
$$;

ALTER FUNCTION mentoring.untrusted_check_message(check_fn text) OWNER TO postgres;

--
-- Name: wake_relays(); Type: FUNCTION; Schema: mentoring; Owner: postgres
--

CREATE FUNCTION mentoring.wake_relays() RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  if not pg_try_advisory_xact_lock_shared(mentoring.relay_fence_lock()) then
    perform pg_notify('mentoring_outbox', '');  -- a relay is falling asleep: wake it
  elsif pg_try_advisory_lock_shared(mentoring.relay_awake_lock()) then
    perform pg_advisory_unlock_shared(mentoring.relay_awake_lock());
    perform pg_notify('mentoring_outbox', '');  -- no relay is draining
  end if;
end
$$;

ALTER FUNCTION mentoring.wake_relays() OWNER TO postgres;

--
-- Name: certifications; Type: TABLE; Schema: mentoring; Owner: postgres
--

CREATE TABLE mentoring.certifications (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    mentor_id uuid NOT NULL,
    valid_during daterange NOT NULL,
    name text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT validity_has_a_start CHECK (((NOT isempty(valid_during)) AND (lower(valid_during) IS NOT NULL)))
);

ALTER TABLE mentoring.certifications OWNER TO postgres;

--
-- Name: error_codes; Type: TABLE; Schema: mentoring; Owner: postgres
--

CREATE TABLE mentoring.error_codes (
    code text NOT NULL,
    http_status integer NOT NULL,
    description text NOT NULL,
    CONSTRAINT error_codes_code_check CHECK ((code ~ '^[a-z][a-z_]*$'::text)),
    CONSTRAINT error_codes_http_status_check CHECK (((http_status >= 400) AND (http_status <= 599)))
);

ALTER TABLE mentoring.error_codes OWNER TO postgres;

--
-- Name: idempotency_keys; Type: TABLE; Schema: mentoring; Owner: postgres
--

CREATE TABLE mentoring.idempotency_keys (
    caller text NOT NULL,
    key uuid NOT NULL,
    operation text NOT NULL,
    arguments jsonb NOT NULL,
    result jsonb,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT idempotency_keys_caller_check CHECK ((caller ~ '^(system:.+|user:[0-9a-f-]{36})$'::text))
);

ALTER TABLE mentoring.idempotency_keys OWNER TO postgres;

--
-- Name: mentor_coordinators; Type: TABLE; Schema: mentoring; Owner: postgres
--

CREATE TABLE mentoring.mentor_coordinators (
    mentor_id uuid NOT NULL,
    organization_id uuid NOT NULL,
    coordinator_id uuid NOT NULL,
    assigned_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE mentoring.mentor_coordinators OWNER TO postgres;

--
-- Name: organization_staff; Type: TABLE; Schema: mentoring; Owner: postgres
--

CREATE TABLE mentoring.organization_staff (
    organization_id uuid NOT NULL,
    user_id uuid NOT NULL,
    role mentoring.staff_role NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE mentoring.organization_staff OWNER TO postgres;

--
-- Name: notification_audience; Type: VIEW; Schema: mentoring; Owner: postgres
--

CREATE VIEW mentoring.notification_audience WITH (security_invoker='true') AS
 SELECT c.mentor_id,
    c.coordinator_id AS recipient_id
   FROM mentoring.mentor_coordinators c
UNION ALL
 SELECT m.id AS mentor_id,
    s.user_id AS recipient_id
   FROM (mentoring.mentors m
     JOIN mentoring.organization_staff s ON (((s.organization_id = m.organization_id) AND (s.role = 'admin'::mentoring.staff_role))))
  WHERE (NOT (EXISTS ( SELECT
           FROM mentoring.mentor_coordinators c
          WHERE (c.mentor_id = m.id))));

ALTER TABLE mentoring.notification_audience OWNER TO postgres;

--
-- Name: VIEW notification_audience; Type: COMMENT; Schema: mentoring; Owner: postgres
--

COMMENT ON VIEW mentoring.notification_audience IS 'Who hears about a mentor: the assigned coordinators; the organization''s admins when none is assigned. Whoever acted is left out by the reader.';

--
-- Name: organizations; Type: TABLE; Schema: mentoring; Owner: postgres
--

CREATE TABLE mentoring.organizations (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    time_zone text DEFAULT 'UTC'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT name_is_trimmed_and_short CHECK (((name = btrim(name)) AND ((char_length(name) >= 1) AND (char_length(name) <= 200)))),
    CONSTRAINT time_zone_is_known CHECK (mentoring.is_time_zone(time_zone))
);

ALTER TABLE mentoring.organizations OWNER TO postgres;

--
-- Name: COLUMN organizations.time_zone; Type: COMMENT; Schema: mentoring; Owner: postgres
--

COMMENT ON COLUMN mentoring.organizations.time_zone IS 'Dates (pause starts, certification validity) are this zone''s local dates.';

--
-- Name: outbox_id_seq; Type: SEQUENCE; Schema: mentoring; Owner: postgres
--

ALTER TABLE mentoring.outbox ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME mentoring.outbox_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: pause_preconditions; Type: TABLE; Schema: mentoring; Owner: postgres
--

CREATE TABLE mentoring.pause_preconditions (
    name text NOT NULL,
    check_function text NOT NULL,
    description text NOT NULL,
    enabled boolean DEFAULT true NOT NULL,
    registered_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT pause_preconditions_name_check CHECK ((name ~ '^[a-z][a-z0-9_]{0,62}$'::text))
);

ALTER TABLE mentoring.pause_preconditions OWNER TO postgres;

--
-- Name: TABLE pause_preconditions; Type: COMMENT; Schema: mentoring; Owner: postgres
--

COMMENT ON TABLE mentoring.pause_preconditions IS 'check_function names a function (mentor_id uuid) returning setof mentoring.precondition_finding. It runs as the table owner before each manual pause.';

--
-- Name: status_events_id_seq; Type: SEQUENCE; Schema: mentoring; Owner: postgres
--

ALTER TABLE mentoring.status_events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME mentoring.status_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: sweeper_leases; Type: TABLE; Schema: mentoring; Owner: postgres
--

CREATE TABLE mentoring.sweeper_leases (
    name text NOT NULL,
    holder uuid NOT NULL,
    leased_until timestamp with time zone NOT NULL,
    CONSTRAINT sweeper_leases_name_check CHECK ((name ~ '^[a-z][a-z_]*$'::text))
);

ALTER TABLE mentoring.sweeper_leases OWNER TO postgres;

--
-- Name: certifications certifications_pkey; Type: CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.certifications
    ADD CONSTRAINT certifications_pkey PRIMARY KEY (id);

--
-- Name: error_codes error_codes_pkey; Type: CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.error_codes
    ADD CONSTRAINT error_codes_pkey PRIMARY KEY (code);

--
-- Name: idempotency_keys idempotency_keys_pkey; Type: CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.idempotency_keys
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (caller, key);

--
-- Name: mentor_coordinators mentor_coordinators_pkey; Type: CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.mentor_coordinators
    ADD CONSTRAINT mentor_coordinators_pkey PRIMARY KEY (mentor_id, coordinator_id);

--
-- Name: mentors mentors_id_open_pause_id_key; Type: CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.mentors
    ADD CONSTRAINT mentors_id_open_pause_id_key UNIQUE (id, open_pause_id);

--
-- Name: mentors mentors_id_organization_id_key; Type: CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.mentors
    ADD CONSTRAINT mentors_id_organization_id_key UNIQUE (id, organization_id);

--
-- Name: mentors mentors_pkey; Type: CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.mentors
    ADD CONSTRAINT mentors_pkey PRIMARY KEY (id);

--
-- Name: mentors mentors_user_id_key; Type: CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.mentors
    ADD CONSTRAINT mentors_user_id_key UNIQUE (user_id);

--
-- Name: organization_staff organization_staff_pkey; Type: CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.organization_staff
    ADD CONSTRAINT organization_staff_pkey PRIMARY KEY (organization_id, user_id);

--
-- Name: organizations organizations_pkey; Type: CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.organizations
    ADD CONSTRAINT organizations_pkey PRIMARY KEY (id);

--
-- Name: outbox outbox_event_id_recipient_id_kind_key; Type: CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.outbox
    ADD CONSTRAINT outbox_event_id_recipient_id_kind_key UNIQUE (event_id, recipient_id, kind);

--
-- Name: outbox outbox_pkey; Type: CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.outbox
    ADD CONSTRAINT outbox_pkey PRIMARY KEY (id);

--
-- Name: pause_periods pause_periods_mentor_id_open_id_key; Type: CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.pause_periods
    ADD CONSTRAINT pause_periods_mentor_id_open_id_key UNIQUE (mentor_id, open_id);

--
-- Name: pause_periods pause_periods_pkey; Type: CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.pause_periods
    ADD CONSTRAINT pause_periods_pkey PRIMARY KEY (id);

--
-- Name: pause_preconditions pause_preconditions_check_function_key; Type: CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.pause_preconditions
    ADD CONSTRAINT pause_preconditions_check_function_key UNIQUE (check_function);

--
-- Name: pause_preconditions pause_preconditions_pkey; Type: CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.pause_preconditions
    ADD CONSTRAINT pause_preconditions_pkey PRIMARY KEY (name);

--
-- Name: status_events status_events_mentor_id_sequence_key; Type: CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.status_events
    ADD CONSTRAINT status_events_mentor_id_sequence_key UNIQUE (mentor_id, sequence);

--
-- Name: status_events status_events_pkey; Type: CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.status_events
    ADD CONSTRAINT status_events_pkey PRIMARY KEY (id);

--
-- Name: sweeper_leases sweeper_leases_pkey; Type: CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.sweeper_leases
    ADD CONSTRAINT sweeper_leases_pkey PRIMARY KEY (name);

--
-- Name: transitions transitions_pkey; Type: CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.transitions
    ADD CONSTRAINT transitions_pkey PRIMARY KEY (from_status, to_status, actor_kind);

--
-- Name: certifications_mentor_id_idx; Type: INDEX; Schema: mentoring; Owner: postgres
--

CREATE INDEX certifications_mentor_id_idx ON mentoring.certifications USING btree (mentor_id);

--
-- Name: idempotency_keys_created_at_idx; Type: INDEX; Schema: mentoring; Owner: postgres
--

CREATE INDEX idempotency_keys_created_at_idx ON mentoring.idempotency_keys USING btree (created_at);

--
-- Name: mentor_coordinators_coordinator_mentor_idx; Type: INDEX; Schema: mentoring; Owner: postgres
--

CREATE INDEX mentor_coordinators_coordinator_mentor_idx ON mentoring.mentor_coordinators USING btree (coordinator_id, mentor_id);

--
-- Name: mentor_coordinators_mentor_org_idx; Type: INDEX; Schema: mentoring; Owner: postgres
--

CREATE INDEX mentor_coordinators_mentor_org_idx ON mentoring.mentor_coordinators USING btree (mentor_id, organization_id);

--
-- Name: mentor_coordinators_org_coordinator_idx; Type: INDEX; Schema: mentoring; Owner: postgres
--

CREATE INDEX mentor_coordinators_org_coordinator_idx ON mentoring.mentor_coordinators USING btree (organization_id, coordinator_id);

--
-- Name: mentors_expiry_candidates_idx; Type: INDEX; Schema: mentoring; Owner: postgres
--

CREATE INDEX mentors_expiry_candidates_idx ON mentoring.mentors USING btree (certified_through) WHERE (status <> 'expired_cert'::mentoring.mentor_status);

--
-- Name: mentors_organization_id_idx; Type: INDEX; Schema: mentoring; Owner: postgres
--

CREATE INDEX mentors_organization_id_idx ON mentoring.mentors USING btree (organization_id);

--
-- Name: mentors_paused_idx; Type: INDEX; Schema: mentoring; Owner: postgres
--

CREATE INDEX mentors_paused_idx ON mentoring.mentors USING btree (open_pause_id) WHERE (status = 'paused'::mentoring.mentor_status);

--
-- Name: organization_staff_user_id_idx; Type: INDEX; Schema: mentoring; Owner: postgres
--

CREATE INDEX organization_staff_user_id_idx ON mentoring.organization_staff USING btree (user_id);

--
-- Name: outbox_delivered_at_idx; Type: INDEX; Schema: mentoring; Owner: postgres
--

CREATE INDEX outbox_delivered_at_idx ON mentoring.outbox USING btree (delivered_at) WHERE (delivered_at IS NOT NULL);

--
-- Name: outbox_one_reminder_per_pause_and_recipient; Type: INDEX; Schema: mentoring; Owner: postgres
--

CREATE UNIQUE INDEX outbox_one_reminder_per_pause_and_recipient ON mentoring.outbox USING btree (pause_id, recipient_id, kind) WHERE (pause_id IS NOT NULL);

--
-- Name: outbox_pending_by_mentor_idx; Type: INDEX; Schema: mentoring; Owner: postgres
--

CREATE INDEX outbox_pending_by_mentor_idx ON mentoring.outbox USING btree (mentor_id, id) WHERE ((delivered_at IS NULL) AND (dead_at IS NULL));

--
-- Name: outbox_pending_idx; Type: INDEX; Schema: mentoring; Owner: postgres
--

CREATE INDEX outbox_pending_idx ON mentoring.outbox USING btree (id) WHERE ((delivered_at IS NULL) AND (dead_at IS NULL));

--
-- Name: pause_periods_mentor_id_idx; Type: INDEX; Schema: mentoring; Owner: postgres
--

CREATE INDEX pause_periods_mentor_id_idx ON mentoring.pause_periods USING btree (mentor_id, start_date DESC);

--
-- Name: pause_periods_one_open_per_mentor; Type: INDEX; Schema: mentoring; Owner: postgres
--

CREATE UNIQUE INDEX pause_periods_one_open_per_mentor ON mentoring.pause_periods USING btree (mentor_id) WHERE (ended_at IS NULL);

--
-- Name: pause_periods_overdue_idx; Type: INDEX; Schema: mentoring; Owner: postgres
--

CREATE INDEX pause_periods_overdue_idx ON mentoring.pause_periods USING btree (expected_return_date) WHERE ((ended_at IS NULL) AND (overdue_notified_at IS NULL) AND (expected_return_date IS NOT NULL));

--
-- Name: status_events_pause_id_idx; Type: INDEX; Schema: mentoring; Owner: postgres
--

CREATE INDEX status_events_pause_id_idx ON mentoring.status_events USING btree (pause_id);

--
-- Name: status_events append_only; Type: TRIGGER; Schema: mentoring; Owner: postgres
--

CREATE TRIGGER append_only BEFORE DELETE OR UPDATE ON mentoring.status_events FOR EACH ROW EXECUTE FUNCTION mentoring.refuse_audit_change();

--
-- Name: status_events append_only_truncate; Type: TRIGGER; Schema: mentoring; Owner: postgres
--

CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON mentoring.status_events FOR EACH STATEMENT EXECUTE FUNCTION mentoring.refuse_audit_change();

--
-- Name: mentors apply_transitions; Type: TRIGGER; Schema: mentoring; Owner: postgres
--

CREATE TRIGGER apply_transitions AFTER UPDATE ON mentoring.mentors REFERENCING OLD TABLE AS before_rows NEW TABLE AS after_rows FOR EACH STATEMENT EXECUTE FUNCTION mentoring.mentors_apply_transitions();

--
-- Name: certifications certification_changes_wait_for_transitions; Type: TRIGGER; Schema: mentoring; Owner: postgres
--

CREATE TRIGGER certification_changes_wait_for_transitions BEFORE INSERT OR DELETE OR UPDATE ON mentoring.certifications FOR EACH ROW EXECUTE FUNCTION mentoring.certifications_lock_mentor();

--
-- Name: pause_periods changed_by_the_state_machine_only; Type: TRIGGER; Schema: mentoring; Owner: postgres
--

CREATE TRIGGER changed_by_the_state_machine_only AFTER UPDATE ON mentoring.pause_periods REFERENCING OLD TABLE AS old_pauses NEW TABLE AS new_pauses FOR EACH STATEMENT EXECUTE FUNCTION mentoring.refuse_pause_rewrite();

--
-- Name: mentors compute_certified_through; Type: TRIGGER; Schema: mentoring; Owner: postgres
--

CREATE TRIGGER compute_certified_through BEFORE INSERT OR UPDATE OF organization_id, certified_through ON mentoring.mentors FOR EACH ROW EXECUTE FUNCTION mentoring.mentors_compute_certified_through();

--
-- Name: idempotency_keys keys_hold_their_result; Type: TRIGGER; Schema: mentoring; Owner: postgres
--

CREATE CONSTRAINT TRIGGER keys_hold_their_result AFTER INSERT ON mentoring.idempotency_keys DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION mentoring.idempotency_keys_hold_a_result();

--
-- Name: pause_periods never_deleted; Type: TRIGGER; Schema: mentoring; Owner: postgres
--

CREATE TRIGGER never_deleted BEFORE DELETE ON mentoring.pause_periods FOR EACH ROW EXECUTE FUNCTION mentoring.refuse_pause_removal();

--
-- Name: pause_periods never_truncated; Type: TRIGGER; Schema: mentoring; Owner: postgres
--

CREATE TRIGGER never_truncated BEFORE TRUNCATE ON mentoring.pause_periods FOR EACH STATEMENT EXECUTE FUNCTION mentoring.refuse_pause_removal();

--
-- Name: mentors new_active_mentor_is_certified; Type: TRIGGER; Schema: mentoring; Owner: postgres
--

CREATE CONSTRAINT TRIGGER new_active_mentor_is_certified AFTER INSERT ON mentoring.mentors DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION mentoring.mentors_new_active_is_certified();

--
-- Name: mentors new_mentor_starts_clean; Type: TRIGGER; Schema: mentoring; Owner: postgres
--

CREATE TRIGGER new_mentor_starts_clean BEFORE INSERT ON mentoring.mentors FOR EACH ROW EXECUTE FUNCTION mentoring.mentors_before_insert();

--
-- Name: certifications refresh_all_certified_through_after_truncate; Type: TRIGGER; Schema: mentoring; Owner: postgres
--

CREATE TRIGGER refresh_all_certified_through_after_truncate AFTER TRUNCATE ON mentoring.certifications FOR EACH STATEMENT EXECUTE FUNCTION mentoring.certifications_refresh_all_mentors();

--
-- Name: organizations refresh_certified_through_on_time_zone_change; Type: TRIGGER; Schema: mentoring; Owner: postgres
--

CREATE TRIGGER refresh_certified_through_on_time_zone_change AFTER UPDATE OF time_zone ON mentoring.organizations FOR EACH ROW WHEN ((old.time_zone IS DISTINCT FROM new.time_zone)) EXECUTE FUNCTION mentoring.organizations_refresh_mentors();

--
-- Name: certifications refresh_mentors_certified_through; Type: TRIGGER; Schema: mentoring; Owner: postgres
--

CREATE TRIGGER refresh_mentors_certified_through AFTER INSERT OR DELETE OR UPDATE ON mentoring.certifications FOR EACH ROW EXECUTE FUNCTION mentoring.certifications_refresh_mentor();

--
-- Name: mentors state_machine; Type: TRIGGER; Schema: mentoring; Owner: postgres
--

CREATE TRIGGER state_machine BEFORE UPDATE ON mentoring.mentors FOR EACH ROW EXECUTE FUNCTION mentoring.mentors_before_update();

--
-- Name: status_events state_machine_inserts_only; Type: TRIGGER; Schema: mentoring; Owner: postgres
--

CREATE TRIGGER state_machine_inserts_only BEFORE INSERT ON mentoring.status_events FOR EACH STATEMENT EXECUTE FUNCTION mentoring.refuse_foreign_event();

--
-- Name: pause_preconditions validate_check_function; Type: TRIGGER; Schema: mentoring; Owner: postgres
--

CREATE TRIGGER validate_check_function BEFORE INSERT OR UPDATE OF check_function ON mentoring.pause_preconditions FOR EACH ROW EXECUTE FUNCTION mentoring.pause_preconditions_validate();

--
-- Name: certifications certifications_mentor_id_fkey; Type: FK CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.certifications
    ADD CONSTRAINT certifications_mentor_id_fkey FOREIGN KEY (mentor_id) REFERENCES mentoring.mentors(id) ON DELETE CASCADE;

--
-- Name: mentor_coordinators mentor_coordinators_mentor_id_organization_id_fkey; Type: FK CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.mentor_coordinators
    ADD CONSTRAINT mentor_coordinators_mentor_id_organization_id_fkey FOREIGN KEY (mentor_id, organization_id) REFERENCES mentoring.mentors(id, organization_id) ON DELETE CASCADE;

--
-- Name: mentor_coordinators mentor_coordinators_organization_id_coordinator_id_fkey; Type: FK CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.mentor_coordinators
    ADD CONSTRAINT mentor_coordinators_organization_id_coordinator_id_fkey FOREIGN KEY (organization_id, coordinator_id) REFERENCES mentoring.organization_staff(organization_id, user_id) ON DELETE CASCADE;

--
-- Name: mentors mentors_organization_id_fkey; Type: FK CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.mentors
    ADD CONSTRAINT mentors_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES mentoring.organizations(id) ON DELETE RESTRICT;

--
-- Name: mentors mentors_user_id_fkey; Type: FK CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.mentors
    ADD CONSTRAINT mentors_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE SET NULL;

--
-- Name: mentors open_pause_is_open_and_own; Type: FK CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.mentors
    ADD CONSTRAINT open_pause_is_open_and_own FOREIGN KEY (id, open_pause_id) REFERENCES mentoring.pause_periods(mentor_id, open_id) DEFERRABLE INITIALLY DEFERRED;

--
-- Name: pause_periods open_pause_is_the_mentors; Type: FK CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.pause_periods
    ADD CONSTRAINT open_pause_is_the_mentors FOREIGN KEY (mentor_id, open_id) REFERENCES mentoring.mentors(id, open_pause_id) DEFERRABLE INITIALLY DEFERRED;

--
-- Name: organization_staff organization_staff_organization_id_fkey; Type: FK CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.organization_staff
    ADD CONSTRAINT organization_staff_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES mentoring.organizations(id) ON DELETE CASCADE;

--
-- Name: organization_staff organization_staff_user_id_fkey; Type: FK CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.organization_staff
    ADD CONSTRAINT organization_staff_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;

--
-- Name: outbox outbox_event_id_fkey; Type: FK CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.outbox
    ADD CONSTRAINT outbox_event_id_fkey FOREIGN KEY (event_id) REFERENCES mentoring.status_events(id);

--
-- Name: outbox outbox_pause_id_fkey; Type: FK CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.outbox
    ADD CONSTRAINT outbox_pause_id_fkey FOREIGN KEY (pause_id) REFERENCES mentoring.pause_periods(id);

--
-- Name: pause_periods pause_periods_mentor_id_fkey; Type: FK CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.pause_periods
    ADD CONSTRAINT pause_periods_mentor_id_fkey FOREIGN KEY (mentor_id) REFERENCES mentoring.mentors(id);

--
-- Name: status_events status_events_mentor_id_fkey; Type: FK CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.status_events
    ADD CONSTRAINT status_events_mentor_id_fkey FOREIGN KEY (mentor_id) REFERENCES mentoring.mentors(id);

--
-- Name: status_events status_events_pause_id_fkey; Type: FK CONSTRAINT; Schema: mentoring; Owner: postgres
--

ALTER TABLE ONLY mentoring.status_events
    ADD CONSTRAINT status_events_pause_id_fkey FOREIGN KEY (pause_id) REFERENCES mentoring.pause_periods(id);

--
-- Name: certifications; Type: ROW SECURITY; Schema: mentoring; Owner: postgres
--

ALTER TABLE mentoring.certifications ENABLE ROW LEVEL SECURITY;

--
-- Name: error_codes; Type: ROW SECURITY; Schema: mentoring; Owner: postgres
--

ALTER TABLE mentoring.error_codes ENABLE ROW LEVEL SECURITY;

--
-- Name: error_codes everyone_signed_in_reads_the_error_codes; Type: POLICY; Schema: mentoring; Owner: postgres
--

CREATE POLICY everyone_signed_in_reads_the_error_codes ON mentoring.error_codes FOR SELECT TO authenticated USING (true);

--
-- Name: transitions everyone_signed_in_reads_the_state_machine; Type: POLICY; Schema: mentoring; Owner: postgres
--

CREATE POLICY everyone_signed_in_reads_the_state_machine ON mentoring.transitions FOR SELECT TO authenticated USING (true);

--
-- Name: idempotency_keys; Type: ROW SECURITY; Schema: mentoring; Owner: postgres
--

ALTER TABLE mentoring.idempotency_keys ENABLE ROW LEVEL SECURITY;

--
-- Name: organizations members_see_their_organization; Type: POLICY; Schema: mentoring; Owner: postgres
--

CREATE POLICY members_see_their_organization ON mentoring.organizations FOR SELECT TO authenticated USING ((id = ANY (( SELECT mentoring.caller_organizations() AS caller_organizations)::uuid[])));

--
-- Name: mentors mentor_coordinator_or_admin_changes_the_status; Type: POLICY; Schema: mentoring; Owner: postgres
--

CREATE POLICY mentor_coordinator_or_admin_changes_the_status ON mentoring.mentors FOR UPDATE TO authenticated USING (((user_id = ( SELECT auth.uid() AS uid)) OR (EXISTS ( SELECT
   FROM mentoring.mentor_coordinators c
  WHERE ((c.mentor_id = mentors.id) AND (c.coordinator_id = ( SELECT auth.uid() AS uid))))) OR (organization_id = ANY (( SELECT mentoring.caller_administered_organizations() AS caller_administered_organizations)::uuid[])))) WITH CHECK (((user_id = ( SELECT auth.uid() AS uid)) OR (EXISTS ( SELECT
   FROM mentoring.mentor_coordinators c
  WHERE ((c.mentor_id = mentors.id) AND (c.coordinator_id = ( SELECT auth.uid() AS uid))))) OR (organization_id = ANY (( SELECT mentoring.caller_administered_organizations() AS caller_administered_organizations)::uuid[]))));

--
-- Name: mentors mentor_coordinator_or_admin_sees_the_mentor; Type: POLICY; Schema: mentoring; Owner: postgres
--

CREATE POLICY mentor_coordinator_or_admin_sees_the_mentor ON mentoring.mentors FOR SELECT TO authenticated USING (((user_id = ( SELECT auth.uid() AS uid)) OR (EXISTS ( SELECT
   FROM mentoring.mentor_coordinators c
  WHERE ((c.mentor_id = mentors.id) AND (c.coordinator_id = ( SELECT auth.uid() AS uid))))) OR (organization_id = ANY (( SELECT mentoring.caller_administered_organizations() AS caller_administered_organizations)::uuid[]))));

--
-- Name: mentor_coordinators; Type: ROW SECURITY; Schema: mentoring; Owner: postgres
--

ALTER TABLE mentoring.mentor_coordinators ENABLE ROW LEVEL SECURITY;

--
-- Name: mentors; Type: ROW SECURITY; Schema: mentoring; Owner: postgres
--

ALTER TABLE mentoring.mentors ENABLE ROW LEVEL SECURITY;

--
-- Name: organization_staff; Type: ROW SECURITY; Schema: mentoring; Owner: postgres
--

ALTER TABLE mentoring.organization_staff ENABLE ROW LEVEL SECURITY;

--
-- Name: organizations; Type: ROW SECURITY; Schema: mentoring; Owner: postgres
--

ALTER TABLE mentoring.organizations ENABLE ROW LEVEL SECURITY;

--
-- Name: outbox; Type: ROW SECURITY; Schema: mentoring; Owner: postgres
--

ALTER TABLE mentoring.outbox ENABLE ROW LEVEL SECURITY;

--
-- Name: pause_periods; Type: ROW SECURITY; Schema: mentoring; Owner: postgres
--

ALTER TABLE mentoring.pause_periods ENABLE ROW LEVEL SECURITY;

--
-- Name: pause_preconditions; Type: ROW SECURITY; Schema: mentoring; Owner: postgres
--

ALTER TABLE mentoring.pause_preconditions ENABLE ROW LEVEL SECURITY;

--
-- Name: outbox relays_read_the_outbox; Type: POLICY; Schema: mentoring; Owner: postgres
--

CREATE POLICY relays_read_the_outbox ON mentoring.outbox FOR SELECT TO mentoring_relay USING (true);

--
-- Name: organization_staff staff_see_themselves_and_admins_their_staff; Type: POLICY; Schema: mentoring; Owner: postgres
--

CREATE POLICY staff_see_themselves_and_admins_their_staff ON mentoring.organization_staff FOR SELECT TO authenticated USING (((user_id = ( SELECT auth.uid() AS uid)) OR (organization_id = ANY (( SELECT mentoring.caller_administered_organizations() AS caller_administered_organizations)::uuid[]))));

--
-- Name: status_events; Type: ROW SECURITY; Schema: mentoring; Owner: postgres
--

ALTER TABLE mentoring.status_events ENABLE ROW LEVEL SECURITY;

--
-- Name: sweeper_leases; Type: ROW SECURITY; Schema: mentoring; Owner: postgres
--

ALTER TABLE mentoring.sweeper_leases ENABLE ROW LEVEL SECURITY;

--
-- Name: transitions; Type: ROW SECURITY; Schema: mentoring; Owner: postgres
--

ALTER TABLE mentoring.transitions ENABLE ROW LEVEL SECURITY;

--
-- Name: mentor_coordinators visible_mentors_assignments; Type: POLICY; Schema: mentoring; Owner: postgres
--

CREATE POLICY visible_mentors_assignments ON mentoring.mentor_coordinators FOR SELECT TO authenticated USING (((coordinator_id = ( SELECT auth.uid() AS uid)) OR mentoring.caller_sees_mentor(mentor_id)));

--
-- Name: certifications visible_mentors_certifications; Type: POLICY; Schema: mentoring; Owner: postgres
--

CREATE POLICY visible_mentors_certifications ON mentoring.certifications FOR SELECT TO authenticated USING ((EXISTS ( SELECT
   FROM mentoring.mentors m
  WHERE (m.id = certifications.mentor_id))));

--
-- Name: status_events visible_mentors_events; Type: POLICY; Schema: mentoring; Owner: postgres
--

CREATE POLICY visible_mentors_events ON mentoring.status_events FOR SELECT TO authenticated USING ((EXISTS ( SELECT
   FROM mentoring.mentors m
  WHERE (m.id = status_events.mentor_id))));

--
-- Name: pause_periods visible_mentors_pauses; Type: POLICY; Schema: mentoring; Owner: postgres
--

CREATE POLICY visible_mentors_pauses ON mentoring.pause_periods FOR SELECT TO authenticated USING ((EXISTS ( SELECT
   FROM mentoring.mentors m
  WHERE (m.id = pause_periods.mentor_id))));

--
-- Name: SCHEMA api; Type: ACL; Schema: -; Owner: postgres
--

GRANT USAGE ON SCHEMA api TO authenticated;
GRANT USAGE ON SCHEMA api TO service_role;

--
-- Name: SCHEMA mentoring; Type: ACL; Schema: -; Owner: postgres
--

GRANT USAGE ON SCHEMA mentoring TO authenticated;
GRANT USAGE ON SCHEMA mentoring TO service_role;
GRANT USAGE ON SCHEMA mentoring TO mentoring_relay;

--
-- Name: FUNCTION activate_pause(mentor_id uuid, reason text, expected_return_date date, force boolean, idempotency_key uuid); Type: ACL; Schema: api; Owner: postgres
--

REVOKE ALL ON FUNCTION api.activate_pause(mentor_id uuid, reason text, expected_return_date date, force boolean, idempotency_key uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.activate_pause(mentor_id uuid, reason text, expected_return_date date, force boolean, idempotency_key uuid) TO authenticated;
GRANT ALL ON FUNCTION api.activate_pause(mentor_id uuid, reason text, expected_return_date date, force boolean, idempotency_key uuid) TO service_role;

--
-- Name: FUNCTION auto_expire_for_certification(mentor_id uuid); Type: ACL; Schema: api; Owner: postgres
--

REVOKE ALL ON FUNCTION api.auto_expire_for_certification(mentor_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.auto_expire_for_certification(mentor_id uuid) TO authenticated;
GRANT ALL ON FUNCTION api.auto_expire_for_certification(mentor_id uuid) TO service_role;

--
-- Name: FUNCTION expire_lapsed_certifications(batch_size integer); Type: ACL; Schema: api; Owner: postgres
--

REVOKE ALL ON FUNCTION api.expire_lapsed_certifications(batch_size integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.expire_lapsed_certifications(batch_size integer) TO authenticated;
GRANT ALL ON FUNCTION api.expire_lapsed_certifications(batch_size integer) TO service_role;

--
-- Name: FUNCTION get_current_status(mentor_id uuid); Type: ACL; Schema: api; Owner: postgres
--

REVOKE ALL ON FUNCTION api.get_current_status(mentor_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_current_status(mentor_id uuid) TO authenticated;
GRANT ALL ON FUNCTION api.get_current_status(mentor_id uuid) TO service_role;

--
-- Name: FUNCTION get_pause_history(mentor_id uuid); Type: ACL; Schema: api; Owner: postgres
--

REVOKE ALL ON FUNCTION api.get_pause_history(mentor_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_pause_history(mentor_id uuid) TO authenticated;
GRANT ALL ON FUNCTION api.get_pause_history(mentor_id uuid) TO service_role;

--
-- Name: FUNCTION get_paused_mentors(coordinator_id uuid); Type: ACL; Schema: api; Owner: postgres
--

REVOKE ALL ON FUNCTION api.get_paused_mentors(coordinator_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_paused_mentors(coordinator_id uuid) TO authenticated;
GRANT ALL ON FUNCTION api.get_paused_mentors(coordinator_id uuid) TO service_role;

--
-- Name: FUNCTION is_transition_allowed(current_status text, target_status text); Type: ACL; Schema: api; Owner: postgres
--

REVOKE ALL ON FUNCTION api.is_transition_allowed(current_status text, target_status text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.is_transition_allowed(current_status text, target_status text) TO authenticated;
GRANT ALL ON FUNCTION api.is_transition_allowed(current_status text, target_status text) TO service_role;

--
-- Name: FUNCTION lift_pause(mentor_id uuid, reason text, idempotency_key uuid); Type: ACL; Schema: api; Owner: postgres
--

REVOKE ALL ON FUNCTION api.lift_pause(mentor_id uuid, reason text, idempotency_key uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.lift_pause(mentor_id uuid, reason text, idempotency_key uuid) TO authenticated;
GRANT ALL ON FUNCTION api.lift_pause(mentor_id uuid, reason text, idempotency_key uuid) TO service_role;

--
-- Name: FUNCTION reactivate_mentor(mentor_id uuid, reason text, idempotency_key uuid); Type: ACL; Schema: api; Owner: postgres
--

REVOKE ALL ON FUNCTION api.reactivate_mentor(mentor_id uuid, reason text, idempotency_key uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.reactivate_mentor(mentor_id uuid, reason text, idempotency_key uuid) TO authenticated;
GRANT ALL ON FUNCTION api.reactivate_mentor(mentor_id uuid, reason text, idempotency_key uuid) TO service_role;

--
-- Name: FUNCTION assigned_paused_mentors(coordinator uuid); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.assigned_paused_mentors(coordinator uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.assigned_paused_mentors(coordinator uuid) TO authenticated;
GRANT ALL ON FUNCTION mentoring.assigned_paused_mentors(coordinator uuid) TO service_role;

--
-- Name: FUNCTION caller_administered_organizations(); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.caller_administered_organizations() FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.caller_administered_organizations() TO authenticated;
GRANT ALL ON FUNCTION mentoring.caller_administered_organizations() TO service_role;

--
-- Name: FUNCTION caller_key(); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.caller_key() FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.caller_key() TO authenticated;
GRANT ALL ON FUNCTION mentoring.caller_key() TO service_role;

--
-- Name: FUNCTION caller_organizations(); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.caller_organizations() FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.caller_organizations() TO authenticated;
GRANT ALL ON FUNCTION mentoring.caller_organizations() TO service_role;

--
-- Name: FUNCTION caller_pause_findings(mentor_id uuid); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.caller_pause_findings(mentor_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.caller_pause_findings(mentor_id uuid) TO authenticated;
GRANT ALL ON FUNCTION mentoring.caller_pause_findings(mentor_id uuid) TO service_role;

--
-- Name: FUNCTION caller_paused_mentors(); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.caller_paused_mentors() FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.caller_paused_mentors() TO authenticated;
GRANT ALL ON FUNCTION mentoring.caller_paused_mentors() TO service_role;

--
-- Name: FUNCTION caller_sees_mentor(mentor_id uuid); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.caller_sees_mentor(mentor_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.caller_sees_mentor(mentor_id uuid) TO authenticated;
GRANT ALL ON FUNCTION mentoring.caller_sees_mentor(mentor_id uuid) TO service_role;

--
-- Name: FUNCTION certification_coverage(mentor_id uuid, on_date date); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.certification_coverage(mentor_id uuid, on_date date) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.certification_coverage(mentor_id uuid, on_date date) TO authenticated;
GRANT ALL ON FUNCTION mentoring.certification_coverage(mentor_id uuid, on_date date) TO service_role;

--
-- Name: FUNCTION certifications_lock_mentor(); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.certifications_lock_mentor() FROM PUBLIC;

--
-- Name: FUNCTION certifications_refresh_all_mentors(); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.certifications_refresh_all_mentors() FROM PUBLIC;

--
-- Name: FUNCTION certifications_refresh_mentor(); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.certifications_refresh_mentor() FROM PUBLIC;

--
-- Name: FUNCTION certified_through(mentor_id uuid, on_date date); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.certified_through(mentor_id uuid, on_date date) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.certified_through(mentor_id uuid, on_date date) TO authenticated;
GRANT ALL ON FUNCTION mentoring.certified_through(mentor_id uuid, on_date date) TO service_role;

--
-- Name: TABLE outbox; Type: ACL; Schema: mentoring; Owner: postgres
--

GRANT SELECT ON TABLE mentoring.outbox TO service_role;
GRANT SELECT ON TABLE mentoring.outbox TO mentoring_relay;

--
-- Name: FUNCTION claim_outbox(batch_size integer, lease interval); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.claim_outbox(batch_size integer, lease interval) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.claim_outbox(batch_size integer, lease interval) TO mentoring_relay;
GRANT ALL ON FUNCTION mentoring.claim_outbox(batch_size integer, lease interval) TO service_role;

--
-- Name: FUNCTION clean_text(value text, field text, required boolean); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.clean_text(value text, field text, required boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.clean_text(value text, field text, required boolean) TO authenticated;
GRANT ALL ON FUNCTION mentoring.clean_text(value text, field text, required boolean) TO service_role;

--
-- Name: TABLE status_events; Type: ACL; Schema: mentoring; Owner: postgres
--

GRANT SELECT ON TABLE mentoring.status_events TO authenticated;
GRANT SELECT ON TABLE mentoring.status_events TO service_role;

--
-- Name: FUNCTION event_json(event mentoring.status_events); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.event_json(event mentoring.status_events) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.event_json(event mentoring.status_events) TO authenticated;
GRANT ALL ON FUNCTION mentoring.event_json(event mentoring.status_events) TO service_role;

--
-- Name: FUNCTION idempotency_keys_hold_a_result(); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.idempotency_keys_hold_a_result() FROM PUBLIC;

--
-- Name: FUNCTION idempotent_arguments_limit(); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.idempotent_arguments_limit() FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.idempotent_arguments_limit() TO authenticated;
GRANT ALL ON FUNCTION mentoring.idempotent_arguments_limit() TO service_role;

--
-- Name: FUNCTION idempotent_operation(operation text, OUT target mentoring.mentor_status, OUT argument_names text[]); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.idempotent_operation(operation text, OUT target mentoring.mentor_status, OUT argument_names text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.idempotent_operation(operation text, OUT target mentoring.mentor_status, OUT argument_names text[]) TO authenticated;
GRANT ALL ON FUNCTION mentoring.idempotent_operation(operation text, OUT target mentoring.mentor_status, OUT argument_names text[]) TO service_role;

--
-- Name: FUNCTION idempotent_replay(operation text, key uuid, arguments jsonb); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.idempotent_replay(operation text, key uuid, arguments jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.idempotent_replay(operation text, key uuid, arguments jsonb) TO authenticated;
GRANT ALL ON FUNCTION mentoring.idempotent_replay(operation text, key uuid, arguments jsonb) TO service_role;

--
-- Name: FUNCTION idempotent_transition(operation text, idempotency_key uuid, arguments jsonb, target mentoring.mentor_status, allowed_from mentoring.mentor_status[]); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.idempotent_transition(operation text, idempotency_key uuid, arguments jsonb, target mentoring.mentor_status, allowed_from mentoring.mentor_status[]) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.idempotent_transition(operation text, idempotency_key uuid, arguments jsonb, target mentoring.mentor_status, allowed_from mentoring.mentor_status[]) TO authenticated;
GRANT ALL ON FUNCTION mentoring.idempotent_transition(operation text, idempotency_key uuid, arguments jsonb, target mentoring.mentor_status, allowed_from mentoring.mentor_status[]) TO service_role;

--
-- Name: FUNCTION is_certified(mentor_id uuid, on_date date); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.is_certified(mentor_id uuid, on_date date) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.is_certified(mentor_id uuid, on_date date) TO authenticated;
GRANT ALL ON FUNCTION mentoring.is_certified(mentor_id uuid, on_date date) TO service_role;

--
-- Name: FUNCTION is_state_machine_writing(); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.is_state_machine_writing() FROM PUBLIC;

--
-- Name: FUNCTION is_time_zone(name text); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.is_time_zone(name text) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.is_time_zone(name text) TO authenticated;
GRANT ALL ON FUNCTION mentoring.is_time_zone(name text) TO service_role;

--
-- Name: FUNCTION is_trusted_check(check_fn regproc); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.is_trusted_check(check_fn regproc) FROM PUBLIC;

--
-- Name: FUNCTION mentors_apply_transitions(); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.mentors_apply_transitions() FROM PUBLIC;

--
-- Name: FUNCTION mentors_before_insert(); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.mentors_before_insert() FROM PUBLIC;

--
-- Name: FUNCTION mentors_before_update(); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.mentors_before_update() FROM PUBLIC;

--
-- Name: FUNCTION mentors_compute_certified_through(); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.mentors_compute_certified_through() FROM PUBLIC;

--
-- Name: FUNCTION mentors_new_active_is_certified(); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.mentors_new_active_is_certified() FROM PUBLIC;

--
-- Name: TABLE mentors; Type: ACL; Schema: mentoring; Owner: postgres
--

GRANT SELECT ON TABLE mentoring.mentors TO authenticated;
GRANT SELECT ON TABLE mentoring.mentors TO service_role;

--
-- Name: COLUMN mentors.status; Type: ACL; Schema: mentoring; Owner: postgres
--

GRANT UPDATE(status) ON TABLE mentoring.mentors TO authenticated;
GRANT UPDATE(status) ON TABLE mentoring.mentors TO service_role;

--
-- Name: FUNCTION notification_recipients(mentor mentoring.mentors, actor_user_id uuid); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.notification_recipients(mentor mentoring.mentors, actor_user_id uuid) FROM PUBLIC;

--
-- Name: FUNCTION organization_today(organization_id uuid); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.organization_today(organization_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.organization_today(organization_id uuid) TO authenticated;
GRANT ALL ON FUNCTION mentoring.organization_today(organization_id uuid) TO service_role;

--
-- Name: FUNCTION organizations_refresh_mentors(); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.organizations_refresh_mentors() FROM PUBLIC;

--
-- Name: FUNCTION outbox_delivered(ids bigint[]); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.outbox_delivered(ids bigint[]) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.outbox_delivered(ids bigint[]) TO mentoring_relay;
GRANT ALL ON FUNCTION mentoring.outbox_delivered(ids bigint[]) TO service_role;

--
-- Name: FUNCTION outbox_failed(id bigint, claim_id uuid, error text, retry_at timestamp with time zone); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.outbox_failed(id bigint, claim_id uuid, error text, retry_at timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.outbox_failed(id bigint, claim_id uuid, error text, retry_at timestamp with time zone) TO mentoring_relay;
GRANT ALL ON FUNCTION mentoring.outbox_failed(id bigint, claim_id uuid, error text, retry_at timestamp with time zone) TO service_role;

--
-- Name: FUNCTION outbox_failed_v2(ids bigint[], claim_ids uuid[], errors text[], retry_ats timestamp with time zone[]); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.outbox_failed_v2(ids bigint[], claim_ids uuid[], errors text[], retry_ats timestamp with time zone[]) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.outbox_failed_v2(ids bigint[], claim_ids uuid[], errors text[], retry_ats timestamp with time zone[]) TO mentoring_relay;
GRANT ALL ON FUNCTION mentoring.outbox_failed_v2(ids bigint[], claim_ids uuid[], errors text[], retry_ats timestamp with time zone[]) TO service_role;

--
-- Name: FUNCTION outbox_purge_delivered(older_than interval); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.outbox_purge_delivered(older_than interval) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.outbox_purge_delivered(older_than interval) TO mentoring_relay;
GRANT ALL ON FUNCTION mentoring.outbox_purge_delivered(older_than interval) TO service_role;

--
-- Name: FUNCTION outbox_release(claim_id uuid, ids bigint[]); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.outbox_release(claim_id uuid, ids bigint[]) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.outbox_release(claim_id uuid, ids bigint[]) TO mentoring_relay;
GRANT ALL ON FUNCTION mentoring.outbox_release(claim_id uuid, ids bigint[]) TO service_role;

--
-- Name: FUNCTION outbox_release_v2(claim_id uuid, ids bigint[]); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.outbox_release_v2(claim_id uuid, ids bigint[]) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.outbox_release_v2(claim_id uuid, ids bigint[]) TO mentoring_relay;
GRANT ALL ON FUNCTION mentoring.outbox_release_v2(claim_id uuid, ids bigint[]) TO service_role;

--
-- Name: FUNCTION outbox_requeue(ids bigint[]); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.outbox_requeue(ids bigint[]) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.outbox_requeue(ids bigint[]) TO mentoring_relay;
GRANT ALL ON FUNCTION mentoring.outbox_requeue(ids bigint[]) TO service_role;

--
-- Name: FUNCTION outbox_stats(); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.outbox_stats() FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.outbox_stats() TO mentoring_relay;
GRANT ALL ON FUNCTION mentoring.outbox_stats() TO service_role;

--
-- Name: FUNCTION pause_findings(mentor_id uuid); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.pause_findings(mentor_id uuid) FROM PUBLIC;

--
-- Name: FUNCTION pause_preconditions_validate(); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.pause_preconditions_validate() FROM PUBLIC;

--
-- Name: FUNCTION purge_idempotency_keys(older_than interval); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.purge_idempotency_keys(older_than interval) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.purge_idempotency_keys(older_than interval) TO service_role;

--
-- Name: FUNCTION raise_error(code text, message text, details jsonb, hint text); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.raise_error(code text, message text, details jsonb, hint text) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.raise_error(code text, message text, details jsonb, hint text) TO authenticated;
GRANT ALL ON FUNCTION mentoring.raise_error(code text, message text, details jsonb, hint text) TO service_role;

--
-- Name: FUNCTION raise_refusal(refusal jsonb); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.raise_refusal(refusal jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.raise_refusal(refusal jsonb) TO authenticated;
GRANT ALL ON FUNCTION mentoring.raise_refusal(refusal jsonb) TO service_role;

--
-- Name: TABLE transitions; Type: ACL; Schema: mentoring; Owner: postgres
--

GRANT SELECT ON TABLE mentoring.transitions TO authenticated;
GRANT SELECT ON TABLE mentoring.transitions TO service_role;

--
-- Name: FUNCTION refusal(mentor_id uuid, from_status mentoring.mentor_status, to_status mentoring.mentor_status, actor_kind mentoring.actor_kind, actor_user_id uuid, rule mentoring.transitions, any_rule boolean, pause_started_by uuid, force boolean, certified boolean, today date); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.refusal(mentor_id uuid, from_status mentoring.mentor_status, to_status mentoring.mentor_status, actor_kind mentoring.actor_kind, actor_user_id uuid, rule mentoring.transitions, any_rule boolean, pause_started_by uuid, force boolean, certified boolean, today date) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.refusal(mentor_id uuid, from_status mentoring.mentor_status, to_status mentoring.mentor_status, actor_kind mentoring.actor_kind, actor_user_id uuid, rule mentoring.transitions, any_rule boolean, pause_started_by uuid, force boolean, certified boolean, today date) TO authenticated;
GRANT ALL ON FUNCTION mentoring.refusal(mentor_id uuid, from_status mentoring.mentor_status, to_status mentoring.mentor_status, actor_kind mentoring.actor_kind, actor_user_id uuid, rule mentoring.transitions, any_rule boolean, pause_started_by uuid, force boolean, certified boolean, today date) TO service_role;

--
-- Name: FUNCTION refuse_audit_change(); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.refuse_audit_change() FROM PUBLIC;

--
-- Name: FUNCTION refuse_foreign_event(); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.refuse_foreign_event() FROM PUBLIC;

--
-- Name: FUNCTION refuse_pause_removal(); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.refuse_pause_removal() FROM PUBLIC;

--
-- Name: FUNCTION refuse_pause_rewrite(); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.refuse_pause_rewrite() FROM PUBLIC;

--
-- Name: FUNCTION relay_awake_lock(); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.relay_awake_lock() FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.relay_awake_lock() TO mentoring_relay;
GRANT ALL ON FUNCTION mentoring.relay_awake_lock() TO service_role;

--
-- Name: FUNCTION relay_fence_lock(); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.relay_fence_lock() FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.relay_fence_lock() TO mentoring_relay;
GRANT ALL ON FUNCTION mentoring.relay_fence_lock() TO service_role;

--
-- Name: FUNCTION release_sweeper_lease(holder uuid); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.release_sweeper_lease(holder uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.release_sweeper_lease(holder uuid) TO service_role;

--
-- Name: FUNCTION remind_overdue_pauses(batch_size integer); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.remind_overdue_pauses(batch_size integer) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.remind_overdue_pauses(batch_size integer) TO service_role;

--
-- Name: FUNCTION request_role(); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.request_role() FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.request_role() TO authenticated;
GRANT ALL ON FUNCTION mentoring.request_role() TO service_role;

--
-- Name: FUNCTION request_transition(mentor_id uuid, target mentoring.mentor_status, allowed_from mentoring.mentor_status[], request jsonb); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.request_transition(mentor_id uuid, target mentoring.mentor_status, allowed_from mentoring.mentor_status[], request jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.request_transition(mentor_id uuid, target mentoring.mentor_status, allowed_from mentoring.mentor_status[], request jsonb) TO authenticated;
GRANT ALL ON FUNCTION mentoring.request_transition(mentor_id uuid, target mentoring.mentor_status, allowed_from mentoring.mentor_status[], request jsonb) TO service_role;

--
-- Name: FUNCTION resolve_actor(mentor mentoring.mentors, OUT kind mentoring.actor_kind, OUT user_id uuid); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.resolve_actor(mentor mentoring.mentors, OUT kind mentoring.actor_kind, OUT user_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.resolve_actor(mentor mentoring.mentors, OUT kind mentoring.actor_kind, OUT user_id uuid) TO authenticated;
GRANT ALL ON FUNCTION mentoring.resolve_actor(mentor mentoring.mentors, OUT kind mentoring.actor_kind, OUT user_id uuid) TO service_role;

--
-- Name: FUNCTION search_path_ends_with_pg_temp(config text[]); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.search_path_ends_with_pg_temp(config text[]) FROM PUBLIC;

--
-- Name: FUNCTION seen_mentor(mentor_id uuid); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.seen_mentor(mentor_id uuid) FROM PUBLIC;

--
-- Name: TABLE pause_periods; Type: ACL; Schema: mentoring; Owner: postgres
--

GRANT SELECT ON TABLE mentoring.pause_periods TO authenticated;
GRANT SELECT ON TABLE mentoring.pause_periods TO service_role;

--
-- Name: FUNCTION status_event_hash(prev_hash bytea, mentor_id uuid, sequence integer, from_status mentoring.mentor_status, to_status mentoring.mentor_status, reason text, actor_user_id uuid, actor_kind mentoring.actor_kind, database_role text, forced boolean, findings jsonb, idempotency_key uuid, pause_id uuid, occurred_at timestamp with time zone, pause mentoring.pause_periods); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.status_event_hash(prev_hash bytea, mentor_id uuid, sequence integer, from_status mentoring.mentor_status, to_status mentoring.mentor_status, reason text, actor_user_id uuid, actor_kind mentoring.actor_kind, database_role text, forced boolean, findings jsonb, idempotency_key uuid, pause_id uuid, occurred_at timestamp with time zone, pause mentoring.pause_periods) FROM PUBLIC;

--
-- Name: FUNCTION status_facts(mentor_id uuid, OUT caller_kind mentoring.actor_kind, OUT caller_user_id uuid, OUT today date, OUT coverage daterange, OUT open_pause jsonb); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.status_facts(mentor_id uuid, OUT caller_kind mentoring.actor_kind, OUT caller_user_id uuid, OUT today date, OUT coverage daterange, OUT open_pause jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.status_facts(mentor_id uuid, OUT caller_kind mentoring.actor_kind, OUT caller_user_id uuid, OUT today date, OUT coverage daterange, OUT open_pause jsonb) TO authenticated;
GRANT ALL ON FUNCTION mentoring.status_facts(mentor_id uuid, OUT caller_kind mentoring.actor_kind, OUT caller_user_id uuid, OUT today date, OUT coverage daterange, OUT open_pause jsonb) TO service_role;

--
-- Name: FUNCTION take_sweeper_lease(holder uuid, lease interval); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.take_sweeper_lease(holder uuid, lease interval) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.take_sweeper_lease(holder uuid, lease interval) TO service_role;

--
-- Name: FUNCTION text_refusal(value text, field text, required boolean); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.text_refusal(value text, field text, required boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.text_refusal(value text, field text, required boolean) TO authenticated;
GRANT ALL ON FUNCTION mentoring.text_refusal(value text, field text, required boolean) TO service_role;

--
-- Name: FUNCTION transition_request(mentor_id uuid); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.transition_request(mentor_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.transition_request(mentor_id uuid) TO authenticated;
GRANT ALL ON FUNCTION mentoring.transition_request(mentor_id uuid) TO service_role;

--
-- Name: FUNCTION transition_result(mentor mentoring.mentors, previous_status mentoring.mentor_status, changed boolean); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.transition_result(mentor mentoring.mentors, previous_status mentoring.mentor_status, changed boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION mentoring.transition_result(mentor mentoring.mentors, previous_status mentoring.mentor_status, changed boolean) TO authenticated;
GRANT ALL ON FUNCTION mentoring.transition_result(mentor mentoring.mentors, previous_status mentoring.mentor_status, changed boolean) TO service_role;

--
-- Name: FUNCTION untrusted_check_message(check_fn text); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.untrusted_check_message(check_fn text) FROM PUBLIC;

--
-- Name: FUNCTION wake_relays(); Type: ACL; Schema: mentoring; Owner: postgres
--

REVOKE ALL ON FUNCTION mentoring.wake_relays() FROM PUBLIC;

--
-- Name: TABLE certifications; Type: ACL; Schema: mentoring; Owner: postgres
--

GRANT SELECT ON TABLE mentoring.certifications TO authenticated;
GRANT SELECT ON TABLE mentoring.certifications TO service_role;

--
-- Name: TABLE error_codes; Type: ACL; Schema: mentoring; Owner: postgres
--

GRANT SELECT ON TABLE mentoring.error_codes TO authenticated;
GRANT SELECT ON TABLE mentoring.error_codes TO service_role;

--
-- Name: TABLE mentor_coordinators; Type: ACL; Schema: mentoring; Owner: postgres
--

GRANT SELECT ON TABLE mentoring.mentor_coordinators TO authenticated;
GRANT SELECT ON TABLE mentoring.mentor_coordinators TO service_role;

--
-- Name: TABLE organization_staff; Type: ACL; Schema: mentoring; Owner: postgres
--

GRANT SELECT ON TABLE mentoring.organization_staff TO authenticated;
GRANT SELECT ON TABLE mentoring.organization_staff TO service_role;

--
-- Name: TABLE organizations; Type: ACL; Schema: mentoring; Owner: postgres
--

GRANT SELECT ON TABLE mentoring.organizations TO authenticated;
GRANT SELECT ON TABLE mentoring.organizations TO service_role;
