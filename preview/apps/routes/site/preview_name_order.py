"""Directory listings in name order, as the app's author saw them (imported by this
folder's ``sitecustomize`` as a sandboxed Python app starts).

Windows lists a folder's files by name, macOS's Finder and most of its tools likewise;
Linux's file systems in an order of their own (ext4's by a hash of each name). Code that
imports the modules a walk finds, in the order found, runs in the order its author's
machine gave: akoudad14's flaskProject imports every module under ``database/`` as
``os.walk`` finds them, its models (``database/models/``) before the marshmallow schemas
(``database/schema/``) that map them; walked schemas first here, the first schema met a
relationship to a model not yet imported ("expression 'Character' failed to locate a
name") and the app never started. ``os.scandir`` (``os.walk``'s and ``glob``'s) and
``os.listdir`` (``pathlib``'s ``iterdir``) answer in name order, case folded first, as
Windows sorts them. Any error of its own leaves them as they were.
"""

import os

_scandir, _listdir = os.scandir, os.listdir


def _key(name):
    return (name.lower(), name)


def _entry_key(entry: os.DirEntry):
    return _key(entry.name)


class _Listing:
    """A scandir iterator's entries, read at once and sorted by name."""

    def __init__(self, entries):
        with entries:
            self._entries = iter(sorted(entries, key=_entry_key))

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._entries)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        self._entries = iter(())


class _InNameOrder:
    """``os``'s listing function ``listing`` (by ``order``), an object called as it is: not a
    function, so that a class holding it as an attribute calls it as it would ``os``'s,
    without itself (Python 3.10's pathlib: ``_NormalAccessor.listdir = os.listdir``,
    called on its accessor; a function there got the accessor for its path: "listdir()
    takes from 0 to 1 positional arguments but 2 were given", MariaChiquezi's
    CrudUsuarioFlaskSqlite, jsonschema listing its schemas as it was imported)."""

    __slots__ = ("_listing", "_order")

    def __init__(self, listing, order):
        self._listing, self._order = listing, order

    def __call__(self, *args, **kwargs):
        return self._order(self._listing(*args, **kwargs))


def _listed(names):
    return sorted(names, key=_key)


os.scandir, os.listdir = _InNameOrder(_scandir, _Listing), _InNameOrder(_listdir, _listed)
