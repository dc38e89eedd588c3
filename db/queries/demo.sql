-- name: demo_recipients
-- Who an event notified (read as the owner: clients cannot read the outbox).
select u.email
from mentoring.status_events e
join mentoring.outbox o on o.event_id = e.id
join auth.users u on u.id = o.recipient_id
where e.mentor_id = %(mentor_id)s and e.sequence = %(sequence)s
order by u.email;

-- name: demo_notifications
-- Every notification the organization's changes produced, oldest first.
select o.id, u.email as recipient, o.kind,
       o.payload -> 'mentor' ->> 'display_name' as mentor,
       o.payload ->> 'from_status' as from_status,
       o.payload ->> 'to_status' as to_status,
       o.payload -> 'actor' ->> 'kind' as actor,
       o.payload ->> 'reason' as reason
from mentoring.outbox o
join auth.users u on u.id = o.recipient_id
where (o.payload -> 'mentor' ->> 'organization_id')::uuid = %(organization_id)s
order by o.id;

-- name: demo_tables_present
-- Which of the tables that hold people and organizations exist (before any migration,
-- neither may).
select pg_catalog.to_regclass('auth.users') is not null as users,
       pg_catalog.to_regclass('mentoring.organizations') is not null as organizations;

-- name: demo_foreign_users
-- Users the demo did not create (it gives its people @harbor.example addresses).
select pg_catalog.count(*) as n from auth.users u
where u.email is null or u.email not like '%%@harbor.example';

-- name: demo_foreign_organizations
-- Organizations the demo did not create.
select pg_catalog.count(*) as n from mentoring.organizations o
where o.name !~ '^Harbor Peer Mentors [0-9a-f]{6}$';
