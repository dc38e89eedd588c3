-- name: demo_recipients
-- Who an event notified (read as the owner: clients cannot read the outbox).
select u.email
from mentoring.outbox o
join auth.users u on u.id = o.recipient_id
where o.event_id = %(event_id)s
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
