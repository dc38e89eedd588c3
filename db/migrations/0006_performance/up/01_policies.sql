-- Row-level security whose cost does not depend on the roster.
--
-- A mentor row is visible to its own user, to its coordinators (an indexed EXISTS on the
-- assignment of this mentor to the caller) and to its organization's admins; rows about a
-- mentor (assignments, certifications, pauses, events) are visible when their mentor is,
-- through an indexed EXISTS on mentors. Who the caller is comes from (select ...)
-- init-plans, evaluated once per statement and only when an earlier condition did not
-- already decide. The helpers are SECURITY DEFINER, so that no policy recurses through
-- another, and PL/pgSQL, so that their plans are cached (a SQL function with its own
-- search_path is planned again at every call).

create function mentoring.caller_administered_organizations()
  returns uuid[]
  language plpgsql stable security definer
  set search_path = pg_catalog, pg_temp
as $$
begin
  return (select coalesce(array_agg(s.organization_id), '{}')
          from mentoring.organization_staff s
          where s.user_id = auth.uid() and s.role = 'admin');
end
$$;
comment on function mentoring.caller_administered_organizations() is
  'The organizations the signed-in caller administers (for policies: once per statement).';

create function mentoring.caller_organizations()
  returns uuid[]
  language plpgsql stable security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  caller uuid := auth.uid();
begin
  return (select coalesce(array_agg(distinct member.organization_id), '{}')
          from (
            select s.organization_id from mentoring.organization_staff s
            where s.user_id = caller
            union all
            select m.organization_id from mentoring.mentors m where m.user_id = caller
          ) member);
end
$$;
comment on function mentoring.caller_organizations() is
  'The organizations the signed-in caller belongs to, as staff or as a mentor.';

-- The mentors policy's rule for one mentor, for policies that cannot read mentors (the
-- assignments: the mentors policy reads them). Per row, only when a cheaper test failed.
create function mentoring.caller_sees_mentor(mentor_id uuid)
  returns boolean
  language plpgsql stable security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  caller uuid := auth.uid();
begin
  return exists (
      select from mentoring.mentors m
      where m.id = caller_sees_mentor.mentor_id
        and (m.user_id = caller
             or m.organization_id = any (mentoring.caller_administered_organizations())))
    or exists (
      select from mentoring.mentor_coordinators c
      where c.mentor_id = caller_sees_mentor.mentor_id and c.coordinator_id = caller);
end
$$;
comment on function mentoring.caller_sees_mentor(uuid) is
  'Whether the signed-in caller may see this mentor: the rule of the mentors policy.';

drop policy members_see_their_organization on mentoring.organizations;
create policy members_see_their_organization on mentoring.organizations
  for select to authenticated
  using (id = any ((select mentoring.caller_organizations())::uuid[]));

drop policy staff_see_themselves_and_admins_their_staff on mentoring.organization_staff;
create policy staff_see_themselves_and_admins_their_staff on mentoring.organization_staff
  for select to authenticated
  using (
    user_id = (select auth.uid())
    or organization_id = any ((select mentoring.caller_administered_organizations())::uuid[])
  );

drop policy mentor_coordinator_or_admin_sees_the_mentor on mentoring.mentors;
create policy mentor_coordinator_or_admin_sees_the_mentor on mentoring.mentors
  for select to authenticated
  using (
    user_id = (select auth.uid())
    or exists (
      select from mentoring.mentor_coordinators c
      where c.mentor_id = mentors.id and c.coordinator_id = (select auth.uid()))
    or organization_id = any ((select mentoring.caller_administered_organizations())::uuid[])
  );

-- Only the status column is granted; the state machine decides the rest.
drop policy mentor_coordinator_or_admin_changes_the_status on mentoring.mentors;
create policy mentor_coordinator_or_admin_changes_the_status on mentoring.mentors
  for update to authenticated
  using (
    user_id = (select auth.uid())
    or exists (
      select from mentoring.mentor_coordinators c
      where c.mentor_id = mentors.id and c.coordinator_id = (select auth.uid()))
    or organization_id = any ((select mentoring.caller_administered_organizations())::uuid[])
  )
  with check (
    user_id = (select auth.uid())
    or exists (
      select from mentoring.mentor_coordinators c
      where c.mentor_id = mentors.id and c.coordinator_id = (select auth.uid()))
    or organization_id = any ((select mentoring.caller_administered_organizations())::uuid[])
  );

-- Assignments of a visible mentor: the caller's own at once, the others by the mentors
-- policy's rule (this policy cannot read mentors, whose policy reads this table).
drop policy visible_mentors_assignments on mentoring.mentor_coordinators;
create policy visible_mentors_assignments on mentoring.mentor_coordinators
  for select to authenticated
  using (
    coordinator_id = (select auth.uid())
    or mentoring.caller_sees_mentor(mentor_id)
  );

drop policy visible_mentors_certifications on mentoring.certifications;
create policy visible_mentors_certifications on mentoring.certifications
  for select to authenticated
  using (exists (select from mentoring.mentors m where m.id = certifications.mentor_id));

drop policy visible_mentors_pauses on mentoring.pause_periods;
create policy visible_mentors_pauses on mentoring.pause_periods
  for select to authenticated
  using (exists (select from mentoring.mentors m where m.id = pause_periods.mentor_id));

drop policy visible_mentors_events on mentoring.status_events;
create policy visible_mentors_events on mentoring.status_events
  for select to authenticated
  using (exists (select from mentoring.mentors m where m.id = status_events.mentor_id));
