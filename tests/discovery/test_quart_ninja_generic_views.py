"""Discovery from source for Quart (Flask's API, asynchronous), Django Ninja APIs mounted
in the URL configuration, class-based views that inherit their methods, NestJS controllers
and Litestar apps."""

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
        ("POST", "/echo"), ("GET", "/todos/{todo_id}"), ("GET", "/"), ("POST", "/"),
    }  # fmt: skip


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
        ("GET", "/api/health"), ("GET", "/api/users/{user_id}"), ("PUT", "/api/users/{user_id}"),
        ("PATCH", "/api/users/{user_id}"), ("POST", "/api/articles"),
        ("GET", "/api/articles/drafts/"),
    }  # fmt: skip


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
        ("GET", "/"), ("GET", "/items/"), ("POST", "/items/"), ("GET", "/items/{pk}/"),
        ("PUT", "/items/{pk}/"), ("PATCH", "/items/{pk}/"),
    }  # fmt: skip


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
        ("GET", "/api/cats"), ("GET", "/api/cats/{id}"), ("POST", "/api/cats"),
        ("DELETE", "/api/dogs/{id}/bone"),
    }  # fmt: skip


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
        ("GET", "/api/notes"), ("POST", "/api/notes"), ("DELETE", "/api/notes/{note_id}"),
        ("GET", "/api/any"), ("POST", "/api/any"), ("GET", "/"), ("GET", "/health"),
        ("POST", "/auth/login"),
    }  # fmt: skip
