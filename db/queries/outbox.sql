-- The notification relay and `pyproj-rpc outbox`. Writes go through the SECURITY DEFINER
-- functions of revision 0003 only; reads (list) need SELECT on mentoring.outbox.

-- name: relay_set_role
-- SET ROLE for the session (a login role that is a NOINHERIT member of service_role).
select pg_catalog.set_config('role', %(role)s, false);

-- name: relay_listen
-- The core's wake-up channel (mentoring.wake_relays).
listen mentoring_outbox;

-- name: relay_awake
-- Held while the relay drains: writers meanwhile skip their NOTIFY (mentoring.wake_relays).
select pg_catalog.pg_try_advisory_lock(mentoring.relay_awake_lock()) as held;

-- name: relay_not_awake
select pg_catalog.pg_advisory_unlock(mentoring.relay_awake_lock()) as released;

-- name: relay_fence_timeout
select pg_catalog.set_config('lock_timeout', %(timeout)s, true);

-- name: relay_fence
-- Waits for the writers in flight, who may have skipped their NOTIFY while we drained.
select pg_catalog.pg_advisory_xact_lock(mentoring.relay_fence_lock());

-- name: relay_ping
-- Is the LISTEN connection still alive?
select 1;

-- name: relay_claim
-- Due rows for a lease, in order (by id: one mentor's in the order of their changes);
-- each claim counts an attempt.
select id, event_id, recipient_id, kind, payload, created_at, attempts, claim_id, leased_until
from mentoring.claim_outbox(%(batch_size)s::integer, %(lease)s::interval)
order by id;

-- name: relay_delivered
select mentoring.outbox_delivered(%(ids)s::bigint[]);

-- name: relay_failed
-- A retry in %(delay)s (on the database's clock), or a dead letter when it is null.
select mentoring.outbox_failed(
  %(id)s::bigint, %(claim_id)s::uuid, %(error)s::text,
  pg_catalog.clock_timestamp() + %(delay)s::interval);

-- name: relay_failed_many
-- Each failed row of a batch: a retry after its delay (on the database's clock), or a dead
-- letter when its delay is null. Returns the rows whose claim was still ours.
select mentoring.outbox_failed_v2(
  %(ids)s::bigint[], %(claim_ids)s::uuid[], %(errors)s::text[],
  array(select pg_catalog.clock_timestamp() + d.delay
        from pg_catalog.unnest(%(delays)s::interval[]) with ordinality as d(delay, n)
        order by d.n)) as decided;

-- name: relay_release
select mentoring.outbox_release_v2(%(claim_id)s::uuid, %(ids)s::bigint[]);

-- name: outbox_stats
select pending, due, in_flight, dead, delivered, oldest_pending_at,
       coalesce(extract(epoch from pg_catalog.clock_timestamp() - oldest_pending_at), 0)::float8
         as oldest_pending_seconds
from mentoring.outbox_stats();

-- name: outbox_requeue
-- Dead letters (all when %(ids)s is null) back to pending; wakes the relays.
select mentoring.outbox_requeue(%(ids)s::bigint[]);

-- name: outbox_purge_delivered
select mentoring.outbox_purge_delivered(%(older_than)s::interval);

-- name: outbox_list
-- The backlog and its history, by state; pending oldest first, the others newest first.
select o.id,
       case when o.delivered_at is not null then 'delivered'
            when o.dead_at is not null then 'dead'
            when o.leased_until > pg_catalog.now() then 'in_flight'
            else 'pending' end as state,
       o.attempts,
       o.kind,
       o.recipient_id,
       o.payload -> 'mentor' ->> 'display_name' as mentor,
       o.payload ->> 'from_status' as from_status,
       o.payload ->> 'to_status' as to_status,
       (o.payload ->> 'sequence')::integer as sequence,
       o.created_at, o.available_at, o.delivered_at, o.dead_at, o.last_error
from mentoring.outbox o
where case %(state)s::text
        when 'pending' then o.delivered_at is null and o.dead_at is null
        when 'dead' then o.dead_at is not null
        when 'delivered' then o.delivered_at is not null
        else true end
order by case when %(state)s::text = 'pending' then o.available_at end,
         case when %(state)s::text = 'pending' then o.id end,
         o.id desc
limit %(limit)s::integer;

-- name: outbox_pending_outside_organization
-- Pending rows of other organizations (the demo delivers only when there are none).
select pg_catalog.count(*)
from mentoring.outbox o
where o.delivered_at is null and o.dead_at is null
  and (o.payload -> 'mentor' ->> 'organization_id')::uuid <> %(organization_id)s::uuid;
