"""A Flask app written for Python 3.9: its settings are a collections.MutableMapping,
which Python 3.10 removed (it is collections.abc.MutableMapping since)."""

import collections
import sys

from flask import Flask, jsonify


class Settings(collections.MutableMapping):
    def __init__(self):
        self._data = {"greeting": "hello from an old Python"}

    def __getitem__(self, key):
        return self._data[key]

    def __setitem__(self, key, value):
        self._data[key] = value

    def __delitem__(self, key):
        del self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)


settings = Settings()
app = Flask(__name__)


@app.get("/")
def index():
    return jsonify(greeting=settings["greeting"], python="{}.{}".format(*sys.version_info[:2]))
