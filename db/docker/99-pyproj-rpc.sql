-- First start of the compose database only. docker-compose.yml mounts this file into
-- supabase/postgres's /docker-entrypoint-initdb.d/migrations/, which the image runs with
-- psql as supabase_admin after Supabase's own migrations. It does the two things of the
-- stack that need the superuser; everything else is done by `migrate`, as the owner
-- postgres, which is not a superuser there (as on hosted Supabase):
--
-- 1. authenticator's password, from $AUTHENTICATOR_PASSWORD: supautils reserves that
--    role to the superuser (on hosted Supabase, Supabase sets it). To change it later:
--      docker compose exec db psql -U supabase_admin -d postgres -c '\password authenticator'
--    then update .env and `docker compose up -d rest`.
-- 2. pg_cron in the postgres database (the image preloads it, cron.database_name =
--    'postgres'), as Database > Extensions > pg_cron does on hosted Supabase, with the
--    grants Supabase gives postgres: `pyproj-rpc schedule install` in migrate then
--    schedules the sweeps as postgres.

\set ON_ERROR_STOP on
\getenv authenticator_password AUTHENTICATOR_PASSWORD

select :'authenticator_password' = '' as password_missing \gset
\if :password_missing
do $$
begin
  raise exception 'AUTHENTICATOR_PASSWORD is empty: set it in .env (see .env.example)';
end
$$;
\endif

alter role authenticator with login password :'authenticator_password';

create extension if not exists pg_cron;
grant usage on schema cron to postgres;
grant execute on all functions in schema cron to postgres;
grant select on cron.job, cron.job_run_details to postgres;
