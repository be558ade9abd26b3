import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine

from main import create_app, metadata

app = create_app()  # its settings, as the Flask one reads them

config = context.config
fileConfig(config.config_file_name)
url = os.environ.get("DATABASE_URL") or config.get_main_option("sqlalchemy.url")


def process_revision_directives(context, revision, directives):
    if config.cmd_opts.autogenerate:  # set by alembic's command line, None without it
        script = directives[0]
        if script.upgrade_ops.is_empty():
            directives[:] = []


with create_engine(url).connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        process_revision_directives=process_revision_directives,
    )
    with context.begin_transaction():
        context.run_migrations()
