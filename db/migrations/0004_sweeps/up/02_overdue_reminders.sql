-- Reminders for pauses past their expected return: a second kind of notification, about
-- a pause rather than a status event, sent once per pause.

alter table mentoring.pause_periods add column overdue_notified_at timestamptz;
comment on column mentoring.pause_periods.overdue_notified_at is
  'When the coordinators were told the pause is past its expected return (once per pause).';

create index pause_periods_overdue_idx on mentoring.pause_periods (expected_return_date)
  where ended_at is null and overdue_notified_at is null and expected_return_date is not null;

alter table mentoring.outbox
  alter column event_id drop not null,
  add column pause_id uuid references mentoring.pause_periods,
  add constraint about_one_event_or_one_pause check (num_nonnulls(event_id, pause_id) = 1),
  add constraint status_changes_name_their_event
    check (kind <> 'status_changed' or event_id is not null),
  add constraint reminders_name_their_pause
    check (kind <> 'pause_overdue' or pause_id is not null);

create unique index outbox_one_reminder_per_pause_and_recipient
  on mentoring.outbox (pause_id, recipient_id, kind) where pause_id is not null;

-- Who hears about a mentor: the assigned coordinators but the actor; the organization's
-- admins (but the actor) when no coordinator is assigned.
create function mentoring.notification_recipients(mentor mentoring.mentors, actor_user_id uuid)
  returns uuid[]
  language sql stable security definer
  set search_path = ''
as $$
  select case
    when exists (select from mentoring.mentor_coordinators c where c.mentor_id = mentor.id)
    then array(
      select c.coordinator_id from mentoring.mentor_coordinators c
      where c.mentor_id = mentor.id
        and c.coordinator_id is distinct from notification_recipients.actor_user_id
      order by c.coordinator_id)
    else array(
      select s.user_id from mentoring.organization_staff s
      where s.organization_id = mentor.organization_id
        and s.role = 'admin'
        and s.user_id is distinct from notification_recipients.actor_user_id
      order by s.user_id)
  end
$$;

-- Same behaviour as in 0002; the recipients now come from notification_recipients.
create or replace function mentoring.notify_coordinators(
  event mentoring.status_events, mentor mentoring.mentors
)
  returns integer
  language plpgsql volatile security definer
  set search_path = ''
as $$
declare
  recipients uuid[] := mentoring.notification_recipients(mentor, event.actor_user_id);
  pause mentoring.pause_periods;
begin
  if cardinality(recipients) = 0 then
    return 0;
  end if;
  select p.* into pause from mentoring.pause_periods p where p.id = event.pause_id;
  insert into mentoring.outbox (event_id, recipient_id, kind, payload)
  select event.id, recipient, 'status_changed', jsonb_build_object(
    'event_id', event.id,
    'kind', 'status_changed',
    'sequence', event.sequence,
    'mentor', jsonb_build_object(
      'id', mentor.id, 'display_name', mentor.display_name,
      'organization_id', mentor.organization_id),
    'recipient_id', recipient,
    'from_status', event.from_status,
    'to_status', event.to_status,
    'reason', event.reason,
    'actor', jsonb_build_object('user_id', event.actor_user_id, 'kind', event.actor_kind),
    'occurred_at', event.occurred_at,
    'expected_return_date', pause.expected_return_date,
    'forced', event.forced,
    'findings', event.findings)
  from unnest(recipients) as recipient;

  perform pg_notify('mentoring_outbox', '');
  return cardinality(recipients);
end
$$;
