from flask import Blueprint, jsonify, request

api = Blueprint("api", __name__, url_prefix="/api")
admin = Blueprint("admin", __name__, url_prefix="/admin")


@api.route("/posts", methods=["GET", "POST"])
def posts():
    """List or create posts.

    POST takes a JSON body.
    """
    return jsonify(request.args)


@api.route("/posts/<int:post_id>")
def post_detail(post_id: int):
    return jsonify(id=post_id)


@api.put("/posts/<int:post_id>")
def replace_post(post_id: int):
    return jsonify(id=post_id)


@api.delete("/posts/<int:post_id>")
def delete_post(post_id: int):
    return "", 204


@api.route("/files/<path:name>")
def download(name: str):
    return name


@api.route("/tags/<tag>/posts/")
def tagged(tag: str):
    return tag


@admin.get("/stats/<float:ratio>")
def stats(ratio: float):
    return jsonify(ratio=ratio)


# Flask 2 nested blueprints: /api/admin/...
api.register_blueprint(admin)
