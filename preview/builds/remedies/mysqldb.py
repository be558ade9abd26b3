"""PyMySQL standing in for ``MySQLdb`` in an app's environment: :func:`stand_in_for_mysqldb`.

mysqlclient, the distribution of ``MySQLdb``, has no Linux wheel and builds only with
MySQL's client headers and ``mysql_config``, which this machine may lack; yet Django's
MySQL backend and SQLAlchemy's ``mysql://`` import ``MySQLdb`` themselves, whatever the
app imports (WannaCry081's Bookstore-Flask-API: ``mysql://root:data@localhost/book_db``).
PyMySQL speaks the same DB-API and says how to stand in for it
(``pymysql.install_as_MySQLdb()``). An environment the remedies gave PyMySQL in
mysqlclient's place gets a finder, last on ``sys.meta_path``, that does so when
``MySQLdb`` is imported and no other module of that name is found: nothing is imported
at start-up, and an environment with mysqlclient is left alone.
"""

from __future__ import annotations

import glob
from pathlib import Path

__all__ = ["MODULE", "stand_in_for_mysqldb"]

MODULE = "_preview_mysqldb"
_FINDER = '''"""The service's: PyMySQL as MySQLdb where mysqlclient is not installed."""
import importlib.abc
import importlib.machinery
import sys


class _StandIn(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        if name != "MySQLdb":
            return None
        return importlib.machinery.ModuleSpec(name, self)

    def create_module(self, spec):
        import pymysql

        pymysql.install_as_MySQLdb()
        return sys.modules["pymysql"]

    def exec_module(self, module):
        sys.modules["MySQLdb"] = module


if not any(isinstance(f, _StandIn) for f in sys.meta_path):
    sys.meta_path.append(_StandIn())
'''


def stand_in_for_mysqldb(env: Path) -> bool:
    """In the environment at ``env``: PyMySQL installed and no ``MySQLdb`` (mysqlclient)
    beside it, the finder written (a module and the ``.pth`` that imports it at start);
    whether it was. Blocking."""
    for site in glob.glob(str(env / "lib" / "python*" / "site-packages")):
        packages = Path(site)
        if not (packages / "pymysql").is_dir() or (packages / "MySQLdb").exists():
            continue
        (packages / f"{MODULE}.py").write_text(_FINDER)
        (packages / f"{MODULE}.pth").write_text(f"import {MODULE}\n")
        return True
    return False
