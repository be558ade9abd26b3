import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine

from main import metadata

config = context.config
fileConfig(config.config_file_name)
url = os.environ.get("DATABASE_URL") or config.get_main_option("sqlalchemy.url")

with create_engine(url).connect() as connection:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
