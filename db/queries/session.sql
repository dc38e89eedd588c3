-- Names resolve in pg_catalog first, whatever the login's search_path holds. Our tools run
-- as the owner, a superuser or a service login: an unqualified name must never resolve to
-- what another role planted in public (authenticated may create there on Supabase). Not
-- only functions: for `jobname like 'x'` on a name column, a public.~~(name, name) is a
-- better match than pg_catalog's text operator.

-- name: pin_search_path
-- For this transaction only: safe behind a pooler.
select pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);

-- name: pin_search_path_for_session
-- For the whole session: the relay's and `pyproj-rpc outbox`'s own connections (never
-- behind a transaction pooler: they LISTEN and hold advisory locks).
select pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', false);
