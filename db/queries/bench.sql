-- Benchmark fixtures. They write real rows (status events are append-only), so by
-- default benchmarks run on a throwaway local cluster.

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

-- name: bench_roster
-- %(count)s certified mentors (a year either side of today) in one organization.
with added as (
  insert into mentoring.mentors (organization_id, display_name, status)
  select %(organization_id)s, 'Roster ' || n, 'active'
  from generate_series(1, %(count)s) n
  returning id
)
insert into mentoring.certifications (mentor_id, valid_during)
select id, daterange(current_date - 365, current_date + 365) from added;

-- name: bench_lapse_some
-- Lapse the certifications of %(count)s of the organization's mentors.
update mentoring.certifications c
set valid_during = daterange(current_date - 400, current_date - 1)
where c.mentor_id in (
  select m.id from mentoring.mentors m
  where m.organization_id = %(organization_id)s
  order by m.id
  limit %(count)s
);

-- name: bench_naive_lapsed
-- Finding lapsed mentors without an index of our own: every active or paused mentor's
-- certifications are read. The baseline the expiry sweep's index is measured against.
select count(*)
from mentoring.mentors m
join mentoring.organizations o on o.id = m.organization_id
where m.status <> 'expired_cert'
  and mentoring.certification_coverage(m.id, (now() at time zone o.time_zone)::date) is null;

-- name: bench_outbox_reset
-- Every outbox row pending again, as new: the same backlog delivered once more.
update mentoring.outbox
set delivered_at = null, dead_at = null, attempts = 0, available_at = now(),
    claim_id = null, leased_until = null, last_error = null;
