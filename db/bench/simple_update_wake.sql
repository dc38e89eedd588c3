-- pgbench: the transaction of pgbench's built-in simple-update (scale 1), then the state machine's wake-up (mentoring.wake_relays): NOTIFY only when no relay drains.
-- The price of a wake-up on a cheap write, whatever the state machine costs.
\set aid random(1, 100000)
\set bid random(1, 1)
\set tid random(1, 10)
\set delta random(-5000, 5000)
begin;
update pgbench_accounts set abalance = abalance + :delta where aid = :aid;
select abalance from pgbench_accounts where aid = :aid;
insert into pgbench_history (tid, bid, aid, delta, mtime) values (:tid, :bid, :aid, :delta, current_timestamp);
select mentoring.wake_relays();
end;
