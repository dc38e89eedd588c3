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
