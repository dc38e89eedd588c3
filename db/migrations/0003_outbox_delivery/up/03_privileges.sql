-- Every grant of this revision, in one place.
revoke execute on function
  mentoring.claim_outbox(integer, interval),
  mentoring.outbox_delivered(bigint[]),
  mentoring.outbox_failed(bigint, uuid, text, timestamptz),
  mentoring.outbox_release(uuid, bigint[]),
  mentoring.outbox_requeue(bigint[]),
  mentoring.outbox_purge_delivered(interval),
  mentoring.outbox_stats()
  from public, anon, authenticated, service_role;

-- Relays need nothing but the outbox: a role of their own, which logins are granted
-- (`grant mentoring_relay to my_relay_login`; the relay runs with --role
-- mentoring_relay). Roles belong to the cluster: it is created once, and kept on
-- downgrade (other databases may use it).
do $$
begin
  if not exists (select from pg_catalog.pg_roles where rolname = 'mentoring_relay') then
    create role mentoring_relay nologin;
  end if;
end
$$;

grant usage on schema mentoring to mentoring_relay;
grant select on mentoring.outbox to mentoring_relay;  -- `pyproj-rpc outbox list`
create policy relays_read_the_outbox on mentoring.outbox
  for select to mentoring_relay
  using (true);
grant execute on function
  mentoring.claim_outbox(integer, interval),
  mentoring.outbox_delivered(bigint[]),
  mentoring.outbox_failed(bigint, uuid, text, timestamptz),
  mentoring.outbox_release(uuid, bigint[]),
  mentoring.outbox_requeue(bigint[]),
  mentoring.outbox_purge_delivered(interval),
  mentoring.outbox_stats()
  to mentoring_relay, service_role;
