"""Alembic environment: see pyproj_rpc.migrations.run_environment."""

from logging.config import fileConfig

from alembic import context

from pyproj_rpc.migrations import run_environment

if context.config.config_file_name is not None:
    fileConfig(context.config.config_file_name)

run_environment(context)
