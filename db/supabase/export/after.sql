-- Alembic's version table, as Alembic creates it, and the one row it keeps: this revision.
create table if not exists pyproj_rpc.alembic_version (
  version_num varchar(32) not null,
  constraint alembic_version_pkc primary key (version_num)
);
delete from pyproj_rpc.alembic_version;
insert into pyproj_rpc.alembic_version (version_num) values (:'revision');
