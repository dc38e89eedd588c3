-- Finding lapsed mentors without reading the whole roster.
-- mentors.certified_through is the last day of the unbroken certification covering the
-- day it was computed ('infinity' when open-ended; null when not certified then). It is
-- kept by triggers whenever a certification or the mentor's status changes, and stays
-- right as days pass until that last day. An index on it, over the mentors who are not
-- yet expired, makes the expiry sweep read only the mentors who may have lapsed.

alter table mentoring.mentors add column certified_through date;
comment on column mentoring.mentors.certified_through is
  'Last day of the certification covering the day it was computed (kept by triggers); '
  'null: not certified then. The expiry sweep''s index; the truth stays certifications.';

create function mentoring.certified_through(mentor_id uuid, on_date date)
  returns date
  language sql stable
  set search_path = ''
as $$
  select case
    when covered is null then null
    when upper_inf(covered) then 'infinity'::date
    else upper(covered) - 1
  end
  from (select mentoring.certification_coverage(certified_through.mentor_id,
                                                certified_through.on_date) as covered) c
$$;

-- The column belongs to the triggers: whatever an INSERT or UPDATE of a mentor says, it is
-- computed (a status change, an organization move, a touch from the triggers below).
create function mentoring.mentors_compute_certified_through()
  returns trigger
  language plpgsql security definer
  set search_path = ''
as $$
begin
  new.certified_through := mentoring.certified_through(
    new.id, mentoring.organization_today(new.organization_id));
  return new;
end
$$;

create trigger compute_certified_through
  before insert or update on mentoring.mentors
  for each row execute function mentoring.mentors_compute_certified_through();

-- After a certification changes: touch its mentor (both, if it moved) to recompute.
create function mentoring.certifications_refresh_mentor()
  returns trigger
  language plpgsql security definer
  set search_path = ''
as $$
begin
  update mentoring.mentors m
  set certified_through = null  -- computed again by compute_certified_through
  where m.id in (old.mentor_id, new.mentor_id);
  return null;
end
$$;

create trigger refresh_mentors_certified_through
  after insert or update or delete on mentoring.certifications
  for each row execute function mentoring.certifications_refresh_mentor();

-- TRUNCATE fires no row trigger: recompute every mentor.
create function mentoring.certifications_refresh_all_mentors()
  returns trigger
  language plpgsql security definer
  set search_path = ''
as $$
begin
  update mentoring.mentors m set certified_through = null;
  return null;
end
$$;

create trigger refresh_all_certified_through_after_truncate
  after truncate on mentoring.certifications
  for each statement execute function mentoring.certifications_refresh_all_mentors();

-- A new time zone moves the organization's today: recompute its mentors.
create function mentoring.organizations_refresh_mentors()
  returns trigger
  language plpgsql security definer
  set search_path = ''
as $$
begin
  update mentoring.mentors m set certified_through = null
  where m.organization_id = new.id;
  return null;
end
$$;

create trigger refresh_certified_through_on_time_zone_change
  after update of time_zone on mentoring.organizations
  for each row when (old.time_zone is distinct from new.time_zone)
  execute function mentoring.organizations_refresh_mentors();

update mentoring.mentors m set certified_through = null;  -- computed for everyone

create index mentors_expiry_candidates_idx on mentoring.mentors (certified_through)
  where status <> 'expired_cert';
