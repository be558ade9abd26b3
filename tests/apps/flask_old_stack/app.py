"""A Flask 1.1 app that pins Flask alone: Flask 1.1.2 bounds none of Werkzeug, Jinja2,
itsdangerous, click or MarkupSafe, and imports what their newest releases removed
(jinja2.escape, itsdangerous.json, markupsafe.soft_unicode through Jinja2 2 …)."""

import jinja2
import markupsafe
import werkzeug
from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/versions")
def versions():
    return jsonify(
        jinja2=jinja2.__version__, markupsafe=markupsafe.__version__, werkzeug=werkzeug.__version__
    )
