"""Snapshots of a preview's data (its SQLite and PostgreSQL databases and the files it
wrote): saved, listed, restored into the running preview, compared, and used to seed
a new launch. ``keeper`` (:class:`Snapshots`) does each; ``records`` their rows in the
store; ``sqlitedata``, ``pgdata`` and ``pgtarget`` (where a preview's PostgreSQL is),
``appfiles`` each kind of data; ``rowdiff`` compares two copies of a table; ``shared``
keeps them where every node of a cluster reads them; ``datainit`` keeps the data a
launch's migrations and seeds made for the next launch of the same inputs."""

from .datainit import DataTemplates
from .keeper import Snapshots
from .records import describe
from .shared import PostgresChunks, SharedSnapshots

__all__ = ["DataTemplates", "PostgresChunks", "SharedSnapshots", "Snapshots", "describe"]
