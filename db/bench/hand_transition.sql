-- pgbench: the writes of rpc_transition.sql's status changes, by hand: no RPC, no role,
-- no policy, no rule. Run with PGOPTIONS='-c session_replication_role=replica': triggers
-- and foreign keys off for the whole connection (a SET in each transaction would reset
-- every cached plan). Per transaction, in one statement as the state machine writes them:
-- the mentor, the pause opened or closed, one status event chained to the mentor's
-- previous one, one outbox row per recipient but the actor; then the wake-up. The same
-- mentors in the same order (run with an even -D i and -t), so that the RPC's runs go on
-- from where these leave the roster. What a status change cannot cost less than, whatever
-- code runs it.
\set k :client_id + 1
\set i :i + 1
\set j ((:i - 1) / 2) % 160
\set n (:k - 1) * 200 + 10 * (:j / 8) + :j % 8 + 1 + (:j % 8) / 4
\set pausing :i % 2
begin;
with given as (
  select m.id as mentor_id, m.open_pause_id as closing_id,
         case when :pausing = 1 then pg_catalog.gen_random_uuid() end as opening_id,
         md5('c' || :k)::uuid as actor, pg_catalog.clock_timestamp() as at,
         (case when :pausing = 1 then 'active' else 'paused' end)::mentoring.mentor_status
           as from_status,
         (case when :pausing = 1 then 'paused' else 'active' end)::mentoring.mentor_status
           as to_status,
         case when :pausing = 1 then 'benchmark' end as reason
  from mentoring.mentors m
  where m.id = md5('m' || :n)::uuid
), moved as (
  update mentoring.mentors m
  set status = g.to_status, status_version = m.status_version + 1, status_changed_at = g.at,
      open_pause_id = g.opening_id
  from given g
  where m.id = g.mentor_id
  returning m.id, m.display_name, m.organization_id, m.status_version, g.opening_id,
            g.closing_id, g.actor, g.at, g.from_status, g.to_status, g.reason
), opened as (
  insert into mentoring.pause_periods
    (id, mentor_id, start_date, reason, started_at, started_by, started_by_kind)
  select v.opening_id, v.id, current_date, v.reason, v.at, v.actor, 'coordinator'
  from moved v
  where v.opening_id is not null
  returning *
), closed as (
  update mentoring.pause_periods p
  set ended_at = v.at, end_date = greatest(current_date, p.start_date), end_reason = 'lifted',
      ended_by = v.actor, ended_by_kind = 'coordinator'
  from moved v
  where v.opening_id is null and p.id = v.closing_id
  returning p.*
), pauses as (
  select * from opened
  union all
  select * from closed
), events as (
  insert into mentoring.status_events
    (mentor_id, sequence, from_status, to_status, reason, actor_user_id, actor_kind,
     database_role, pause_id, occurred_at, prev_hash, hash)
  select v.id, v.status_version, v.from_status, v.to_status, v.reason, v.actor,
         'coordinator', 'authenticated', p.id, v.at, previous.hash,
         mentoring.status_event_hash(previous.hash, v.id, v.status_version, v.from_status,
           v.to_status, v.reason, v.actor, 'coordinator', 'authenticated', false, '[]', null,
           p.id, v.at, row(p.*)::mentoring.pause_periods)
  from moved v
  join pauses p on p.id = coalesce(v.opening_id, v.closing_id)
  left join mentoring.status_events previous
    on previous.mentor_id = v.id and previous.sequence = v.status_version - 1
  returning *
)
insert into mentoring.outbox (event_id, recipient_id, kind, payload)
select e.id, a.recipient_id, 'status_changed', pg_catalog.jsonb_build_object(
  'event_id', e.id, 'kind', 'status_changed', 'sequence', e.sequence,
  'hash', pg_catalog.encode(e.hash, 'hex'),
  'mentor', pg_catalog.jsonb_build_object(
    'id', v.id, 'display_name', v.display_name, 'organization_id', v.organization_id),
  'recipient_id', a.recipient_id, 'from_status', e.from_status, 'to_status', e.to_status,
  'reason', e.reason,
  'actor', pg_catalog.jsonb_build_object('user_id', e.actor_user_id, 'kind', e.actor_kind),
  'occurred_at', e.occurred_at, 'expected_return_date', null, 'forced', e.forced,
  'findings', e.findings)
from events e
join moved v on v.id = e.mentor_id
cross join lateral pg_catalog.unnest(array(
  select audience.recipient_id from mentoring.notification_audience audience
  where audience.mentor_id = e.mentor_id
    and audience.recipient_id is distinct from e.actor_user_id)) as a(recipient_id);
select mentoring.wake_relays();
commit;
