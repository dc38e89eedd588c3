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

-- After a certification changes: recompute for its mentor (both, if it moved).
create function mentoring.certifications_refresh_mentor()
  returns trigger
  language plpgsql security definer
  set search_path = ''
as $$
begin
  update mentoring.mentors m
  set certified_through = mentoring.certified_through(
        m.id, mentoring.organization_today(m.organization_id))
  where m.id in (old.mentor_id, new.mentor_id);
  return null;
end
$$;

create trigger refresh_mentors_certified_through
  after insert or update or delete on mentoring.certifications
  for each row execute function mentoring.certifications_refresh_mentor();

-- When the status changes (a reactivation, say): recompute as of today.
create function mentoring.mentors_refresh_certified_through()
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

create trigger refresh_certified_through_on_status_change
  before update of status on mentoring.mentors
  for each row when (old.status is distinct from new.status)
  execute function mentoring.mentors_refresh_certified_through();

update mentoring.mentors m
set certified_through = mentoring.certified_through(
  m.id, mentoring.organization_today(m.organization_id));

create index mentors_expiry_candidates_idx on mentoring.mentors (certified_through)
  where status <> 'expired_cert';
