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

-- name: audit_lock
-- The audited tables stay what the catalog check sees, to the end: no ALTER TABLE, DROP,
-- or view in their place until this transaction ends (ACCESS SHARE is what a reader may
-- take; CREATE INDEX and CREATE CAST still may run: audit_recheck looks again afterwards).
lock table mentoring.mentors, mentoring.status_events, mentoring.pause_periods
  in access share mode;

-- name: audit_recheck
-- After the reads: pg_catalog first and row-level security off again (whatever the
-- session's settings became), for the second look at the catalog.
set local search_path = pg_catalog, pg_temp;
set local row_security = off;

-- name: audit_catalog
-- What would make the verifier run code that is not PostgreSQL's: a table replaced by a
-- view or given a child table, a column of another type than the encoding expects, a cast
-- from or to a type of the mentoring schema (to_jsonb and ::text call a cast's function,
-- as the verifier), an index whose expression or predicate calls a function or operator
-- outside pg_catalog or casts to a domain (the planner simplifies them when it first
-- opens the table, running immutable functions as the reader). The owner may create any
-- of these; a migrated database has none.
with expected (relation, column_name, type_name) as (
  values ('mentoring.mentors', 'id', 'uuid'),
         ('mentoring.mentors', 'status', 'mentoring.mentor_status'),
         ('mentoring.mentors', 'status_version', 'integer'),
         ('mentoring.mentors', 'status_changed_at', 'timestamp with time zone'),
         ('mentoring.mentors', 'open_pause_id', 'uuid'),
         ('mentoring.status_events', 'mentor_id', 'uuid'),
         ('mentoring.status_events', 'sequence', 'integer'),
         ('mentoring.status_events', 'from_status', 'mentoring.mentor_status'),
         ('mentoring.status_events', 'to_status', 'mentoring.mentor_status'),
         ('mentoring.status_events', 'reason', 'text'),
         ('mentoring.status_events', 'actor_user_id', 'uuid'),
         ('mentoring.status_events', 'actor_kind', 'mentoring.actor_kind'),
         ('mentoring.status_events', 'database_role', 'text'),
         ('mentoring.status_events', 'forced', 'boolean'),
         ('mentoring.status_events', 'findings', 'jsonb'),
         ('mentoring.status_events', 'idempotency_key', 'uuid'),
         ('mentoring.status_events', 'pause_id', 'uuid'),
         ('mentoring.status_events', 'occurred_at', 'timestamp with time zone'),
         ('mentoring.status_events', 'prev_hash', 'bytea'),
         ('mentoring.status_events', 'hash', 'bytea'),
         ('mentoring.pause_periods', 'id', 'uuid'),
         ('mentoring.pause_periods', 'mentor_id', 'uuid'),
         ('mentoring.pause_periods', 'start_date', 'date'),
         ('mentoring.pause_periods', 'expected_return_date', 'date'),
         ('mentoring.pause_periods', 'reason', 'text'),
         ('mentoring.pause_periods', 'started_at', 'timestamp with time zone'),
         ('mentoring.pause_periods', 'started_by', 'uuid'),
         ('mentoring.pause_periods', 'started_by_kind', 'mentoring.actor_kind'),
         ('mentoring.pause_periods', 'forced', 'boolean'),
         ('mentoring.pause_periods', 'ended_at', 'timestamp with time zone'),
         ('mentoring.pause_periods', 'end_date', 'date'),
         ('mentoring.pause_periods', 'end_reason', 'mentoring.pause_end_reason'),
         ('mentoring.pause_periods', 'ended_by', 'uuid'),
         ('mentoring.pause_periods', 'ended_by_kind', 'mentoring.actor_kind'),
         ('mentoring.pause_periods', 'end_note', 'text')
), relation as (
  select distinct x.relation, pg_catalog.to_regclass(x.relation) as oid from expected x
)
select 'not_a_table' as finding,
       pg_catalog.format('%%s is a %%s, not a table', r.relation,
         case c.relkind when 'v' then 'view' when 'm' then 'materialized view'
                        when 'f' then 'foreign table' else pg_catalog.format('relation of kind %%s', c.relkind) end)
         as detail
from relation r join pg_catalog.pg_class c on c.oid = r.oid
where c.relkind not in ('r', 'p')
union all
select 'child_table', pg_catalog.format('%%s inherits from %%s', i.inhrelid::regclass, r.relation)
from relation r join pg_catalog.pg_inherits i on i.inhparent = r.oid
union all
select 'column_type',
       pg_catalog.format('%%s.%%s is %%s, not %%s', x.relation, x.column_name,
         coalesce(pg_catalog.format_type(a.atttypid, a.atttypmod), 'missing'), x.type_name)
from expected x
join relation r on r.relation = x.relation
left join pg_catalog.pg_attribute a
  on a.attrelid = r.oid and a.attname = x.column_name and a.attnum > 0 and not a.attisdropped
where r.oid is not null and a.atttypid is distinct from pg_catalog.to_regtype(x.type_name)
union all
select 'index_code',
       pg_catalog.format('index %%s runs %%s', i.indexrelid::regclass,
         case m.kind when 'opno' then pg_catalog.format('the operator %%s', m.id::regoperator)
                     else pg_catalog.format('the function %%s', m.id::regprocedure) end)
from relation r
join pg_catalog.pg_index i on i.indrelid = r.oid
cross join lateral (
  select x[1] as kind, x[2]::oid as id
  from pg_catalog.regexp_matches(pg_catalog.concat(i.indexprs, ' ', i.indpred),
                                 ':(opno|opfuncid|funcid) ([0-9]+)', 'g') as x
) m
where m.id <> 0
  and case m.kind
        when 'opno' then (select o.oprnamespace from pg_catalog.pg_operator o where o.oid = m.id)
        else (select f.pronamespace from pg_catalog.pg_proc f where f.oid = m.id)
      end is distinct from 'pg_catalog'::regnamespace
union all
select 'index_code',
       pg_catalog.format('index %%s casts to a domain or compares rows', i.indexrelid::regclass)
from relation r
join pg_catalog.pg_index i on i.indrelid = r.oid
where pg_catalog.concat(i.indexprs, ' ', i.indpred) ~ '[{](COERCETODOMAIN|ROWCOMPARE) '
union all
select 'cast',
       pg_catalog.format('a cast from %%s to %%s%%s', c.castsource::regtype, c.casttarget::regtype,
         case when c.castfunc <> 0 then ' with function ' || c.castfunc::regprocedure end)
from pg_catalog.pg_cast c
where exists (
  select from pg_catalog.pg_type t
  where t.oid in (c.castsource, c.casttarget) and t.typnamespace = 'mentoring'::regnamespace)
order by 1, 2;

-- name: audit_heads
-- The last event of every mentor's chain: (mentor, sequence, hash as stored).
select distinct on (e.mentor_id)
       e.mentor_id, e.sequence, pg_catalog.encode(e.hash, 'hex') as hash
from mentoring.status_events e
order by e.mentor_id, e.sequence desc;

-- name: audit_now
select pg_catalog.statement_timestamp() as now;

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
         -- the encoding of db/migrations/0009_audit_chain/up/01_hash_chain.sql; enums
         -- through format() (their output function), never a cast an owner could create;
         -- an enum label is never '', so nullif gives back a null
         pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.jsonb_build_array(
           'pyproj-rpc/status_event/v1',
           pg_catalog.encode(e.prev_hash, 'hex'),
           e.mentor_id, e.sequence, pg_catalog.format('%%s', e.from_status),
           pg_catalog.format('%%s', e.to_status), e.reason, e.actor_user_id,
           pg_catalog.format('%%s', e.actor_kind), e.database_role, e.forced, e.findings,
           e.idempotency_key, e.pause_id,
           pg_catalog.to_char(e.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
           case when e.to_status = 'paused' then pg_catalog.jsonb_build_array(
             p.start_date, p.expected_return_date, p.reason,
             pg_catalog.to_char(p.started_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
             p.started_by, nullif(pg_catalog.format('%%s', p.started_by_kind), ''), p.forced) end,
           case when e.from_status = 'paused' then pg_catalog.jsonb_build_array(
             pg_catalog.to_char(p.ended_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
             p.end_date, nullif(pg_catalog.format('%%s', p.end_reason), ''),
             p.ended_by, nullif(pg_catalog.format('%%s', p.ended_by_kind), ''),
             p.end_note) end
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
