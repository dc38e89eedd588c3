-- Queries of the REST adapter (pyproj_rpc/rest).

-- name: rest_health
-- The database answers and holds the RPC contract (the api schema is migrated). Read from
-- the catalog, which needs no privilege: the adapter's login (NOINHERIT, like PostgREST's
-- authenticator) has no USAGE on schema api until a request switches role, and
-- to_regprocedure('api....') would fail with "permission denied for schema api".
select exists (
  select from pg_catalog.pg_proc p
  where p.pronamespace = pg_catalog.to_regnamespace('api')
    and p.proname = 'get_current_status'
    and pg_catalog.oidvectortypes(p.proargtypes) = 'uuid'
) as ready;
