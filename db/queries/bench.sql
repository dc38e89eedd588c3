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
