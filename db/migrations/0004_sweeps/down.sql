drop function api.expire_lapsed_certifications(integer);
drop function mentoring.remind_overdue_pauses(integer);

-- notify_coordinators as in 0002, before notification_recipients goes.
create or replace function mentoring.notify_coordinators(
  event mentoring.status_events, mentor mentoring.mentors
)
  returns integer
  language plpgsql volatile security definer
  set search_path = ''
as $$
declare
  recipients uuid[];
  pause mentoring.pause_periods;
begin
  if exists (select from mentoring.mentor_coordinators c where c.mentor_id = mentor.id) then
    select array_agg(c.coordinator_id order by c.coordinator_id) into recipients
    from mentoring.mentor_coordinators c
    where c.mentor_id = mentor.id and c.coordinator_id is distinct from event.actor_user_id;
  else
    select array_agg(s.user_id order by s.user_id) into recipients
    from mentoring.organization_staff s
    where s.organization_id = mentor.organization_id
      and s.role = 'admin'
      and s.user_id is distinct from event.actor_user_id;
  end if;
  if coalesce(cardinality(recipients), 0) = 0 then
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
drop function mentoring.notification_recipients(mentoring.mentors, uuid);

-- Reminders are not status events: they cannot stay in an outbox that requires one.
delete from mentoring.outbox where pause_id is not null;
drop index mentoring.outbox_one_reminder_per_pause_and_recipient;
alter table mentoring.outbox
  drop constraint reminders_name_their_pause,
  drop constraint status_changes_name_their_event,
  drop constraint about_one_event_or_one_pause,
  drop column pause_id,
  alter column event_id set not null;

drop index mentoring.pause_periods_overdue_idx;
alter table mentoring.pause_periods drop column overdue_notified_at;

drop index mentoring.mentors_expiry_candidates_idx;
drop trigger refresh_certified_through_on_status_change on mentoring.mentors;
drop trigger refresh_mentors_certified_through on mentoring.certifications;
drop function
  mentoring.mentors_refresh_certified_through(),
  mentoring.certifications_refresh_mentor(),
  mentoring.certified_through(uuid, date);
alter table mentoring.mentors drop column certified_through;

notify pgrst, 'reload schema';
