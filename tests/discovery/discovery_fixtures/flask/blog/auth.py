from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.post("/login")
def login():
    return "ok"


@bp.route("/logout", methods=("POST",))
def logout():
    return "bye"


def profile():
    return "me"


bp.add_url_rule("/profile", "profile", profile, methods=["GET", "PATCH"])
