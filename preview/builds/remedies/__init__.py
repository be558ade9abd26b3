"""When a Python app's launch fails for a cause the service recognises, the fix to
relaunch it with: :class:`Remedies` (``launch``).

What the failure says is read (the build's reason, a set-up step's or the app's last
traceback), never the app's name (``candidates``):

* a name the standard library no longer has (``collections.MutableMapping``,
  ``from collections import Iterator``, ``distutils``, ``asyncio.coroutine`` …) on the
  Python it ran: an older installed interpreter, below the version that removed it (and
  within what the app asks for; ``pythons`` knows what each version removed);
* a keyword argument the standard library no longer takes (``translation() got an
  unexpected keyword argument 'codeset'``, an old Django on 3.11): likewise;
* a package that has no wheel for this Python and cannot be built from source here, which
  no module of the app imports: a Pipfile.lock's pin of it left out (eralchemy2's
  pygraphviz, a diagram command's), or it with the listed package uv's hint says brought
  it (never the app's server); where the app imports that listed package, the links
  below it it does not import kept out (reportlab's rlPyCairo and pycairo: uv's
  overrides); else an older interpreter (``psycopg2`` instead becomes
  ``psycopg2-binary``, and is kept out where a package the app lists requires it);
* a pinned release with no wheel for any Python here whose build fails (PyAV 11.0.0, a
  source archive needing FFmpeg's headers): its nearest release with a wheel for the
  Python in use, as the index lists it (``wheels``);
* mysqlclient, which builds only with MySQL's client headers: left out where nothing
  imports ``MySQLdb``, else PyMySQL standing in for it (``mysqldb``); out also where a
  package the app lists requires it (Flask-MySQLdb: uv's overrides, a marker never true);
* an API an unpinned dependency removed in its latest major (``cannot import name
  'escape' from 'flask'``, ``No module named 'flask._compat'``, pydantic's "has been
  moved"): that dependency held below the major installed (``flask<3``), read from the
  built environment's metadata;
* a name an installed package re-exports from an optional companion only where that is
  installed (``try: from fastapi_users_db_sqlalchemy import …`` in ``fastapi_users.db``):
  the companion added (``candidates``);
* a name the app's own code imports that its exact pin lacks (``pydantic==2.0.3``,
  ``StringConstraints``), where its pyproject.toml declares a range past the pin: the pin
  replaced by that range, with the pins that would hold it there (its lockstep
  companions', the packages' that require it below) relaxed likewise (``holds``); a
  module its pyproject.toml declares and the requirements.txt installed leaves out: added;
* a ``TypeError`` raised inside the installed package the app's own code called (its
  frame below the app's last one), however deep (Starlette 1's ``TemplateResponse`` given
  0.x's arguments fails in Jinja2's cache): that package held likewise (``holds``);
* a compiled package built for an older NumPy's binary interface ("numpy.dtype size
  changed", a 2021 pandas pin under NumPy 2, which nothing pinned): NumPy held likewise;
* a module nothing installs (``No module named 'aiosqlite'``): its distribution added,
  named by pipreqs' import-name → distribution mapping (``pkg_resources``: setuptools
  below 81, which still has it; ``psycopg2``: ``psycopg2-binary``); one a package split
  off into a project of its own, as it says (``lxml.html.clean``: ``lxml_html_clean``);
* an optional dependency a package says to install in its exception (quart-schema's "try
  installing msgspec or pydantic", ``pip install pydantic[email]``): it added (``hints``);
* pins uv cannot resolve together (its explanation names them: ``httpcore==1.0.7``
  needing an h11 below the ``h11>=0.16.0`` the app raised, a version never released):
  those pins relaxed, to the range the other side needs, within their major, or to the
  releases nearest one never released; where that does not resolve, every exact pin
  within its major, once (``resolution``);
* last, an error raised from a third-party package's code (or about one of its modules)
  that no narrower fix is left for: everything resolved as of the app's own era, the
  newest upload among its exact pins and 90 days after (``era``: passlib under bcrypt 5).

A Node app with no lockfile whose build or start fails in its dependencies' code is
installed again as of its era (``npmera``: ``npm install --before``, relaunched by
``relaunch``, not by :meth:`Remedies.next_fix`).

An old release the app pins, or a fix holds, brings the holds its contemporaries need
(``stacks``: ``Flask<2`` with ``Werkzeug<2``, ``Jinja2<3``, ``itsdangerous<2``,
``click<8`` and ``MarkupSafe<2.1``): what broke together is fixed in one step, said once.

Each fix is one ``system`` line of the preview's log, never the same twice; a fix after
which the same failure came back made no progress, and at most :data:`MOST_IDLE` of
those, :data:`MOST` in all, are tried for one launch. The fixes change the dependency set
(:meth:`Remedies.apply`), so the environment built with them is cached apart and shared
like any other; and they are remembered by the upload they fixed (the builder's
:attr:`learned`), so that a later launch of it starts with them.
"""

from .fixes import Fix
from .launch import MOST, MOST_IDLE, Remedies
from .pythons import removed_from_stdlib

__all__ = ["MOST", "MOST_IDLE", "Fix", "Remedies", "removed_from_stdlib"]
