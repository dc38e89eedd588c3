-- Every grant of this revision, in one place.
revoke execute on function
  mentoring.certified_through(uuid, date),
  mentoring.mentors_compute_certified_through(),
  mentoring.certifications_refresh_mentor(),
  mentoring.certifications_refresh_all_mentors(),
  mentoring.organizations_refresh_mentors(),
  mentoring.remind_overdue_pauses(integer),
  api.expire_lapsed_certifications(integer)
  from public, anon, authenticated, service_role;

-- The expiry sweep: the scheduler (service_role) and admins for their organizations.
grant execute on function api.expire_lapsed_certifications(integer)
  to authenticated, service_role;
grant execute on function mentoring.certified_through(uuid, date)
  to authenticated, service_role;

-- Overdue reminders: a backend job.
grant execute on function mentoring.remind_overdue_pauses(integer) to service_role;

notify pgrst, 'reload schema';
