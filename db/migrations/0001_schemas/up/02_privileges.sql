-- Every grant of this revision, in one place.
-- (PostgreSQL gives EXECUTE on new functions to PUBLIC, and a per-schema
-- ALTER DEFAULT PRIVILEGES cannot take that back: each revision that creates
-- functions revokes it explicitly in its own privileges file.)

revoke all on schema mentoring, api from public;

-- anon reaches nothing of ours.
grant usage on schema mentoring, api to authenticated, service_role;

notify pgrst, 'reload schema';
