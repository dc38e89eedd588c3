-- Tables. Constraints make impossible rows impossible; triggers (04) do the rest.

create table mentoring.organizations (
  id uuid primary key default gen_random_uuid(),
  name text not null
    constraint name_is_trimmed_and_short
    check (name = btrim(name) and char_length(name) between 1 and 200),
  time_zone text not null default 'UTC'
    constraint time_zone_is_known check (mentoring.is_time_zone(time_zone)),
  created_at timestamptz not null default now()
);
comment on column mentoring.organizations.time_zone is
  'Dates (pause starts, certification validity) are this zone''s local dates.';

-- Coordinators and admins, per organization. Roles come from here, never from JWT metadata.
create table mentoring.organization_staff (
  organization_id uuid not null references mentoring.organizations on delete cascade,
  user_id uuid not null references auth.users on delete cascade,
  role mentoring.staff_role not null,
  created_at timestamptz not null default now(),
  primary key (organization_id, user_id)
);
create index organization_staff_user_id_idx on mentoring.organization_staff (user_id);

create table mentoring.mentors (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references mentoring.organizations on delete restrict,
  user_id uuid unique references auth.users on delete set null,
  display_name text not null
    constraint display_name_is_trimmed_and_short
    check (display_name = btrim(display_name) and char_length(display_name) between 1 and 200),
  status mentoring.mentor_status not null,
  status_changed_at timestamptz not null default now(),
  status_version integer not null default 0 check (status_version >= 0),
  open_pause_id uuid,
  created_at timestamptz not null default now(),
  unique (id, organization_id),
  unique (id, open_pause_id),
  constraint paused_exactly_when_a_pause_is_open
    check ((status = 'paused') = (open_pause_id is not null))
);
create index mentors_organization_id_idx on mentoring.mentors (organization_id);
comment on column mentoring.mentors.status_version is
  'Number of status changes so far; the sequence of the latest status event.';

create table mentoring.mentor_coordinators (
  mentor_id uuid not null,
  organization_id uuid not null,
  coordinator_id uuid not null,
  assigned_at timestamptz not null default now(),
  primary key (mentor_id, coordinator_id),
  foreign key (mentor_id, organization_id)
    references mentoring.mentors (id, organization_id) on delete cascade,
  -- a coordinator is staff of the mentor's own organization
  foreign key (organization_id, coordinator_id)
    references mentoring.organization_staff (organization_id, user_id) on delete cascade
);
create index mentor_coordinators_mentor_org_idx
  on mentoring.mentor_coordinators (mentor_id, organization_id);
create index mentor_coordinators_org_coordinator_idx
  on mentoring.mentor_coordinators (organization_id, coordinator_id);
create index mentor_coordinators_coordinator_id_idx
  on mentoring.mentor_coordinators (coordinator_id);

-- Written by the certification feature. Certified on a date = some row covers it.
create table mentoring.certifications (
  id uuid primary key default gen_random_uuid(),
  mentor_id uuid not null references mentoring.mentors on delete cascade,
  valid_during daterange not null
    constraint validity_has_a_start
    check (not isempty(valid_during) and lower(valid_during) is not null),
  name text,
  created_at timestamptz not null default now()
);
create index certifications_mentor_id_idx on mentoring.certifications (mentor_id);

create table mentoring.pause_periods (
  id uuid primary key default gen_random_uuid(),
  mentor_id uuid not null references mentoring.mentors,
  start_date date not null,
  expected_return_date date,
  reason text not null,
  started_at timestamptz not null default now(),
  started_by uuid,
  started_by_kind mentoring.actor_kind not null,
  forced boolean not null default false,
  ended_at timestamptz,
  end_date date,
  end_reason mentoring.pause_end_reason,
  ended_by uuid,
  ended_by_kind mentoring.actor_kind,
  end_note text,
  -- the pause's own id while it is open, null once it ended
  open_id uuid generated always as (case when ended_at is null then id end) stored,
  unique (mentor_id, open_id),
  constraint reason_is_trimmed_and_short
    check (reason = btrim(reason) and char_length(reason) between 1 and 500),
  constraint return_is_after_start_and_within_a_year
    check (expected_return_date > start_date and expected_return_date <= start_date + 365),
  constraint end_is_all_or_nothing
    check (num_nulls(ended_at, end_date, end_reason, ended_by_kind) in (0, 4)),
  constraint ends_after_it_starts
    check (ended_at >= started_at and end_date >= start_date),
  constraint starter_is_a_user_unless_system
    check ((started_by is null) = (started_by_kind = 'system')),
  constraint ender_is_a_user_unless_system
    check (ended_by_kind is null or (ended_by is null) = (ended_by_kind = 'system')),
  constraint end_note_is_trimmed_and_short
    check (end_note = btrim(end_note) and char_length(end_note) between 1 and 500),
  constraint only_staff_force
    check (not forced or started_by_kind in ('coordinator', 'admin')),
  -- an open pause is the one its mentor points at (checked at commit)
  constraint open_pause_is_the_mentors
    foreign key (mentor_id, open_id) references mentoring.mentors (id, open_pause_id)
    deferrable initially deferred
);
create unique index pause_periods_one_open_per_mentor
  on mentoring.pause_periods (mentor_id) where ended_at is null;
create index pause_periods_mentor_id_idx on mentoring.pause_periods (mentor_id, start_date desc);

-- A paused mentor points at an open pause of their own (checked at commit).
alter table mentoring.mentors
  add constraint open_pause_is_open_and_own
  foreign key (id, open_pause_id) references mentoring.pause_periods (mentor_id, open_id)
  deferrable initially deferred;

-- The audit trail: one row per status change, whatever path made it. Append-only.
create table mentoring.status_events (
  id bigint generated always as identity primary key,
  mentor_id uuid not null references mentoring.mentors,
  sequence integer not null check (sequence > 0),
  from_status mentoring.mentor_status not null,
  to_status mentoring.mentor_status not null,
  reason text check (char_length(reason) <= 500),
  actor_user_id uuid,
  actor_kind mentoring.actor_kind not null,
  database_role text not null,
  forced boolean not null default false,
  findings jsonb not null default '[]' check (jsonb_typeof(findings) = 'array'),
  idempotency_key uuid,
  pause_id uuid references mentoring.pause_periods,
  occurred_at timestamptz not null default now(),
  transaction_id xid8 not null default pg_current_xact_id(),
  unique (mentor_id, sequence),
  constraint changes_the_status check (from_status <> to_status),
  constraint actor_is_a_user_unless_system
    check ((actor_user_id is null) = (actor_kind = 'system')),
  constraint only_staff_force_a_pause
    check (not forced or (to_status = 'paused' and actor_kind in ('coordinator', 'admin')))
);
create index status_events_pause_id_idx on mentoring.status_events (pause_id);
comment on column mentoring.status_events.database_role is
  'The database role the change ran as: authenticated, service_role, or a DBA''s own role.';

-- One row per recipient of a notification, written in the changing transaction.
-- The relay delivers them; pg_notify only wakes it up.
create table mentoring.outbox (
  id bigint generated always as identity primary key,
  event_id bigint not null references mentoring.status_events,
  recipient_id uuid not null,
  kind text not null default 'status_changed' check (kind ~ '^[a-z][a-z_]*$'),
  payload jsonb not null check (jsonb_typeof(payload) = 'object'),
  created_at timestamptz not null default now(),
  unique (event_id, recipient_id, kind)
);

-- The state machine: which actor kind may move a mentor from one status to another.
create table mentoring.transitions (
  from_status mentoring.mentor_status not null,
  to_status mentoring.mentor_status not null,
  actor_kind mentoring.actor_kind not null,
  certification mentoring.certification_rule not null,
  own_pause_only boolean not null default false,
  description text not null,
  primary key (from_status, to_status, actor_kind),
  constraint changes_the_status check (from_status <> to_status),
  constraint own_pause_only_for_a_mentor_lifting
    check (not own_pause_only or (actor_kind = 'mentor' and from_status = 'paused')),
  -- the liability rule, in the data: nobody becomes active without a valid certification
  constraint active_needs_a_valid_certification
    check (to_status <> 'active' or certification = 'valid'),
  constraint expiry_needs_a_lapsed_certification
    check ((to_status = 'expired_cert') = (certification = 'lapsed'))
);

-- Every error code the functions raise, with its HTTP status through PostgREST.
create table mentoring.error_codes (
  code text primary key check (code ~ '^[a-z][a-z_]*$'),
  http_status integer not null check (http_status between 400 and 599),
  description text not null
);

-- Checks other features register; each blocks (or informs about) a manual pause.
create table mentoring.pause_preconditions (
  name text primary key check (name ~ '^[a-z][a-z0-9_]{0,62}$'),
  check_function text not null unique,
  description text not null,
  enabled boolean not null default true,
  registered_at timestamptz not null default now()
);
comment on table mentoring.pause_preconditions is
  'check_function names a function (mentor_id uuid) returning setof '
  'mentoring.precondition_finding. It runs as the table owner before each manual pause.';

-- Results of idempotent calls, per caller and key.
create table mentoring.idempotency_keys (
  caller text not null check (caller ~ '^(system:.+|user:[0-9a-f-]{36})$'),
  key uuid not null,
  operation text not null,
  arguments jsonb not null,
  result jsonb,
  created_at timestamptz not null default now(),
  primary key (caller, key)
);
create index idempotency_keys_created_at_idx on mentoring.idempotency_keys (created_at);
