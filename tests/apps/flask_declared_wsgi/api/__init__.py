from flask_restful import Api, Resource

from src import app


class Notes(Resource):
    def get(self):
        return []


api = Api(app)
api.add_resource(Notes, "/notes")
