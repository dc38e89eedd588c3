-- A benchmark roster, written set-based as a superuser through psql (pyproj_rpc.bench.cluster):
--   psql -v ON_ERROR_STOP=1 -v mentors=N -v per_coordinator=200 -v organizations=O
--        -v lapsed_every=E -f db/bench/roster.sql
--
-- Ids are derived from numbers (md5), so that pgbench scripts can name anyone:
--   mentor n (1..N) is md5('m'||n)::uuid, their user md5('u'||n)::uuid;
--   coordinator k, of mentors (k-1)*per_coordinator+1 .. k*per_coordinator, is user
--     md5('c'||k)::uuid, staff of organization (k-1) % O + 1 with their mentors;
--   organization o is md5('o'||o)::uuid (time zone UTC), its admin user md5('a'||o)::uuid.
-- Every mentor with n % 10 = 0 is paused (by their coordinator, today, open pause
-- md5('p'||n)::uuid, status_version 1); every other one is active. Mentors with
-- n % 10 = 5 and (n / 10) % E = E - 1 have a lapsed certification (about N / 10 / E of
-- them; a huge E for none); the others are certified a year either side of today.
--
-- Triggers are skipped (session_replication_role = replica): the rows are written as the
-- state machine would have written them, a million at a time, in id order (index pages
-- fill in order). Benchmarks only.

set session_replication_role = replica;

insert into mentoring.organizations (id, name, time_zone)
select md5('o' || o)::uuid, 'Bench organization ' || o, 'UTC'
from generate_series(1, :organizations) o;

insert into auth.users (id)
select id from (
  select md5('a' || o)::uuid as id from generate_series(1, :organizations) o
  union all
  select md5('c' || k)::uuid
  from generate_series(1, (:mentors + :per_coordinator - 1) / :per_coordinator) k
  union all
  select md5('u' || n)::uuid from generate_series(1, :mentors) n
) users
order by id;

insert into mentoring.organization_staff (organization_id, user_id, role)
select md5('o' || o)::uuid, md5('a' || o)::uuid, 'admin'::mentoring.staff_role
from generate_series(1, :organizations) o
union all
select md5('o' || ((k - 1) % :organizations + 1))::uuid, md5('c' || k)::uuid, 'coordinator'
from generate_series(1, (:mentors + :per_coordinator - 1) / :per_coordinator) k;

create temporary table bench_roster as
select n,
       md5('m' || n)::uuid as id,
       md5('u' || n)::uuid as user_id,
       (n - 1) / :per_coordinator + 1 as coordinator,
       md5('o' || (((n - 1) / :per_coordinator) % :organizations + 1))::uuid as organization_id,
       n % 10 = 0 as paused,
       n % 10 = 5 and (n / 10) % :lapsed_every = :lapsed_every - 1 as lapsed
from generate_series(1, :mentors) n
order by id;

insert into mentoring.mentors
  (id, organization_id, user_id, display_name, status, status_version, open_pause_id,
   certified_through)
select r.id, r.organization_id, r.user_id, 'Mentor ' || r.n,
       case when r.paused then 'paused' else 'active' end::mentoring.mentor_status,
       case when r.paused then 1 else 0 end,
       case when r.paused then md5('p' || r.n)::uuid end,
       case when r.lapsed then current_date - 2 else current_date + 364 end
from bench_roster r;

insert into mentoring.mentor_coordinators (mentor_id, organization_id, coordinator_id)
select r.id, r.organization_id, md5('c' || r.coordinator)::uuid from bench_roster r;

insert into mentoring.certifications (mentor_id, valid_during)
select r.id,
       case when r.lapsed then daterange(current_date - 400, current_date - 1)
            else daterange(current_date - 365, current_date + 365) end
from bench_roster r;

insert into mentoring.pause_periods
  (id, mentor_id, start_date, reason, started_by, started_by_kind)
select md5('p' || r.n)::uuid, r.id, current_date, 'benchmark',
       md5('c' || r.coordinator)::uuid, 'coordinator'
from bench_roster r where r.paused;

-- each the first of its mentor's chain (mentoring.status_event_hash, revision 0009)
insert into mentoring.status_events
  (mentor_id, sequence, from_status, to_status, reason, actor_user_id, actor_kind,
   database_role, pause_id, occurred_at, hash)
select r.id, 1, 'active', 'paused', 'benchmark', md5('c' || r.coordinator)::uuid,
       'coordinator', 'authenticated', p.id, m.status_changed_at,
       mentoring.status_event_hash(null, r.id, 1, 'active', 'paused', 'benchmark',
         md5('c' || r.coordinator)::uuid, 'coordinator', 'authenticated', false, '[]', null,
         p.id, m.status_changed_at, p)
from bench_roster r
join mentoring.mentors m on m.id = r.id
join mentoring.pause_periods p on p.id = md5('p' || r.n)::uuid
where r.paused;

drop table bench_roster;
set session_replication_role = origin;
