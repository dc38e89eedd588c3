-- Benchmarks (`pyproj-rpc bench`). They run in databases of their own, created, seeded
-- (db/bench/roster.sql) and dropped by the benchmark; the pgbench scripts are in db/bench/.

-- name: bench_is_superuser
-- The seeder writes with triggers off (session_replication_role), the benchmark creates
-- databases: both need a superuser.
select rolsuper from pg_catalog.pg_roles where rolname = current_user;

-- name: bench_server_settings
-- What the figures depend on, printed with them.
select pg_catalog.current_setting('server_version') as server_version,
       pg_catalog.current_setting('fsync') as fsync,
       pg_catalog.current_setting('synchronous_commit') as synchronous_commit,
       pg_catalog.current_setting('full_page_writes') as full_page_writes,
       pg_catalog.current_setting('shared_buffers') as shared_buffers,
       pg_catalog.current_setting('track_commit_timestamp') as track_commit_timestamp;

-- name: bench_create_database
create database {database};

-- name: bench_drop_database
-- WITH (FORCE): a benchmark that failed half-way may have left a connection behind.
drop database if exists {database} with (force);

-- name: bench_vacuum_analyze
vacuum analyze;

-- name: bench_hold_relay_awake_lock
-- What a draining relay holds: writers then skip their NOTIFY (mentoring.wake_relays).
select pg_catalog.pg_advisory_lock(mentoring.relay_awake_lock());

-- name: bench_release_relay_awake_lock
select pg_catalog.pg_advisory_unlock(mentoring.relay_awake_lock());

-- name: bench_explain_mentor_read
-- The mentor read of api.get_current_status, as the caller (under row-level security).
explain (analyze, buffers)
select m.* from mentoring.mentors m where m.id = %(mentor_id)s;

-- name: bench_explain_paused_mentors
-- A coordinator's own listing of api.get_paused_mentors, as
-- mentoring.assigned_paused_mentors runs it for caller_paused_mentors (as the owner).
explain (analyze, buffers)
with open_pauses as materialized (
  select p.*
  from mentoring.mentor_coordinators c
  cross join lateral (
    select o.*
    from mentoring.pause_periods o
    where o.mentor_id = c.mentor_id and o.ended_at is null
    limit 1
  ) p
  where c.coordinator_id = %(coordinator_id)s
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

-- name: bench_skip_triggers
-- For the rest of the transaction: no trigger, no state machine (superuser only).
set local session_replication_role = replica;

-- name: bench_expire_bare
-- The cheapest expiry, the floor the sweep is compared with: a bare set-based UPDATE of
-- every lapsed mentor (run with bench_skip_triggers; no pause, event or notification),
-- found as the sweep finds them: candidates through the certified_through index, the
-- truth through an indexed EXISTS.
update mentoring.mentors m
set status = 'expired_cert',
    status_version = m.status_version + 1,
    status_changed_at = pg_catalog.clock_timestamp()
where m.status <> 'expired_cert'
  and (m.certified_through is null or m.certified_through < current_date)
  and not exists (
    select from mentoring.certifications c
    where c.mentor_id = m.id and c.valid_during @> current_date);

-- name: bench_expire_by_hand
-- The writes of the expiry sweep, set-based by hand in one statement (run with
-- bench_skip_triggers): each lapsed mentor expired, their open pause closed, one status
-- event each, one outbox row per assigned coordinator with the state machine's payload.
-- The roster is in UTC, so current_date is every organization's today.
with lapsed as (
  select m.id, m.status, m.status_version, m.open_pause_id
  from mentoring.mentors m
  where m.status <> 'expired_cert'
    and (m.certified_through is null or m.certified_through < current_date)
    and not exists (
      select from mentoring.certifications c
      where c.mentor_id = m.id and c.valid_during @> current_date)
), expired as (
  update mentoring.mentors m
  set status = 'expired_cert',
      status_version = m.status_version + 1,
      status_changed_at = pg_catalog.clock_timestamp(),
      open_pause_id = null
  from lapsed l
  where m.id = l.id
  returning m.id, m.display_name, m.organization_id, m.status_version, m.status_changed_at,
            l.status as from_status, l.open_pause_id as closed_pause_id
), closed as (
  update mentoring.pause_periods p
  set ended_at = e.status_changed_at,
      end_date = greatest(current_date, p.start_date),
      end_reason = 'certification_expired',
      ended_by = null,
      ended_by_kind = 'system',
      end_note = 'certification lapsed'
  from expired e
  where p.id = e.closed_pause_id
  returning p.*
), written as (
  select e.id as mentor_id, e.status_version as sequence, e.from_status,
         'expired_cert'::mentoring.mentor_status as to_status,
         'certification lapsed' as reason, mentoring.request_role() as database_role,
         e.closed_pause_id as pause_id, e.status_changed_at as occurred_at,
         (select previous.hash from mentoring.status_events previous
          where previous.mentor_id = e.id
            and previous.sequence = e.status_version - 1) as prev_hash,
         row(p.*)::mentoring.pause_periods as pause
  from expired e
  left join closed p on p.id = e.closed_pause_id
), events as (
  insert into mentoring.status_events
    (mentor_id, sequence, from_status, to_status, reason, actor_user_id, actor_kind,
     database_role, forced, findings, idempotency_key, pause_id, occurred_at, prev_hash,
     hash)
  select w.mentor_id, w.sequence, w.from_status, w.to_status, w.reason, null, 'system',
         w.database_role, false, '[]', null, w.pause_id, w.occurred_at, w.prev_hash,
         mentoring.status_event_hash(w.prev_hash, w.mentor_id, w.sequence, w.from_status,
           w.to_status, w.reason, null, 'system', w.database_role, false, '[]', null,
           w.pause_id, w.occurred_at, w.pause)
  from written w
  returning *
), sent as (
  insert into mentoring.outbox (event_id, recipient_id, kind, payload)
  select ev.id, c.coordinator_id, 'status_changed', pg_catalog.jsonb_build_object(
    'event_id', ev.id,
    'kind', 'status_changed',
    'sequence', ev.sequence,
    'hash', pg_catalog.encode(ev.hash, 'hex'),
    'mentor', pg_catalog.jsonb_build_object(
      'id', e.id, 'display_name', e.display_name, 'organization_id', e.organization_id),
    'recipient_id', c.coordinator_id,
    'from_status', ev.from_status,
    'to_status', ev.to_status,
    'reason', ev.reason,
    'actor', pg_catalog.jsonb_build_object('user_id', ev.actor_user_id, 'kind', ev.actor_kind),
    'occurred_at', ev.occurred_at,
    'expected_return_date', p.expected_return_date,
    'forced', ev.forced,
    'findings', ev.findings)
  from events ev
  join expired e on e.id = ev.mentor_id
  join mentoring.mentor_coordinators c on c.mentor_id = ev.mentor_id
  left join closed p on p.id = ev.pause_id
  order by ev.mentor_id, c.coordinator_id
  returning 1
)
select (select pg_catalog.count(*) from expired) as expired,
       (select pg_catalog.count(*) from events) as events,
       (select pg_catalog.count(*) from sent) as notifications;

-- name: bench_outbox_reset
-- Every outbox row pending again, as new: the same backlog delivered once more.
update mentoring.outbox
set delivered_at = null, dead_at = null, attempts = 0, available_at = pg_catalog.now(),
    claim_id = null, leased_until = null, last_error = null;

-- name: bench_relay_track_commit_timestamp
-- Whether the server keeps commit times (the relay benchmark's latency starts there).
select pg_catalog.current_setting('track_commit_timestamp');

-- name: bench_relay_backlog_request
-- The arguments the state machine takes for a direct UPDATE (as the api passes them).
select pg_catalog.set_config('mentoring.transition_request', '{"reason": "relay benchmark backlog"}', true);

-- name: bench_relay_backlog_pause
-- As an organization's admin (a PostgREST-style request): its mentors of the backlog paused
-- in one statement, through the state machine: one outbox row each, for its coordinator.
update mentoring.mentors set status = 'paused' where id = any (%(mentor_ids)s::uuid[]);

-- name: bench_relay_vacuum_outbox
-- Before each drain (after bench_outbox_reset) and each latency rate: the dead versions
-- gone (the claim walks them) and fresh statistics, so that every run starts from the
-- same, sane, claim plan.
vacuum analyze mentoring.outbox;

-- name: bench_relay_claim
-- The SQL loop: what one relay pass asks of the database, without the relay.
select id from mentoring.claim_outbox(%(batch_size)s::integer, '1 minute'::interval);

-- name: bench_relay_delivered
select mentoring.outbox_delivered(%(ids)s::bigint[]);

-- name: bench_relay_pending
select pg_catalog.count(*) from mentoring.outbox where delivered_at is null and dead_at is null;

-- name: bench_relay_last_id
select coalesce(pg_catalog.max(id), 0) from mentoring.outbox;

-- name: bench_relay_rows_after
select pg_catalog.count(*) from mentoring.outbox where id > %(after)s::bigint;

-- name: bench_relay_commit_times
-- When each row's writer committed: the commit timestamp of its status event's transaction
-- (the same transaction wrote both). Not the outbox row's own xmin: every claim and the
-- delivery update the row, so its xmin is the relay's last transaction.
select o.id, extract(epoch from pg_catalog.pg_xact_commit_timestamp(e.xmin))::float8
from mentoring.outbox o
join mentoring.status_events e on e.id = o.event_id
where o.id > %(after)s::bigint;

-- name: bench_relay_insert_times
-- Without track_commit_timestamp: when each row was inserted (clock_timestamp(), a little
-- before its transaction commits).
select o.id, extract(epoch from o.created_at)::float8
from mentoring.outbox o
where o.id > %(after)s::bigint;
