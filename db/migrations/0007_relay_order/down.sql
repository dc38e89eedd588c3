-- Back to revision 0006: claims by available_at, no hold per mentor.

drop function mentoring.outbox_failed_v2(bigint[], uuid[], text[], timestamptz[]);
drop function mentoring.outbox_release_v2(uuid, bigint[]);

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
                       and o.available_at <= now()
                       and (o.leased_until is null or o.leased_until <= now())),
    count(*) filter (where o.leased_until > now()),
    count(*) filter (where o.dead_at is not null),
    count(*) filter (where o.delivered_at is not null),
    min(o.created_at) filter (where o.delivered_at is null and o.dead_at is null)
  from mentoring.outbox o
$$;

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
        order by d.available_at, d.id
        limit claim_outbox.batch_size
        for update skip locked)
      returning o.*
    )
    select * from claimed order by claimed.available_at, claimed.id;  -- RETURNING has no order
end
$$;

drop index mentoring.outbox_pending_by_mentor_idx;
drop index mentoring.outbox_pending_idx;
create index outbox_pending_idx on mentoring.outbox (available_at, id)
  where delivered_at is null and dead_at is null;

alter table mentoring.outbox
  drop column mentor_id,
  alter column created_at set default now(),
  alter column available_at set default now();

notify pgrst, 'reload schema';
