-- A tamper-evident audit trail: each status event carries a SHA-256 hash chained to the
-- previous event of the same mentor.
--
-- hash = sha256(UTF-8 bytes of the jsonb text of this array), in this order:
--   [ "pyproj-rpc/status_event/v1",
--     prev_hash as lowercase hex, or null for the mentor's first event (sequence 1),
--     mentor_id, sequence, from_status, to_status, reason, actor_user_id, actor_kind,
--     database_role, forced, findings, idempotency_key, pause_id,
--     occurred_at,
--     the pause this event opened (to_status = 'paused'), else null:
--       [start_date, expected_return_date, reason, started_at, started_by,
--        started_by_kind, forced],
--     the pause this event ended (from_status = 'paused'), else null:
--       [ended_at, end_date, end_reason, ended_by, ended_by_kind, end_note] ]
-- Timestamps are UTC with microseconds, 'YYYY-MM-DDTHH:MI:SS.ffffffZ'; dates 'YYYY-MM-DD';
-- uuids lowercase; enums their label; null is JSON null (so a missing value never equals
-- an empty one); findings the stored jsonb. PostgreSQL's jsonb text is one fixed form
-- (', ' between elements, ': ' in objects, object keys shorter first then bytewise,
-- strings JSON-escaped), so one array has one encoding and two arrays never share one.
--
-- The chain is per mentor: an event hashes the previous event of its mentor, which the
-- state machine reads under the mentor's row lock it holds anyway. No global lock.
-- The event's database-wide id and transaction id are storage details, not covered.
--
-- pyproj-rpc audit verify recomputes the chain with its own copy of this encoding, built
-- from PostgreSQL built-ins only (db/queries/audit.sql), never with this function: an
-- owner who replaced it could make a tampered chain look whole.

create function mentoring.status_event_hash(
  prev_hash bytea,
  mentor_id uuid,
  sequence integer,
  from_status mentoring.mentor_status,
  to_status mentoring.mentor_status,
  reason text,
  actor_user_id uuid,
  actor_kind mentoring.actor_kind,
  database_role text,
  forced boolean,
  findings jsonb,
  idempotency_key uuid,
  pause_id uuid,
  occurred_at timestamptz,
  pause mentoring.pause_periods
)
  returns bytea
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
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
comment on function mentoring.status_event_hash(bytea, uuid, integer, mentoring.mentor_status,
  mentoring.mentor_status, text, uuid, mentoring.actor_kind, text, boolean, jsonb, uuid, uuid,
  timestamptz, mentoring.pause_periods) is
  'The hash of a status event: encoding in db/migrations/0009_audit_chain/up/01_hash_chain.sql.';

alter table mentoring.status_events
  add column prev_hash bytea,
  add column hash bytea;
comment on column mentoring.status_events.hash is
  'SHA-256 of the event, its pause and prev_hash (see mentoring.status_event_hash).';
comment on column mentoring.status_events.prev_hash is
  'The hash of the previous event of this mentor; null for the first (sequence 1).';

-- Existing events: chained in their per-mentor sequence, which must run 1, 2, 3, ...
-- without a gap (a chain over a hole would vouch for it).
do $$
declare
  broken record;
begin
  select e.mentor_id, e.sequence, e.position into broken
  from (select s.mentor_id, s.sequence,
               row_number() over (partition by s.mentor_id order by s.sequence) as position
        from mentoring.status_events s) e
  where e.sequence <> e.position
  order by e.mentor_id, e.sequence
  limit 1;
  if found then
    raise exception 'mentor %''s status events are not numbered 1, 2, 3, ...: event % is number % of the trail',
      broken.mentor_id, broken.sequence, broken.position
      using hint = 'the audit trail changed before it was chained: restore it before this migration';
  end if;
end
$$;

alter table mentoring.status_events disable trigger append_only;
with recursive chain as (
  select e.id, e.mentor_id, e.sequence, null::bytea as prev_hash,
         mentoring.status_event_hash(null, e.mentor_id, e.sequence, e.from_status,
           e.to_status, e.reason, e.actor_user_id, e.actor_kind, e.database_role, e.forced,
           e.findings, e.idempotency_key, e.pause_id, e.occurred_at, p) as hash
  from mentoring.status_events e
  left join mentoring.pause_periods p on p.id = e.pause_id
  where e.sequence = 1
  union all
  select e.id, e.mentor_id, e.sequence, c.hash,
         mentoring.status_event_hash(c.hash, e.mentor_id, e.sequence, e.from_status,
           e.to_status, e.reason, e.actor_user_id, e.actor_kind, e.database_role, e.forced,
           e.findings, e.idempotency_key, e.pause_id, e.occurred_at, p)
  from chain c
  join mentoring.status_events e on e.mentor_id = c.mentor_id and e.sequence = c.sequence + 1
  left join mentoring.pause_periods p on p.id = e.pause_id
)
update mentoring.status_events e
set prev_hash = chain.prev_hash, hash = chain.hash
from chain
where e.id = chain.id;
alter table mentoring.status_events enable trigger append_only;

-- Constraints, checked at once (squawk would have them NOT VALID, then validated later):
-- the table is ACCESS EXCLUSIVE locked since add column above, to the end of this
-- transaction, and the backfill and the new state machine must switch over together (an
-- event written between them would be unchained), so there is no later transaction to
-- validate in. The scans are of rows this transaction just rewrote.
-- squawk-ignore adding-not-nullable-field
alter table mentoring.status_events alter column hash set not null;
-- squawk-ignore constraint-missing-not-valid
alter table mentoring.status_events add constraint hash_is_sha256
  check (octet_length(hash) = 32);
-- squawk-ignore constraint-missing-not-valid
alter table mentoring.status_events add constraint prev_hash_is_sha256
  check (octet_length(prev_hash) = 32);
-- The chain starts at the first event and nowhere else.
-- squawk-ignore constraint-missing-not-valid
alter table mentoring.status_events add constraint only_the_first_event_has_no_prev_hash
  check ((prev_hash is null) = (sequence = 1));
