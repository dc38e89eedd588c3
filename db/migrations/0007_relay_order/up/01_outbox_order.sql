-- One mentor's notifications are delivered in order, whatever the timing of their
-- transactions and whatever the relays do.
--
-- Rows were claimed by available_at, which defaulted to the *start* of the writing
-- transaction: of two changes of one mentor, the one whose transaction began first but
-- committed second (it waited for the mentor's row lock) was claimed first. A change's
-- rows are inserted after that lock, so their ids follow the order of the changes: relays
-- now claim by id, and a row waits while an earlier row of its mentor is undelivered (in
-- flight, or waiting for a retry), as ordered queues hold a key. A dead letter stops
-- holding the rows after it.

alter table mentoring.outbox
  add column mentor_id uuid generated always as ((payload #>> '{mentor,id}')::uuid) stored,
  alter column created_at set default clock_timestamp(),
  alter column available_at set default clock_timestamp();
comment on column mentoring.outbox.mentor_id is
  'The mentor the notification is about (from the payload): the key of the delivery order.';

drop index mentoring.outbox_pending_idx;
create index outbox_pending_idx on mentoring.outbox (id)
  where delivered_at is null and dead_at is null;
create index outbox_pending_by_mentor_idx on mentoring.outbox (mentor_id, id)
  where delivered_at is null and dead_at is null;

-- Claims up to batch_size due rows, in id order, for lease; each claim is an attempt. Rows
-- another relay is claiming right now are skipped, not waited for; a row is not due while
-- an earlier undelivered row of its mentor (another notification) is pending.
create or replace function mentoring.claim_outbox(batch_size integer, lease interval)
  returns setof mentoring.outbox
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  this_claim uuid := gen_random_uuid();
begin
  if batch_size is null or batch_size < 1 or lease is null or lease <= interval '0' then
    perform mentoring.raise_error('invalid_input', 'batch_size and lease must be positive');
  end if;
  return query
    with claimed as (
      update mentoring.outbox o
      set attempts = o.attempts + 1,
          claim_id = this_claim,
          leased_until = clock_timestamp() + claim_outbox.lease
      where o.id in (
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
        for update skip locked)
      returning o.*
    )
    select * from claimed order by claimed.id;  -- RETURNING has no order
end
$$;

-- Releases claimed rows untouched (a relay shutting down mid-batch), and says which: a
-- relay counts only the rows it still held, not those another relay took meanwhile.
create function mentoring.outbox_release_v2(claim_id uuid, ids bigint[])
  returns bigint[]
  language sql volatile security definer
  set search_path = pg_catalog, pg_temp
as $$
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

-- Due and in flight by the clock, as claim_outbox decides (rows now default to the time
-- of their insert, not of their transaction's start).
create or replace function mentoring.outbox_stats()
  returns table (
    pending bigint,
    due bigint,
    in_flight bigint,
    dead bigint,
    delivered bigint,
    oldest_pending_at timestamptz
  )
  language sql stable security definer
  set search_path = pg_catalog, pg_temp
as $$
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

-- Failed deliveries of a batch in one call: each a retry at its retry_at, or a dead letter
-- (null). Only the current claim of a row may decide; returns the rows it decided.
create function mentoring.outbox_failed_v2(
  ids bigint[], claim_ids uuid[], errors text[], retry_ats timestamptz[]
)
  returns bigint[]
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
as $$
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
comment on function mentoring.outbox_failed_v2(bigint[], uuid[], text[], timestamptz[]) is
  'retry_at null dead-letters the row. Returns the rows whose claim was still current.';
