-- pgbench: the transaction of pgbench's built-in simple-update (scale 1), then NOTIFY, as every writer did before revision 0006.
-- The price of a wake-up on a cheap write, whatever the state machine costs.
\set aid random(1, 100000)
\set bid random(1, 1)
\set tid random(1, 10)
\set delta random(-5000, 5000)
begin;
update pgbench_accounts set abalance = abalance + :delta where aid = :aid;
select abalance from pgbench_accounts where aid = :aid;
insert into pgbench_history (tid, bid, aid, delta, mtime) values (:tid, :bid, :aid, :delta, current_timestamp);
select pg_notify('mentoring_outbox', '');
end;
