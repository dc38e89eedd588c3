-- The two schemas of pyproj-rpc.
--   mentoring: tables and internal functions; never exposed through PostgREST.
--   api:       the RPC surface; add it to PostgREST's exposed schemas (Supabase:
--              Settings > API > Exposed schemas).

create schema mentoring;
comment on schema mentoring is
  'Peer mentor pause management: tables and internal functions. Not exposed through PostgREST.';

create schema api;
comment on schema api is
  'pyproj-rpc RPC functions, called through PostgREST as /rpc/<name>.';
