-- pgbench: one status change per transaction through the RPC, as PostgREST runs it, by
-- the client's own coordinator (client c acts as coordinator c+1, on its own mentors):
-- odd transactions pause a mentor, even ones lift that pause. Run with an even -D i (the
-- offset, fresh per run) and an even -t, so that every pause is lifted again. Each client
-- cycles through 160 of its coordinator's 200 mentors (n % 10 in 1..4, 6..9: certified,
-- active), so clients must not outnumber the roster's coordinators.
\set k :client_id + 1
\set i :i + 1
\set j ((:i - 1) / 2) % 160
\set n (:k - 1) * 200 + 10 * (:j / 8) + :j % 8 + 1 + (:j % 8) / 4
\if :i % 2 = 1
begin;
select set_config('search_path', 'api, public', true),
       set_config('request.jwt.claims', '{"role":"authenticated","aud":"authenticated","sub":"' || md5('c' || :k) || '"}', true),
       set_config('request.method', 'POST', true),
       set_config('request.path', '/rpc/activate_pause', true),
       set_config('role', 'authenticated', true);
select api.activate_pause(mentor_id => md5('m' || :n)::uuid, reason => 'benchmark');
commit;
\else
begin;
select set_config('search_path', 'api, public', true),
       set_config('request.jwt.claims', '{"role":"authenticated","aud":"authenticated","sub":"' || md5('c' || :k) || '"}', true),
       set_config('request.method', 'POST', true),
       set_config('request.path', '/rpc/lift_pause', true),
       set_config('role', 'authenticated', true);
select api.lift_pause(mentor_id => md5('m' || :n)::uuid);
commit;
\endif
