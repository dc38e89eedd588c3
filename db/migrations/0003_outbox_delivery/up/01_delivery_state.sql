-- Delivery state of the outbox, for relays (pyproj-rpc relay). A row is pending until
-- delivered or dead-lettered. A relay claims due rows for a lease: if it dies, the lease
-- runs out and another relay claims them again (at-least-once delivery).

alter table mentoring.outbox
  add column attempts integer not null default 0 check (attempts >= 0),
  add column available_at timestamptz not null default now(),
  add column claim_id uuid,
  add column leased_until timestamptz,
  add column delivered_at timestamptz,
  add column dead_at timestamptz,
  add column last_error text check (char_length(last_error) <= 2000),
  add constraint delivered_or_dead_not_both check (delivered_at is null or dead_at is null),
  add constraint a_lease_has_a_claim check ((claim_id is null) = (leased_until is null));

comment on column mentoring.outbox.available_at is
  'Earliest time a relay may claim the row (now, or a retry''s scheduled time).';
comment on column mentoring.outbox.leased_until is
  'While in the future, a relay is delivering the row under claim_id.';

-- What relays scan: pending rows by due time.
create index outbox_pending_idx on mentoring.outbox (available_at, id)
  where delivered_at is null and dead_at is null;
-- What retention scans.
create index outbox_delivered_at_idx on mentoring.outbox (delivered_at)
  where delivered_at is not null;
