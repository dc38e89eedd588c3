-- One sweeper at a time, with a lock only the roles that may sweep can take. An advisory
-- lock would not do: any role, anon included, can take any advisory lock and hold it.
-- A lease also survives poolers, and frees itself when its holder dies.

create table mentoring.sweeper_leases (
  name text primary key check (name ~ '^[a-z][a-z_]*$'),
  holder uuid not null,
  leased_until timestamptz not null
);
alter table mentoring.sweeper_leases enable row level security;
-- No policy and no grant: only the functions below touch it.

-- True when the caller now holds the lease (it was free, expired, or already theirs).
create function mentoring.take_sweeper_lease(holder uuid, lease interval)
  returns boolean
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
as $$
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
comment on function mentoring.take_sweeper_lease(uuid, interval) is
  'One sweeper at a time: true when holder now holds the sweeps'' lease for lease.';

-- Gives the lease back; false when holder did not hold it.
create function mentoring.release_sweeper_lease(holder uuid)
  returns boolean
  language sql volatile security definer
  set search_path = pg_catalog, pg_temp
as $$
  with released as (
    delete from mentoring.sweeper_leases l
    where l.name = 'sweeps' and l.holder = release_sweeper_lease.holder
    returning 1
  )
  select exists (select from released)
$$;
