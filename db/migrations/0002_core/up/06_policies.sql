-- Row-level security. A mentor sees themselves, a coordinator their assigned mentors,
-- an admin their organization; anything else does not exist for them.
-- service_role bypasses RLS. auth.uid() is always wrapped as (select auth.uid()) so it
-- runs once per statement, and the helpers are SECURITY DEFINER so that policies never
-- recurse through each other.

create function mentoring.administered_organizations()
  returns setof uuid
  language sql stable security definer
  set search_path = ''
as $$
  select s.organization_id
  from mentoring.organization_staff s
  where s.user_id = (select auth.uid()) and s.role = 'admin'
$$;

create function mentoring.coordinated_mentors()
  returns setof uuid
  language sql stable security definer
  set search_path = ''
as $$
  select c.mentor_id
  from mentoring.mentor_coordinators c
  where c.coordinator_id = (select auth.uid())
$$;

create function mentoring.visible_mentors()
  returns setof uuid
  language sql stable security definer
  set search_path = ''
as $$
  select m.id from mentoring.mentors m where m.user_id = (select auth.uid())
  union
  select mentoring.coordinated_mentors()
  union
  select m.id from mentoring.mentors m
  where m.organization_id in (select mentoring.administered_organizations())
$$;

create function mentoring.member_organizations()
  returns setof uuid
  language sql stable security definer
  set search_path = ''
as $$
  select s.organization_id from mentoring.organization_staff s
  where s.user_id = (select auth.uid())
  union
  select m.organization_id from mentoring.mentors m
  where m.user_id = (select auth.uid())
$$;

alter table mentoring.organizations enable row level security;
alter table mentoring.organization_staff enable row level security;
alter table mentoring.mentors enable row level security;
alter table mentoring.mentor_coordinators enable row level security;
alter table mentoring.certifications enable row level security;
alter table mentoring.pause_periods enable row level security;
alter table mentoring.status_events enable row level security;
alter table mentoring.outbox enable row level security;
alter table mentoring.transitions enable row level security;
alter table mentoring.error_codes enable row level security;
alter table mentoring.pause_preconditions enable row level security;
alter table mentoring.idempotency_keys enable row level security;
-- outbox, pause_preconditions and idempotency_keys have no policy: no user reads them.

create policy members_see_their_organization on mentoring.organizations
  for select to authenticated
  using (id in (select mentoring.member_organizations()));

create policy staff_see_themselves_and_admins_their_staff on mentoring.organization_staff
  for select to authenticated
  using (
    user_id = (select auth.uid())
    or organization_id in (select mentoring.administered_organizations())
  );

create policy mentor_coordinator_or_admin_sees_the_mentor on mentoring.mentors
  for select to authenticated
  using (id in (select mentoring.visible_mentors()));

-- Only the status column is granted; the state machine trigger decides the rest.
create policy mentor_coordinator_or_admin_changes_the_status on mentoring.mentors
  for update to authenticated
  using (id in (select mentoring.visible_mentors()))
  with check (id in (select mentoring.visible_mentors()));

create policy visible_mentors_assignments on mentoring.mentor_coordinators
  for select to authenticated
  using (mentor_id in (select mentoring.visible_mentors()));

create policy visible_mentors_certifications on mentoring.certifications
  for select to authenticated
  using (mentor_id in (select mentoring.visible_mentors()));

create policy visible_mentors_pauses on mentoring.pause_periods
  for select to authenticated
  using (mentor_id in (select mentoring.visible_mentors()));

create policy visible_mentors_events on mentoring.status_events
  for select to authenticated
  using (mentor_id in (select mentoring.visible_mentors()));

create policy everyone_signed_in_reads_the_state_machine on mentoring.transitions
  for select to authenticated
  using (true);

create policy everyone_signed_in_reads_the_error_codes on mentoring.error_codes
  for select to authenticated
  using (true);
