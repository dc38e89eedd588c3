-- The relay's interface: claim, then report each row's outcome. SECURITY DEFINER so that
-- relays need no write privilege on the outbox itself, only EXECUTE on these.

-- Claims up to batch_size due rows (oldest first) for lease; each claim is an attempt.
-- Rows another relay is claiming right now are skipped, not waited for.
create function mentoring.claim_outbox(batch_size integer, lease interval)
  returns setof mentoring.outbox
  language plpgsql volatile security definer
  set search_path = ''
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
        order by d.available_at, d.id
        limit claim_outbox.batch_size
        for update skip locked)
      returning o.*
    )
    select * from claimed order by claimed.available_at, claimed.id;  -- RETURNING has no order
end
$$;

-- Delivered: final. Accepted even from a relay whose lease ran out (it did deliver).
create function mentoring.outbox_delivered(ids bigint[])
  returns integer
  language sql volatile security definer
  set search_path = ''
as $$
  with done as (
    update mentoring.outbox o
    set delivered_at = clock_timestamp(), claim_id = null, leased_until = null,
        last_error = null
    where o.id = any (outbox_delivered.ids) and o.delivered_at is null and o.dead_at is null
    returning 1
  )
  select count(*)::integer from done
$$;

-- Failed: retry at retry_at, or dead-letter. Only the current claim may decide, so a
-- relay whose lease ran out cannot undo another relay's delivery.
create function mentoring.outbox_failed(
  id bigint, claim_id uuid, error text, retry_at timestamptz
)
  returns boolean
  language sql volatile security definer
  set search_path = ''
as $$
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
comment on function mentoring.outbox_failed(bigint, uuid, text, timestamptz) is
  'retry_at null dead-letters the row. Returns false when the claim is no longer current.';

-- Releases claimed rows untouched (a relay shutting down mid-batch).
create function mentoring.outbox_release(claim_id uuid, ids bigint[])
  returns integer
  language sql volatile security definer
  set search_path = ''
as $$
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

-- Dead-lettered rows back to pending (all of them when ids is null), and relays woken.
create function mentoring.outbox_requeue(ids bigint[] default null)
  returns integer
  language plpgsql volatile security definer
  set search_path = ''
as $$
declare
  requeued integer;
begin
  update mentoring.outbox o
  set dead_at = null, attempts = 0, available_at = clock_timestamp()
  where o.dead_at is not null
    and (outbox_requeue.ids is null or o.id = any (outbox_requeue.ids));
  get diagnostics requeued = row_count;
  if requeued > 0 then
    perform pg_notify('mentoring_outbox', '');
  end if;
  return requeued;
end
$$;

-- Retention: delivered rows older than older_than go.
create function mentoring.outbox_purge_delivered(older_than interval)
  returns integer
  language sql volatile security definer
  set search_path = ''
as $$
  with purged as (
    delete from mentoring.outbox o
    where o.delivered_at < clock_timestamp() - outbox_purge_delivered.older_than
    returning 1
  )
  select count(*)::integer from purged
$$;

-- The backlog at a glance, for `outbox status` and the relay's metrics.
create function mentoring.outbox_stats()
  returns table (
    pending bigint,
    due bigint,
    in_flight bigint,
    dead bigint,
    delivered bigint,
    oldest_pending_at timestamptz
  )
  language sql stable security definer
  set search_path = ''
as $$
  select
    count(*) filter (where o.delivered_at is null and o.dead_at is null),
    count(*) filter (where o.delivered_at is null and o.dead_at is null
                       and o.available_at <= now()
                       and (o.leased_until is null or o.leased_until <= now())),
    count(*) filter (where o.leased_until > now()),
    count(*) filter (where o.dead_at is not null),
    count(*) filter (where o.delivered_at is not null),
    min(o.created_at) filter (where o.delivered_at is null and o.dead_at is null)
  from mentoring.outbox o
$$;
