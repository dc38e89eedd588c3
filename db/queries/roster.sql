-- `pyproj-rpc roster`: the organization, its staff, mentors, assignments and
-- certifications, written as the tables' owner through the same constraints and triggers
-- as every other writer (docs/integration.md). No status is ever written here, except a
-- new mentor's first one (active only with a certification covering today).

-- name: roster_lock
-- Roster writers one at a time, so that "find by natural key, else create" cannot create
-- twice. Two-key form: never the relay's single-bigint advisory locks.
select pg_catalog.pg_advisory_xact_lock(
  pg_catalog.hashtext('pyproj-rpc'), pg_catalog.hashtext('roster'));

-- name: roster_schema_present
select pg_catalog.to_regclass('mentoring.mentors') is not null
   and pg_catalog.to_regclass('auth.users') is not null as present;

-- name: roster_may_write
-- The owner's side: a member of the tables' owner (or a superuser), who bypasses RLS and
-- holds every privilege; the role actually connected, and the owner's name for messages.
select (r.rolsuper or pg_catalog.pg_has_role(current_user, c.relowner, 'usage')) as may_write,
       current_user::text as connected_as,
       pg_catalog.pg_get_userbyid(c.relowner)::text as owner
from pg_catalog.pg_class c, pg_catalog.pg_roles r
where c.oid = 'mentoring.mentors'::regclass and r.rolname = current_user;

-- name: roster_auth_is_supabase
-- Supabase Auth (GoTrue) owns auth.users: its admin role exists, or the table has its
-- columns. Our compat table (db/supabase/compat.sql) has neither.
select exists (select from pg_catalog.pg_roles where rolname = 'supabase_auth_admin')
    or exists (
      select from pg_catalog.pg_attribute a
      where a.attrelid = 'auth.users'::regclass
        and a.attname in ('instance_id', 'encrypted_password', 'aud')
        and not a.attisdropped) as supabase;

-- name: roster_is_time_zone
select mentoring.is_time_zone(%(time_zone)s) as known;

-- name: roster_organization_by_id
select o.id, o.name, o.time_zone from mentoring.organizations o where o.id = %(id)s;

-- name: roster_organizations_by_name
select o.id, o.name, o.time_zone
from mentoring.organizations o
where o.name = %(name)s
order by o.created_at, o.id;

-- name: roster_insert_organization
insert into mentoring.organizations (name, time_zone)
values (%(name)s, %(time_zone)s)
returning id, name, time_zone;

-- name: roster_set_time_zone
-- Its trigger recomputes the organization's mentors' certified_through.
update mentoring.organizations o set time_zone = %(time_zone)s
where o.id = %(id)s;

-- name: roster_organization_today
select mentoring.organization_today(%(organization_id)s) as today;

-- name: roster_user_by_id
select u.id, u.email::text as email from auth.users u where u.id = %(id)s;

-- name: roster_users_by_email
-- Supabase Auth keeps emails in lower case; match whatever case a compat table holds.
select u.id, u.email::text as email
from auth.users u
where pg_catalog.lower(u.email::text) = %(email)s
order by u.id;

-- name: roster_insert_user
-- A local user, for development on plain PostgreSQL only (refused on Supabase Auth).
insert into auth.users (id, email) values (pg_catalog.gen_random_uuid(), %(email)s)
returning id, email::text as email;

-- name: roster_staff_role
select s.role::text as role
from mentoring.organization_staff s
where s.organization_id = %(organization_id)s and s.user_id = %(user_id)s;

-- name: roster_insert_staff
insert into mentoring.organization_staff (organization_id, user_id, role)
values (%(organization_id)s, %(user_id)s, %(role)s::mentoring.staff_role);

-- name: roster_set_staff_role
update mentoring.organization_staff s set role = %(role)s::mentoring.staff_role
where s.organization_id = %(organization_id)s and s.user_id = %(user_id)s;

-- name: roster_mentor_by_id
select m.id, m.organization_id, m.user_id, m.display_name, m.status::text as status
from mentoring.mentors m
where m.id = %(id)s;

-- name: roster_mentor_by_user
select m.id, m.organization_id, m.user_id, m.display_name, m.status::text as status
from mentoring.mentors m
where m.user_id = %(user_id)s;

-- name: roster_mentors_by_name
-- The mentors of an organization with this display name (and no user, when asked).
select m.id, m.organization_id, m.user_id, m.display_name, m.status::text as status
from mentoring.mentors m
where m.organization_id = %(organization_id)s
  and m.display_name = %(display_name)s
  and (not %(without_user)s or m.user_id is null)
order by m.created_at, m.id;

-- name: roster_insert_mentor
-- A new mentor starts active or expired_cert (a trigger refuses paused); active is
-- checked at commit (constraint trigger new_active_mentor_is_certified).
insert into mentoring.mentors (organization_id, user_id, display_name, status)
values (%(organization_id)s, %(user_id)s, %(display_name)s,
        %(status)s::mentoring.mentor_status)
returning id;

-- name: roster_set_mentor_name
-- Not the status: only the state machine changes that (through api.* or the sweep).
update mentoring.mentors m set display_name = %(display_name)s where m.id = %(id)s;

-- name: roster_check_new_mentors_now
-- Runs the commit-time check on the mentors inserted so far (a row of an import ends here).
set constraints mentoring.new_active_mentor_is_certified immediate;

-- name: roster_check_new_mentors_at_commit
set constraints mentoring.new_active_mentor_is_certified deferred;

-- name: roster_is_assigned
select exists (
  select from mentoring.mentor_coordinators c
  where c.mentor_id = %(mentor_id)s and c.coordinator_id = %(coordinator_id)s) as assigned;

-- name: roster_assign
-- The foreign key to organization_staff makes the coordinator staff of the mentor's own
-- organization.
insert into mentoring.mentor_coordinators (mentor_id, organization_id, coordinator_id)
select m.id, m.organization_id, %(coordinator_id)s
from mentoring.mentors m where m.id = %(mentor_id)s
on conflict (mentor_id, coordinator_id) do nothing;

-- name: roster_unassign
delete from mentoring.mentor_coordinators c
where c.mentor_id = %(mentor_id)s and c.coordinator_id = %(coordinator_id)s;

-- name: roster_certification_by_id
select c.id, c.mentor_id, m.organization_id, pg_catalog.lower(c.valid_during) as valid_from,
       nullif(pg_catalog.upper(c.valid_during), 'infinity') - 1 as valid_until, c.name
from mentoring.certifications c join mentoring.mentors m on m.id = c.mentor_id
where c.id = %(id)s;

-- name: roster_certifications_starting
-- A certification's natural key: its mentor and its first day.
select c.id, c.mentor_id, m.organization_id, pg_catalog.lower(c.valid_during) as valid_from,
       nullif(pg_catalog.upper(c.valid_during), 'infinity') - 1 as valid_until, c.name
from mentoring.certifications c join mentoring.mentors m on m.id = c.mentor_id
where c.mentor_id = %(mentor_id)s and pg_catalog.lower(c.valid_during) = %(valid_from)s
order by c.created_at, c.id;

-- name: roster_insert_certification
-- valid_until is the last certified day (null: no end); the range excludes its upper bound.
-- Its triggers lock the mentor's row and recompute mentors.certified_through.
insert into mentoring.certifications (mentor_id, valid_during, name)
values (%(mentor_id)s, pg_catalog.daterange(%(valid_from)s, %(valid_until)s::date + 1), %(name)s)
returning id;

-- name: roster_update_certification
update mentoring.certifications c
set valid_during = pg_catalog.daterange(%(valid_from)s, %(valid_until)s::date + 1), name = %(name)s
where c.id = %(id)s;

-- name: roster_certified_today
-- Whether the mentor is certified on the organization's today, and until when.
select mentoring.certification_coverage(m.id, mentoring.organization_today(m.organization_id))
         is not null as certified
from mentoring.mentors m where m.id = %(mentor_id)s;

-- name: roster_list_organizations
select o.id, o.name, o.time_zone, mentoring.organization_today(o.id) as today
from mentoring.organizations o
where %(organization_id)s::uuid is null or o.id = %(organization_id)s
order by o.name, o.created_at, o.id;

-- name: roster_list_staff
select s.organization_id, s.user_id, u.email::text as email, s.role::text as role
from mentoring.organization_staff s join auth.users u on u.id = s.user_id
where s.organization_id = any(%(organization_ids)s)
order by s.role desc, u.email, s.user_id;

-- name: roster_list_mentors
select m.organization_id, m.id, m.display_name, m.user_id, u.email::text as email,
       m.status::text as status,
       -- a date, 'infinity' (no end) or null (not certified today); text holds all three
       m.certified_through::text as certified_through,
       coalesce((
         select pg_catalog.jsonb_agg(
                  pg_catalog.jsonb_build_object('user_id', c.coordinator_id,
                                                'email', cu.email::text)
                  order by cu.email, c.coordinator_id)
         from mentoring.mentor_coordinators c
         left join auth.users cu on cu.id = c.coordinator_id
         where c.mentor_id = m.id), '[]') as coordinators
from mentoring.mentors m left join auth.users u on u.id = m.user_id
where m.organization_id = any(%(organization_ids)s)
order by m.display_name, m.id;

-- name: roster_list_certifications
select c.mentor_id, c.id, pg_catalog.lower(c.valid_during) as valid_from,
       nullif(pg_catalog.upper(c.valid_during), 'infinity') - 1 as valid_until, c.name
from mentoring.certifications c join mentoring.mentors m on m.id = c.mentor_id
where m.organization_id = any(%(organization_ids)s)
order by c.mentor_id, pg_catalog.lower(c.valid_during), c.id;
