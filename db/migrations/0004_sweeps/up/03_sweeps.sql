-- The scheduler's two sweeps. Each call handles one batch in the caller's transaction
-- and returns how many it handled; a scheduler calls again (committing in between, so
-- no lock is held long) until a call returns less than a full batch. Mentors (and
-- pauses) another transaction holds are skipped, not waited for: a sweep never waits
-- for, deadlocks with, or doubles a manual change or another sweep; a skipped row is
-- taken by the next sweep.

-- Moves every active or paused mentor without a valid certification today (in their
-- organization's time zone) to expired_cert, through the state machine (audit,
-- notifications, the open pause closed). service_role and the owner sweep everyone;
-- an admin sweeps their own organizations.
create function api.expire_lapsed_certifications(batch_size integer default 500)
  returns integer
  language plpgsql volatile
  set search_path = ''
as $$
declare
  caller text := mentoring.caller_key();
  everyone boolean := caller like 'system:%';
  expired integer;
begin
  if batch_size is null or batch_size < 1 then
    perform mentoring.raise_error('invalid_input', 'batch_size must be positive',
      jsonb_build_object('field', 'batch_size'));
  end if;
  if not everyone and not exists (select from mentoring.administered_organizations()) then
    perform mentoring.raise_error('forbidden',
      'only admins (for their organizations) and the system run the expiry sweep');
  end if;

  perform set_config('mentoring.transition_request',
    jsonb_build_object('reason', 'certification lapsed')::text, true);
  with lapsed as (
    select m.id
    from mentoring.mentors m
    join mentoring.organizations o on o.id = m.organization_id
    where m.status <> 'expired_cert'
      -- the index: no organization's today is later than UTC's tomorrow
      and (m.certified_through is null
           or m.certified_through < (now() at time zone 'UTC')::date + 1)
      and (m.certified_through is null
           or m.certified_through < (now() at time zone o.time_zone)::date)
      -- the truth
      and mentoring.certification_coverage(m.id, (now() at time zone o.time_zone)::date)
          is null
      and (everyone or m.organization_id in (select mentoring.administered_organizations()))
      -- on their own record an admin is the mentor, who may not expire: leave it to the
      -- system rather than fail the whole batch
      and (everyone or m.user_id is distinct from (select auth.uid()))
    limit batch_size
    for update of m skip locked
  )
  update mentoring.mentors m
  set status = 'expired_cert'
  from lapsed
  where m.id = lapsed.id;
  get diagnostics expired = row_count;
  perform set_config('mentoring.transition_request', '', true);
  return expired;
end
$$;
comment on function api.expire_lapsed_certifications(integer) is
  'Expire up to batch_size mentors whose certification lapsed; returns how many. Call '
  'again until it returns less than batch_size. service_role: everyone; admins: their '
  'organizations.';

-- Tells the coordinators, once per pause, that a pause is past its expected return date
-- (the mentor stays paused). A backend job: service_role and the owner only. Reminders
-- carry no per-mentor sequence: that orders status changes only.
create function mentoring.remind_overdue_pauses(batch_size integer default 500)
  returns integer
  language plpgsql volatile security definer
  set search_path = ''
as $$
declare
  due record;
  reminded integer := 0;
  sent_at timestamptz := clock_timestamp();
begin
  if batch_size is null or batch_size < 1 then
    perform mentoring.raise_error('invalid_input', 'batch_size must be positive',
      jsonb_build_object('field', 'batch_size'));
  end if;
  for due in
    select p.id as pause_id, p.start_date, p.expected_return_date, p.reason,
           p.started_by, p.started_by_kind, m as mentor,
           (now() at time zone o.time_zone)::date as today
    from mentoring.pause_periods p
    join mentoring.mentors m on m.open_pause_id = p.id
    join mentoring.organizations o on o.id = m.organization_id
    where p.ended_at is null
      and p.overdue_notified_at is null
      and p.expected_return_date is not null
      and p.expected_return_date < (now() at time zone o.time_zone)::date
    limit batch_size
    -- the mentor too, so that the expiry sweep skips them rather than wait for us
    for update of p skip locked
    for no key update of m skip locked
  loop
    insert into mentoring.outbox (pause_id, recipient_id, kind, payload)
    select due.pause_id, recipient, 'pause_overdue', jsonb_build_object(
      'kind', 'pause_overdue',
      'pause_id', due.pause_id,
      'mentor', jsonb_build_object(
        'id', (due.mentor).id, 'display_name', (due.mentor).display_name,
        'organization_id', (due.mentor).organization_id),
      'recipient_id', recipient,
      'start_date', due.start_date,
      'expected_return_date', due.expected_return_date,
      'days_overdue', due.today - due.expected_return_date,
      'reason', due.reason,
      'started_by', jsonb_build_object('user_id', due.started_by, 'kind', due.started_by_kind),
      'occurred_at', sent_at)
    from unnest(mentoring.notification_recipients(due.mentor, null)) as recipient;
    update mentoring.pause_periods p set overdue_notified_at = sent_at
    where p.id = due.pause_id;
    reminded := reminded + 1;
  end loop;
  if reminded > 0 then
    perform pg_notify('mentoring_outbox', '');
  end if;
  return reminded;
end
$$;
