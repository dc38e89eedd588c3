-- Types of the pause-management domain, and the pure checks constraints use.

create type mentoring.mentor_status as enum ('active', 'paused', 'expired_cert');
comment on type mentoring.mentor_status is
  'active: may mentor. paused: on a break, with one open pause period. '
  'expired_cert: certification lapsed (or never valid); needs recertification.';

-- Who takes a transition, relative to the mentor. system = service_role, the scheduler,
-- or a direct database session (a DBA, pg_cron).
create type mentoring.actor_kind as enum ('mentor', 'coordinator', 'admin', 'system');

create type mentoring.staff_role as enum ('coordinator', 'admin');

create type mentoring.pause_end_reason as enum ('lifted', 'reactivated', 'certification_expired');

-- What a transition needs of the mentor's certification on the organization's today.
create type mentoring.certification_rule as enum ('any', 'valid', 'lapsed');

-- What a pause precondition check returns, one row per finding.
create type mentoring.precondition_finding as (
  code text,
  message text,
  blocking boolean,
  details jsonb
);

create function mentoring.is_time_zone(name text)
  returns boolean
  language sql stable
  set search_path = ''
as $$
  select exists (select from pg_catalog.pg_timezone_names z where z.name = is_time_zone.name)
$$;
comment on function mentoring.is_time_zone(text) is
  'True for an IANA time zone name PostgreSQL knows (Europe/Paris, UTC, ...).';
