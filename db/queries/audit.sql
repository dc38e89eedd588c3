-- The audit trail's hash chain (`pyproj-rpc audit`, pyproj_rpc/audit.py).
--
-- These queries trust PostgreSQL's built-ins and the tables' rows, nothing else of the
-- database: the chain is recomputed here, with this file's copy of the encoding, never
-- with mentoring.status_event_hash (an owner could replace that function, or any other of
-- ours, with one that vouches for anything). They run after audit_session: one snapshot,
-- pg_catalog first in the search path, and row-level security off, so a role that would
-- see only some rows gets an error rather than a partial answer.

-- name: audit_session
set transaction isolation level repeatable read, read only;
set local search_path = pg_catalog, pg_temp;
set local row_security = off;

-- name: audit_heads
-- The last event of every mentor's chain: (mentor, sequence, hash as stored).
select distinct on (e.mentor_id)
       e.mentor_id, e.sequence, pg_catalog.encode(e.hash, 'hex') as hash
from mentoring.status_events e
order by e.mentor_id, e.sequence desc;

-- name: audit_counts
-- What verify looked at.
select (select pg_catalog.count(*) from mentoring.mentors m
        where %(mentor_id)s::uuid is null or m.id = %(mentor_id)s::uuid) as mentors,
       (select pg_catalog.count(*) from mentoring.status_events e
        where %(mentor_id)s::uuid is null or e.mentor_id = %(mentor_id)s::uuid) as events;

-- name: audit_verify
-- The first problem of each mentor's audit trail (by sequence, then in the order below),
-- with how many the mentor has; no row when everything holds. %(heads)s: a JSON array of
-- stored heads {mentor_id, sequence, hash}, or null.
with mentor as (
  select m.id, m.status, m.status_version, m.status_changed_at, m.open_pause_id
  from mentoring.mentors m
  where %(mentor_id)s::uuid is null or m.id = %(mentor_id)s::uuid
), event as (
  select e.mentor_id, e.sequence, e.from_status, e.to_status, e.pause_id, e.occurred_at,
         e.prev_hash, e.hash, p.id as found_pause_id, p.mentor_id as pause_mentor_id,
         pg_catalog.lag(e.sequence) over chain as previous_sequence,
         pg_catalog.lag(e.hash) over chain as previous_hash,
         pg_catalog.lag(e.to_status) over chain as previous_status,
         -- the encoding of db/migrations/0009_audit_chain/up/01_hash_chain.sql
         pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.jsonb_build_array(
           'pyproj-rpc/status_event/v1',
           pg_catalog.encode(e.prev_hash, 'hex'),
           e.mentor_id, e.sequence, e.from_status, e.to_status, e.reason, e.actor_user_id,
           e.actor_kind, e.database_role, e.forced, e.findings, e.idempotency_key,
           e.pause_id,
           pg_catalog.to_char(e.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
           case when e.to_status = 'paused' then pg_catalog.jsonb_build_array(
             p.start_date, p.expected_return_date, p.reason,
             pg_catalog.to_char(p.started_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
             p.started_by, p.started_by_kind, p.forced) end,
           case when e.from_status = 'paused' then pg_catalog.jsonb_build_array(
             pg_catalog.to_char(p.ended_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
             p.end_date, p.end_reason, p.ended_by, p.ended_by_kind, p.end_note) end
         )::text, 'UTF8')) as recomputed
  from mentoring.status_events e
  left join mentoring.pause_periods p on p.id = e.pause_id
  where %(mentor_id)s::uuid is null or e.mentor_id = %(mentor_id)s::uuid
  window chain as (partition by e.mentor_id order by e.sequence)
), head as (
  select distinct on (e.mentor_id) e.*
  from event e
  order by e.mentor_id, e.sequence desc
), pause as (
  select p.id, p.mentor_id, p.ended_at
  from mentoring.pause_periods p
  where %(mentor_id)s::uuid is null or p.mentor_id = %(mentor_id)s::uuid
), stored_head as (
  select h.mentor_id, h.sequence, h.hash
  from pg_catalog.jsonb_to_recordset(coalesce(%(heads)s::jsonb, '[]'))
         as h(mentor_id uuid, sequence integer, hash text)
  where %(mentor_id)s::uuid is null or h.mentor_id = %(mentor_id)s::uuid
), problem as (
  -- each event: numbered 1, 2, 3, ...; linked to the one before; its own hash; starting
  -- from where the one before ended; its pause there and its mentor's
  select e.mentor_id, e.sequence, 1 as rank, 'missing_events' as problem,
         pg_catalog.format('event %%s follows %%s: the events in between are missing', e.sequence,
                coalesce('event ' || e.previous_sequence, 'nothing')) as detail
  from event e
  where e.sequence - 1 <> coalesce(e.previous_sequence, 0)
  union all
  select e.mentor_id, e.sequence, 2, 'broken_link',
         pg_catalog.format('event %%s does not name the hash of %%s', e.sequence,
                coalesce('event ' || e.previous_sequence, 'nothing: it is the first'))
  from event e
  where e.prev_hash is distinct from e.previous_hash
  union all
  select e.mentor_id, e.sequence, 3, 'hash_mismatch',
         pg_catalog.format('event %%s, or its pause, changed after it was written', e.sequence)
  from event e
  where e.hash is distinct from e.recomputed
  union all
  select e.mentor_id, e.sequence, 4, 'status_mismatch',
         pg_catalog.format('event %%s starts from %%s, but event %%s ended at %%s', e.sequence,
                e.from_status, e.previous_sequence, e.previous_status)
  from event e
  where e.previous_status is not null and e.from_status <> e.previous_status
  union all
  select e.mentor_id, e.sequence, 5, 'pause_mismatch',
         pg_catalog.format('event %%s names %%s', e.sequence,
                case when e.pause_id is null then 'no pause'
                     when e.found_pause_id is null then 'a pause that does not exist'
                     when e.pause_mentor_id <> e.mentor_id then 'another mentor''s pause'
                     else 'a pause although it neither starts nor ends one' end)
  from event e
  where case when 'paused' in (e.from_status, e.to_status)
             then e.found_pause_id is null or e.pause_mentor_id <> e.mentor_id
             else e.pause_id is not null end
  union all
  -- each mentor: exists, and is where the chain's last event left them (reported where
  -- the two meet: the later of the mentor's version and the chain's last event)
  select e.mentor_id, e.sequence, 6, 'mentor_missing',
         pg_catalog.format('event %%s is about a mentor who does not exist', e.sequence)
  from head e
  where not exists (select from mentor m where m.id = e.mentor_id)
  union all
  select m.id, greatest(m.status_version, coalesce(h.sequence, 0)), c.rank, c.problem,
         c.detail
  from mentor m
  left join head h on h.mentor_id = m.id
  cross join lateral (
    select 7 as rank, 'version_mismatch' as problem,
           pg_catalog.format('the mentor is at version %%s, the audit trail at event %%s',
                  m.status_version, coalesce(h.sequence, 0)) as detail
    where m.status_version <> coalesce(h.sequence, 0)
    union all
    select 8, 'current_status_mismatch',
           pg_catalog.format('the mentor is %%s, event %%s left them %%s', m.status, h.sequence,
                  h.to_status)
    where m.status <> h.to_status
    union all
    select 9, 'current_status_mismatch',
           pg_catalog.format('the mentor''s status changed at %%s, event %%s at %%s',
                  m.status_changed_at, h.sequence, h.occurred_at)
    where m.status_changed_at <> h.occurred_at
    union all
    select 10, 'pause_mismatch',
           pg_catalog.format('the mentor''s open pause is not the one event %%s started', h.sequence)
    where m.open_pause_id is distinct from
          case when h.to_status = 'paused' then h.pause_id end
  ) c
  union all
  -- each pause: started by an event, and ended by one if it ended
  select p.mentor_id, null, 11, 'pause_without_event',
         pg_catalog.format('pause %%s was not started by any status event', p.id)
  from pause p
  where not exists (
    select from event e
    where e.pause_id = p.id and e.mentor_id = p.mentor_id and e.to_status = 'paused')
  union all
  select p.mentor_id, null, 12, 'pause_without_event',
         pg_catalog.format('pause %%s ended without a status event', p.id)
  from pause p
  where p.ended_at is not null
    and not exists (
      select from event e
      where e.pause_id = p.id and e.mentor_id = p.mentor_id and e.from_status = 'paused')
  union all
  -- each stored head: still in the chain, with the same hash
  select h.mentor_id, h.sequence, 13, 'head_missing',
         pg_catalog.format('the stored head, event %%s, is gone', h.sequence)
  from stored_head h
  where not exists (
    select from event e where e.mentor_id = h.mentor_id and e.sequence = h.sequence)
  union all
  select h.mentor_id, h.sequence, 14, 'head_mismatch',
         pg_catalog.format('event %%s is not the stored head: its hash is %%s, the stored one %%s',
                h.sequence, pg_catalog.encode(e.hash, 'hex'), h.hash)
  from stored_head h
  join event e on e.mentor_id = h.mentor_id and e.sequence = h.sequence
  where pg_catalog.encode(e.hash, 'hex') <> pg_catalog.lower(h.hash)
)
select distinct on (problem.mentor_id)
       problem.mentor_id, problem.sequence, problem.problem, problem.detail,
       pg_catalog.count(*) over (partition by problem.mentor_id) as problems
from problem
order by problem.mentor_id, problem.sequence nulls last, problem.rank;
