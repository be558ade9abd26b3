"""Discovery from source for Quart (Flask's API, asynchronous), Django Ninja APIs mounted
in the URL configuration, class-based views that inherit their methods, NestJS controllers,
Litestar apps and Fastify routes; django-ninja-extra's controllers."""

from __future__ import annotations

from preview.discovery.endpoints import endpoints_from_source

APP = b'''
from quart import Quart, request
from quart_schema import QuartSchema

app = Quart(__name__)
QuartSchema(app)


@app.post("/echo")
async def echo():
    return await request.get_json()


@app.get("/todos/<int:todo_id>")
async def todo(todo_id: int):
    """One todo."""
    return {"id": todo_id}


@app.route("/", methods=["GET", "POST"])
async def index():
    return "hello"
'''


def test_quart_routes_are_found() -> None:
    found = {(e["method"], e["path"]) for e in endpoints_from_source({"app.py": APP})}
    assert found == {
        ("POST", "/echo"),
        ("GET", "/todos/{todo_id}"),
        ("GET", "/"),
        ("POST", "/"),
    }


NINJA = {
    "config/urls.py": b"""
from django.urls import path
from ninja import NinjaAPI

from users.api import router as users_router

api = NinjaAPI()
api.add_router("/users", users_router)
api.add_router("/articles", "articles.api.router")


@api.get("/health")
def health(request):
    return {"ok": True}


urlpatterns = [path("api/", api.urls)]
""",
    "apps/users/api.py": b'''
from ninja import Router

router = Router()


@router.get("/{user_id}")
def user(request, user_id: int):
    """One user."""


@router.api_operation(["PUT", "PATCH"], "/{user_id}")
def change(request, user_id: int):
    pass
''',
    "apps/articles/api.py": b"""
from ninja import Router

router = Router()
drafts = Router()
router.add_router("/drafts", drafts)


@router.post("")
def create(request):
    pass


@drafts.get("/")
def list_drafts(request):
    pass
""",
    "config/settings.py": b'ROOT_URLCONF = "config.urls"\n',
}


def test_django_ninja_operations_under_their_mount_and_routers() -> None:
    found = {(e["method"], e["path"]) for e in endpoints_from_source(NINJA)}
    assert found == {
        ("GET", "/api/health"),
        ("GET", "/api/users/{user_id}"),
        ("PUT", "/api/users/{user_id}"),
        ("PATCH", "/api/users/{user_id}"),
        ("POST", "/api/articles"),
        ("GET", "/api/articles/drafts/"),
    }


NINJA_EXTRA = {
    "config/settings.py": b'ROOT_URLCONF = "config.urls"\n',
    "config/urls.py": b"""
from django.urls import path
from ninja_extra import NinjaExtraAPI
from todos.api import TodoController
from users.api import UserController

api = NinjaExtraAPI(title="x")
api.register_controllers(TodoController, UserController)
urlpatterns = [path("api/", api.urls)]
""",
    "todos/api.py": b"""
from ninja_extra import api_controller, http_generic, http_get, http_post, route


@api_controller("/todos", tags=["Todos"])
class TodoController:
    @http_get("/")
    def list(self): ...

    @http_post("/")
    def create(self): ...

    @http_get("/{int:todo_id}")
    def one(self, todo_id: int): ...

    @http_generic("/{int:todo_id}/done", methods=["put", "patch"])
    def done(self, todo_id: int): ...

    @route.delete("/{int:todo_id}")
    def drop(self, todo_id: int): ...

    def helper(self): ...
""",
    "users/api.py": b"""
from ninja_extra import api_controller, http_get


@api_controller
class UserController:
    @http_get("/me")
    def me(self): ...
""",
}


def test_ninja_extra_controllers_registered_on_the_api() -> None:
    endpoints = {(e["method"], e["path"]): e for e in endpoints_from_source(NINJA_EXTRA)}
    assert set(endpoints) == {
        ("GET", "/api/todos/"),
        ("POST", "/api/todos/"),
        ("GET", "/api/todos/{todo_id}"),
        ("PUT", "/api/todos/{todo_id}/done"),
        ("PATCH", "/api/todos/{todo_id}/done"),
        ("DELETE", "/api/todos/{todo_id}"),
        ("GET", "/api/me"),
    }
    (param,) = endpoints[("GET", "/api/todos/{todo_id}")]["parameters"]
    assert param["schema"] == {"type": "integer"}


GENERIC = {
    "shop/views.py": b"""
from rest_framework import generics
from django.views.generic import TemplateView


class Base(generics.RetrieveUpdateAPIView):
    pass


class Items(generics.ListCreateAPIView):
    pass


class Item(Base):
    pass


class Home(TemplateView):
    template_name = "home.html"
""",
    "shop/urls.py": b"""
from django.urls import path
from shop.views import Home, Item, Items

urlpatterns = [
    path("", Home.as_view()),
    path("items/", Items.as_view()),
    path("items/<int:pk>/", Item.as_view()),
]
""",
}


def test_generic_class_based_views_have_their_real_methods() -> None:
    found = {(e["method"], e["path"]) for e in endpoints_from_source(GENERIC)}
    assert found == {
        ("GET", "/"),
        ("GET", "/items/"),
        ("POST", "/items/"),
        ("GET", "/items/{pk}/"),
        ("PUT", "/items/{pk}/"),
        ("PATCH", "/items/{pk}/"),
    }


NEST = {
    "src/main.ts": b"""
import { NestFactory } from '@nestjs/core';
async function bootstrap() {
  const app = await NestFactory.create(AppModule);
  app.setGlobalPrefix('api');
  await app.listen(3000);
}
""",
    "src/cats/cats.controller.ts": b"""
import { Controller, Get, Post, Delete, Param } from '@nestjs/common';

@Controller('cats')
export class CatsController {
  // @Get('commented-out')
  @Get()
  findAll() {}

  @Get(':id')
  findOne(@Param('id') id: string) {}

  @Post()
  create() {}
}

@Controller({ path: 'dogs' })
export class DogsController {
  @Delete(':id/bone')
  drop() {}
}
""",
}


def test_nestjs_controllers_under_the_global_prefix() -> None:
    found = {(e["method"], e["path"]) for e in endpoints_from_source(NEST)}
    assert found == {
        ("GET", "/api/cats"),
        ("GET", "/api/cats/{id}"),
        ("POST", "/api/cats"),
        ("DELETE", "/api/dogs/{id}/bone"),
    }


LITESTAR = {
    "app/notes.py": b"""
from litestar import Controller, delete, get, post


class NoteController(Controller):
    path = "/notes"

    @get()
    async def notes(self) -> list: ...

    @post()
    async def add(self) -> None: ...

    @delete("/{note_id:int}")
    async def drop(self, note_id: int) -> None: ...
""",
    "app/auth.py": b"""
from litestar import Controller, post


class AuthController(Controller):
    def __init__(self, owner):
        super().__init__(owner)
        self.path = "/auth"

    @post(path="/login")
    async def login(self) -> None: ...
""",
    "app/main.py": b"""
from litestar import Litestar, Router, get, route

from app.auth import AuthController
from app.notes import NoteController


@get(["/", "/health"])
async def health() -> dict: ...


@route("/any", http_method=["GET", "POST"])
async def anything() -> None: ...


api = Router(path="/api", route_handlers=[NoteController, anything])
app = Litestar(route_handlers=[api, health, Router(path="", route_handlers=[AuthController])])
""",
}


def test_litestar_handlers_controllers_and_routers() -> None:
    found = {(e["method"], e["path"]) for e in endpoints_from_source(LITESTAR)}
    assert found == {
        ("GET", "/api/notes"),
        ("POST", "/api/notes"),
        ("DELETE", "/api/notes/{note_id}"),
        ("GET", "/api/any"),
        ("POST", "/api/any"),
        ("GET", "/"),
        ("GET", "/health"),
        ("POST", "/auth/login"),
    }


FASTIFY = {
    "package.json": b'{"dependencies": {"fastify": "^5", "@fastify/autoload": "^6"}}',
    "src/app.ts": b"import AutoLoad from '@fastify/autoload'\n",
    "src/routes/home.ts": b"""
export default async function (fastify) {
  fastify.get('/', async () => ({ hello: 'world' }))
}
""",
    "src/routes/api/tasks/index.ts": b"""
export default async function (fastify) {
  // fastify.get('/commented-out', ...)
  fastify.get('/:id', { schema: {} }, async (request) => request.params)
  fastify.route({ method: ['PUT', 'PATCH'], url: '/:id', handler: async () => ({}) })
}
""",
}


def test_fastify_routes_under_their_autoload_directories() -> None:
    found = {(e["method"], e["path"]) for e in endpoints_from_source(FASTIFY)}
    assert found == {
        ("GET", "/"),
        ("GET", "/api/tasks/{id}"),
        ("PUT", "/api/tasks/{id}"),
        ("PATCH", "/api/tasks/{id}"),
    }
