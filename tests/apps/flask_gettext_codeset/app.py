"""A Flask app written for Python 3.10: its translations are opened as Django 2 and other
old i18n code did, with ``codeset=``, which Python 3.11's gettext no longer takes."""

import gettext
import sys

from flask import Flask, jsonify

translations = gettext.translation("messages", localedir="locale", fallback=True, codeset="utf-8")
app = Flask(__name__)


@app.get("/")
def index():
    python = "{}.{}".format(*sys.version_info[:2])
    return jsonify(greeting=translations.gettext("hello"), python=python)
