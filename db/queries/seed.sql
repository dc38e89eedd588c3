-- Writing organizations, people, mentors and certifications directly, as the table
-- owner: for the demo, benchmarks and tests. (In production the certification and
-- staffing features own these rows.)

-- name: seed_user
insert into auth.users (id, email) values (pg_catalog.gen_random_uuid(), %(email)s) returning id;

-- name: seed_organization
insert into mentoring.organizations (name, time_zone) values (%(name)s, %(time_zone)s)
returning id;

-- name: seed_staff
insert into mentoring.organization_staff (organization_id, user_id, role)
values (%(organization_id)s, %(user_id)s, %(role)s);

-- name: seed_mentor
insert into mentoring.mentors (organization_id, user_id, display_name, status)
values (%(organization_id)s, %(user_id)s, %(display_name)s, %(status)s)
returning id;

-- name: seed_certification
-- Valid from first_day up to, not including, lapses_on (null: no end).
insert into mentoring.certifications (mentor_id, valid_during)
values (%(mentor_id)s, pg_catalog.daterange(%(first_day)s, %(lapses_on)s));

-- name: seed_lapse
-- End every certification of the mentor before today (in the organization's zone).
update mentoring.certifications c
set valid_during = pg_catalog.daterange(least(pg_catalog.lower(c.valid_during), today - 30), today)
from (
  select mentoring.organization_today(m.organization_id) as today
  from mentoring.mentors m where m.id = %(mentor_id)s
) t
where c.mentor_id = %(mentor_id)s;

-- name: seed_assignment
insert into mentoring.mentor_coordinators (mentor_id, organization_id, coordinator_id)
select m.id, m.organization_id, %(coordinator_id)s
from mentoring.mentors m where m.id = %(mentor_id)s;

-- name: seed_check_new_mentors_now
-- The certification check on new active mentors normally waits for the commit.
set constraints mentoring.new_active_mentor_is_certified immediate;

-- name: seed_check_new_mentors_at_commit
set constraints mentoring.new_active_mentor_is_certified deferred;

-- name: organization_today
select mentoring.organization_today(%(organization_id)s) as today;
