-- The scheduler: sweeps run from our CLI or relay, and the pg_cron jobs that run them
-- inside the database.

-- name: sweep_lapsed_estimate
-- How many mentors the expiry sweep may expire (for a progress bar; an upper bound).
select pg_catalog.count(*) as estimate
from mentoring.mentors m
join mentoring.organizations o on o.id = m.organization_id
where m.status <> 'expired_cert'
  and (m.certified_through is null
       or m.certified_through < (pg_catalog.now() at time zone o.time_zone)::date);

-- name: sweep_overdue_estimate
select pg_catalog.count(*) as estimate
from mentoring.pause_periods p
join mentoring.mentors m on m.open_pause_id = p.id
join mentoring.organizations o on o.id = m.organization_id
where p.ended_at is null and p.overdue_notified_at is null
  and p.expected_return_date < (pg_catalog.now() at time zone o.time_zone)::date;

-- name: sweep_remind_overdue
select mentoring.remind_overdue_pauses(%(batch_size)s) as result;

-- name: sweep_purge_idempotency_keys
select mentoring.purge_idempotency_keys(%(older_than)s::interval) as result;

-- name: sweep_take_lease
-- One sweeper at a time across relays: a lease only the sweeping roles can take.
select mentoring.take_sweeper_lease(%(holder)s, %(lease)s) as taken;

-- name: sweep_release_lease
select mentoring.release_sweeper_lease(%(holder)s) as released;

-- name: cron_state
select exists (select from pg_catalog.pg_available_extensions where name = 'pg_cron') as available,
       exists (select from pg_catalog.pg_extension where extname = 'pg_cron') as installed;

-- name: cron_schedule
-- Creates or updates the job of that name.
select cron.schedule(%(name)s, %(schedule)s, %(command)s) as jobid;

-- name: cron_unschedule_ours
select j.jobname, cron.unschedule(j.jobid) as removed
from cron.job j
where j.jobname like 'pyproj-rpc-%%'
order by j.jobname;

-- name: cron_jobs
select j.jobname as name, j.schedule, j.active, j.command,
       last.status as last_status, last.start_time as last_run, last.return_message
from cron.job j
left join lateral (
  select d.status, d.start_time, d.return_message
  from cron.job_run_details d
  where d.jobid = j.jobid
  order by d.start_time desc
  limit 1
) last on true
where j.jobname like 'pyproj-rpc-%%'
order by j.jobname;

-- name: cron_command_expire
-- The pg_cron job: batches of 500, committed one by one, until the backlog is gone.
do $$
declare
  expired integer;
begin
  loop
    expired := api.expire_lapsed_certifications(500);
    commit;
    exit when expired < 500;
  end loop;
end
$$;

-- name: cron_command_remind
do $$
declare
  reminded integer;
begin
  loop
    reminded := mentoring.remind_overdue_pauses(500);
    commit;
    exit when reminded < 500;
  end loop;
end
$$;

-- name: cron_command_purge
select mentoring.purge_idempotency_keys('7 days');

-- name: local_create_pg_cron
-- `pyproj-rpc db local start`: pg_cron in the database its jobs run from (cron.database_name).
create extension if not exists pg_cron;
