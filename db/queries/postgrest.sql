-- Queries that reproduce what PostgREST does around each request.

-- name: set_request_context
-- PostgREST's per-request settings, all transaction-local: the exposed schema as
-- search_path, the JWT claims, the HTTP method, path, headers and cookies, and the role.
select
  pg_catalog.set_config('search_path', %(search_path)s, true),
  pg_catalog.set_config('request.jwt.claims', %(claims)s, true),
  pg_catalog.set_config('request.method', %(method)s, true),
  pg_catalog.set_config('request.path', %(path)s, true),
  pg_catalog.set_config('request.headers', %(headers)s, true),
  pg_catalog.set_config('request.cookies', %(cookies)s, true),
  pg_catalog.set_config('role', %(role)s, true);

-- name: get_request_context
-- The same settings as they are now, to put back after a request nested in a test's
-- transaction.
select
  pg_catalog.current_setting('search_path') as search_path,
  coalesce(pg_catalog.current_setting('request.jwt.claims', true), '') as claims,
  coalesce(pg_catalog.current_setting('request.method', true), '') as method,
  coalesce(pg_catalog.current_setting('request.path', true), '') as path,
  coalesce(pg_catalog.current_setting('request.headers', true), '') as headers,
  coalesce(pg_catalog.current_setting('request.cookies', true), '') as cookies,
  pg_catalog.current_setting('role') as role;

-- name: read_only_transaction
-- PostgREST runs GET and HEAD requests in a read-only transaction.
set transaction read only;
