-- Only the state machine writes the audit trail, for every role, the owner included.
--
-- status_events: no update, delete or truncate (0002's append_only), and now no insert but
-- the state machine's. pause_periods: an ended pause never changes; an open one changes
-- only when the state machine ends it, or when the reminder sweep marks it reminded; none
-- is deleted or truncated.
--
-- How the state machine's writes are told apart: its write statement runs inside its own
-- trigger (mentoring.mentors_apply_transitions, so pg_trigger_depth() > 1 in the guards),
-- with the transaction-local setting mentoring.audit_writer = 'state_machine'. Any session
-- may set the setting, but not from inside a trigger of ours: a plain INSERT or UPDATE,
-- by anyone, runs at depth 1 and is refused, setting or not. What is left, for the owner
-- or a superuser, is DDL (disabling these triggers, a trigger of their own, replacing a
-- function) or session_replication_role: the hash chain (01_hash_chain.sql) exposes the
-- result, and pyproj-rpc audit verify reports it. Other roles hold no write privilege on
-- either table at all.

create function mentoring.is_state_machine_writing()
  returns boolean
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
begin
  return pg_trigger_depth() > 1
     and coalesce(current_setting('mentoring.audit_writer', true), '') = 'state_machine';
end
$$;

create function mentoring.refuse_foreign_event()
  returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
as $$
begin
  if not mentoring.is_state_machine_writing() then
    perform mentoring.raise_error('forbidden',
      'status events are written by the state machine alone: change mentors.status instead');
  end if;
  return null;
end
$$;

-- Once per statement: the state machine's one insert per statement costs one check.
create trigger state_machine_inserts_only
  before insert on mentoring.status_events
  for each statement execute function mentoring.refuse_foreign_event();

create function mentoring.refuse_pause_removal()
  returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
as $$
begin
  perform mentoring.raise_error('forbidden',
    format('pause periods are part of the audit trail: %s is refused', lower(tg_op)));
  return null;
end
$$;

create trigger never_deleted
  before delete on mentoring.pause_periods
  for each row execute function mentoring.refuse_pause_removal();

create trigger never_truncated
  before truncate on mentoring.pause_periods
  for each statement execute function mentoring.refuse_pause_removal();

-- Every update, checked once per statement over its transition tables.
create function mentoring.refuse_pause_rewrite()
  returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
as $$
declare
  state_machine boolean := mentoring.is_state_machine_writing();
  rewritten record;
begin
  select o.id, o.mentor_id, o.ended_at is not null as ended into rewritten
  from old_pauses o
  left join new_pauses n on n.id = o.id
  where not (
    -- an open pause, its start untouched ...
    o.ended_at is null
    and n.id is not null
    and (n.mentor_id, n.start_date, n.expected_return_date, n.reason, n.started_at,
         n.started_by, n.started_by_kind, n.forced)
        is not distinct from
        (o.mentor_id, o.start_date, o.expected_return_date, o.reason, o.started_at,
         o.started_by, o.started_by_kind, o.forced)
    and (
      -- ... ended by the state machine
      (state_machine and n.ended_at is not null
       and n.overdue_notified_at is not distinct from o.overdue_notified_at)
      -- ... or marked reminded, once, and nothing else
      or (n.ended_at is null and o.overdue_notified_at is null
          and n.overdue_notified_at is not null
          and (n.end_date, n.end_reason, n.ended_by, n.ended_by_kind, n.end_note)
              is not distinct from (o.end_date, o.end_reason, o.ended_by, o.ended_by_kind,
                                    o.end_note))))
  limit 1;
  if found then
    perform mentoring.raise_error('forbidden',
      case when rewritten.ended
           then 'an ended pause is part of the audit trail and never changes'
           else 'an open pause changes only through the state machine: change mentors.status'
      end,
      jsonb_build_object('mentor_id', rewritten.mentor_id, 'pause_id', rewritten.id));
  end if;
  return null;
end
$$;

create trigger changed_by_the_state_machine_only
  after update on mentoring.pause_periods
  referencing old table as old_pauses new table as new_pauses
  for each statement execute function mentoring.refuse_pause_rewrite();
