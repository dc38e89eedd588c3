-- Back to 0007's claim_outbox.

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


notify pgrst, 'reload schema';
