drop function api.expire_lapsed_certifications(integer);
drop function mentoring.remind_overdue_pauses(integer);

-- Reminders are not status events: they cannot stay in an outbox that requires one.
-- (Upgrading again reminds about overdue pauses once more: the marker goes too.)
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
drop trigger refresh_certified_through_on_time_zone_change on mentoring.organizations;
drop trigger refresh_all_certified_through_after_truncate on mentoring.certifications;
drop trigger refresh_mentors_certified_through on mentoring.certifications;
drop trigger compute_certified_through on mentoring.mentors;
drop function
  mentoring.organizations_refresh_mentors(),
  mentoring.certifications_refresh_all_mentors(),
  mentoring.certifications_refresh_mentor(),
  mentoring.mentors_compute_certified_through(),
  mentoring.certified_through(uuid, date);
alter table mentoring.mentors drop column certified_through;

notify pgrst, 'reload schema';
