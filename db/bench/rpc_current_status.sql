-- pgbench: api.get_current_status of a random mentor, as PostgREST runs it, read-only. As
-- the mentor's coordinator by default; -D role=service_role reads as the service instead.
-- -D coordinators=N: how many coordinators the roster has (200 mentors each).
\set k random(1, :coordinators)
\set n (:k - 1) * 200 + random(1, 200)
begin transaction read only;
select set_config('search_path', 'api, public', true),
       set_config('request.jwt.claims', case when :role = 'service_role'
         then '{"role":"service_role"}'
         else '{"role":"authenticated","aud":"authenticated","sub":"' || md5('c' || :k) || '"}' end, true),
       set_config('request.method', 'GET', true),
       set_config('request.path', '/rpc/get_current_status', true),
       set_config('role', :role, true);
select api.get_current_status(mentor_id => md5('m' || :n)::uuid);
commit;
