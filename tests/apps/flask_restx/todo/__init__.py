"""A flask-restx API: Resource classes under @api.route, a Namespace added with its own
path, and a resource given to add_resource with two URLs."""

from flask import Flask
from flask_restx import Api, Namespace, Resource

api = Api(prefix="/api", doc=False)
tasks = Namespace("tasks")
TASKS = {1: "write", 2: "test"}


@tasks.route("/")
class TaskList(Resource):
    def get(self):
        return [{"id": k, "title": v} for k, v in TASKS.items()]

    def post(self):
        return {"id": 3}, 201


@tasks.route("/<int:task_id>")
class Task(Resource):
    def get(self, task_id):
        return {"id": task_id, "title": TASKS.get(task_id)}

    def delete(self, task_id):
        return "", 204


@api.route("/health")
class Health(Resource):
    def get(self):
        return {"ok": True}


class Version(Resource):
    def get(self):
        return {"version": "1"}


api.add_namespace(tasks, path="/todo")
api.add_resource(Version, "/version", "/v")
app = Flask(__name__)
api.init_app(app)
