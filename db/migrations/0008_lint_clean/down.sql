-- Back to revision 0007: pause_findings as revision 0005 defined it.

create or replace function mentoring.pause_findings(mentor_id uuid)
  returns jsonb
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  registered record;
  found_now jsonb;
  findings jsonb := '[]';
begin
  for registered in
    select p.name, to_regprocedure(p.check_function || '(uuid)')::regproc as check_fn
    from mentoring.pause_preconditions p
    where p.enabled
    order by p.name
  loop
    -- a misconfiguration, not the caller's fault: a server error (500), not a 403
    if not mentoring.is_trusted_check(registered.check_fn) then
      raise exception using
        errcode = 'object_not_in_prerequisite_state',
        message = format('pause precondition %s: %s', registered.name,
                         mentoring.untrusted_check_message(
                           coalesce(registered.check_fn::text, 'its function'))),
        hint = 'fix the function, or disable the precondition';
    end if;
    execute format(
      'select coalesce(jsonb_agg(jsonb_build_object(''check'', $2, ''code'', f.code, '
      '''message'', f.message, ''blocking'', coalesce(f.blocking, true), '
      '''details'', f.details)), ''[]'') from %s($1) f',
      registered.check_fn)
      into found_now
      using pause_findings.mentor_id, registered.name;
    findings := findings || found_now;
  end loop;
  return findings;
end
$$;
