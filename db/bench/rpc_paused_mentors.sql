-- pgbench: api.get_paused_mentors() of a random coordinator, as that coordinator, through
-- PostgREST, read-only. -D coordinators=N: how many coordinators the roster has.
\set k random(1, :coordinators)
begin transaction read only;
select set_config('search_path', 'api, public', true),
       set_config('request.jwt.claims', '{"role":"authenticated","aud":"authenticated","sub":"' || md5('c' || :k) || '"}', true),
       set_config('request.method', 'GET', true),
       set_config('request.path', '/rpc/get_paused_mentors', true),
       set_config('role', 'authenticated', true);
select count(*) from api.get_paused_mentors();
commit;
