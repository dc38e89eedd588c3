-- Supabase compatibility for plain PostgreSQL.
--
-- Creates, only where missing, the few Supabase objects our migrations rely on:
-- the API roles, the auth schema, a minimal auth.users, and auth.uid(), auth.role(),
-- auth.jwt() with Supabase's own definitions. On a real Supabase database every object
-- exists and this script changes nothing. It is not an Alembic revision: Supabase's
-- history must never contain it.
--
-- The functions keep PostgreSQL's default EXECUTE to PUBLIC, as on Supabase. They pin
-- search_path = pg_catalog, pg_temp: they run inside our SECURITY DEFINER functions, and
-- an empty search_path would look up their ::uuid and ::jsonb in the caller's temporary
-- schema first. Functions an earlier version of this script created with search_path ''
-- are repaired. Each change is reported with RAISE NOTICE 'created ...' or 'repaired ...'.

do $compat$
declare
  wanted record;
begin
  for wanted in
    select *
    from (values
      ('anon', 'nologin noinherit'),
      ('authenticated', 'nologin noinherit'),
      ('service_role', 'nologin noinherit bypassrls'),
      ('authenticator', 'login noinherit')
    ) as r(name, options)
  loop
    if not exists (select from pg_catalog.pg_roles where rolname = wanted.name) then
      execute format('create role %I %s', wanted.name, wanted.options);
      raise notice 'created role %', wanted.name;
    end if;
  end loop;

  -- PostgREST logs in as authenticator and switches to the role named by the JWT.
  if not pg_catalog.pg_has_role('authenticator', 'anon', 'member')
     or not pg_catalog.pg_has_role('authenticator', 'authenticated', 'member')
     or not pg_catalog.pg_has_role('authenticator', 'service_role', 'member') then
    grant anon, authenticated, service_role to authenticator;
    raise notice 'created grants of anon, authenticated, service_role to authenticator';
  end if;

  if not exists (select from pg_catalog.pg_namespace where nspname = 'auth') then
    create schema auth;
    grant usage on schema auth to anon, authenticated, service_role;
    raise notice 'created schema auth';
  end if;

  if to_regclass('auth.users') is null then
    create table auth.users (
      id uuid primary key,
      email text unique,
      raw_app_meta_data jsonb not null default '{}',
      raw_user_meta_data jsonb not null default '{}',
      created_at timestamptz not null default now()
    );
    alter table auth.users enable row level security;
    raise notice 'created table auth.users';
  end if;

  if to_regprocedure('auth.uid()') is null then
    create function auth.uid()
      returns uuid
      language sql stable
      set search_path = pg_catalog, pg_temp
    as $fn$
      select
        coalesce(
          nullif(current_setting('request.jwt.claim.sub', true), ''),
          (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
        )::uuid
    $fn$;
    raise notice 'created function auth.uid()';
  end if;

  if to_regprocedure('auth.role()') is null then
    create function auth.role()
      returns text
      language sql stable
      set search_path = pg_catalog, pg_temp
    as $fn$
      select
        coalesce(
          nullif(current_setting('request.jwt.claim.role', true), ''),
          (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
        )::text
    $fn$;
    raise notice 'created function auth.role()';
  end if;

  if to_regprocedure('auth.jwt()') is null then
    create function auth.jwt()
      returns jsonb
      language sql stable
      set search_path = pg_catalog, pg_temp
    as $fn$
      select
        coalesce(
          nullif(current_setting('request.jwt.claim', true), ''),
          nullif(current_setting('request.jwt.claims', true), '')
        )::jsonb
    $fn$;
    raise notice 'created function auth.jwt()';
  end if;

  -- Repair what an earlier version of this script created: ours, with search_path ''.
  for wanted in
    select p.oid::regprocedure as fn
    from pg_catalog.pg_proc p
    where p.oid in (to_regprocedure('auth.uid()'), to_regprocedure('auth.role()'),
                    to_regprocedure('auth.jwt()'))
      and p.proconfig = array['search_path=""']
      and pg_catalog.pg_has_role(current_user, p.proowner, 'usage')
  loop
    execute format('alter function %s set search_path = pg_catalog, pg_temp', wanted.fn);
    raise notice 'repaired search_path of function %', wanted.fn;
  end loop;
end
$compat$;
