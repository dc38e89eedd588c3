-- Benchmark fixtures. They write real rows (status events are append-only), so by
-- default benchmarks run on a throwaway local cluster.

-- name: bench_seed_mentor
-- One organization, one coordinator, one certified mentor assigned to them.
with org as (
  insert into mentoring.organizations (name) values (%(name)s) returning id
), coordinator as (
  insert into auth.users (id) values (gen_random_uuid()) returning id
), staff as (
  insert into mentoring.organization_staff (organization_id, user_id, role)
  select org.id, coordinator.id, 'coordinator' from org, coordinator
  returning organization_id, user_id
), mentor as (
  insert into mentoring.mentors (organization_id, display_name, status)
  select org.id, 'Benchmark mentor', 'active' from org
  returning id, organization_id
), certification as (
  insert into mentoring.certifications (mentor_id, valid_during)
  select mentor.id, daterange(current_date - 2, null) from mentor
), assignment as (
  insert into mentoring.mentor_coordinators (mentor_id, organization_id, coordinator_id)
  select mentor.id, mentor.organization_id, staff.user_id from mentor, staff
)
select mentor.id as mentor_id, staff.user_id as coordinator_id from mentor, staff;

-- name: bench_baseline_table
create temporary table bench_plain (
  id uuid primary key,
  status mentoring.mentor_status not null
);

-- name: bench_baseline_row
insert into bench_plain (id, status) values (%(id)s, 'active');

-- name: bench_baseline_flip
-- The cheapest way to change a status: what the state machine is compared with.
update bench_plain
set status = case when status = 'active' then 'paused' else 'active' end::mentoring.mentor_status
where id = %(id)s;
