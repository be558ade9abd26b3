"""An app listing an AWS SDK is given the region its author's ~/.aws/config gives every
client (``builds.appenv``): boto3 refuses to make a client without one at import."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from preview.apps.detect import detect
from preview.apps.spec import LaunchSpec

from ..launching import launch_environment

# adamsulemanji's fastapi-lambda-dynamodb, in short: its table made at import.
_MAIN = b"""import boto3
from fastapi import FastAPI
table = boto3.resource("dynamodb").Table("items")
app = FastAPI()
"""


def _environment(files: dict[str, bytes], extra: dict[str, str] | None = None) -> dict[str, str]:
    now = datetime.now(UTC)
    spec = LaunchSpec(
        "p1", "g1", None, "alice", files, [], 3001, None, now, now, detection=detect(files)
    )
    spec.extra.update(extra or {})
    return launch_environment(spec)


def test_an_app_listing_an_aws_sdk_gets_a_region() -> None:
    files = {"main.py": _MAIN, "requirements.txt": b"fastapi\nuvicorn\nboto3\n"}
    given = _environment(files)
    assert given["AWS_DEFAULT_REGION"] == given["AWS_REGION"] == "us-east-1"
    # Its own region stands; an app listing no SDK gets none.
    own = _environment(files, {"AWS_REGION": "eu-west-3"})
    assert own["AWS_REGION"] == "eu-west-3" and "AWS_DEFAULT_REGION" not in own
    plain = {**files, "requirements.txt": b"fastapi\nuvicorn\n"}
    assert "AWS_DEFAULT_REGION" not in _environment(plain)
    package = {"scripts": {"start": "node app.js"}, "dependencies": {"@aws-sdk/client-s3": "^3"}}
    node = {"package.json": json.dumps(package).encode(), "app.js": b"app.listen(3000);\n"}
    assert _environment(node)["AWS_REGION"] == "us-east-1"
