-- Two pause preconditions for the model-based and concurrency tests: one blocks a pause
-- (a session in progress), one only informs (unread notes). The tests switch them, and
-- each mentor's findings, on and off through the two tables.
create schema model_checks;
create table model_checks.busy (mentor_id uuid primary key);
create table model_checks.noted (mentor_id uuid primary key);
create function model_checks.sessions_in_progress(mentor_id uuid)
  returns setof mentoring.precondition_finding language sql stable
  set search_path = pg_catalog, pg_temp as $$
    select 'session_in_progress', 'a session is in progress', true, '{}'::jsonb
    from model_checks.busy b where b.mentor_id = sessions_in_progress.mentor_id
  $$;
create function model_checks.unread_notes(mentor_id uuid)
  returns setof mentoring.precondition_finding language sql stable
  set search_path = pg_catalog, pg_temp as $$
    select 'note', 'the mentor has unread notes', false, '{}'::jsonb
    from model_checks.noted n where n.mentor_id = unread_notes.mentor_id
  $$;
insert into mentoring.pause_preconditions (name, check_function, description) values
  ('sessions_in_progress', 'model_checks.sessions_in_progress', 'Blocks a pause.'),
  ('unread_notes', 'model_checks.unread_notes', 'Informs only.');
