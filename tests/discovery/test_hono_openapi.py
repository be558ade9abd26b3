"""Hono apps laid out as the ``@hono/zod-openapi`` starters lay them out (w3cj's
hono-open-api-starter and its derivatives): routers made by the app's own factory,
routes declared with ``createRoute`` in one module and served by ``.openapi`` in
another, chained, and routers mounted over arrays. Their routes were found only while
the app ran (its ``/doc``): 1 of 8 from source, and none of hono-drizzle-api's 59."""

from __future__ import annotations

from preview.discovery.endpoints import endpoints_from_source


def found(files: dict[str, str]) -> set[tuple[str, str]]:
    return {
        (e["method"], e["path"])
        for e in endpoints_from_source({name: text.encode() for name, text in files.items()})
    }


CREATE_APP = """
import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppBindings } from "./types";

export function createRouter() {
  return new OpenAPIHono<AppBindings>({ strict: false });
}

export default function createApp() {
  const app = createRouter();
  app.use(requestId()).use(pinoLogger());
  app.notFound(notFound);
  return app;
}
"""
TASK_ROUTES = """
import { createRoute, z } from "@hono/zod-openapi";

export const list = createRoute({
  path: "/tasks",
  method: "get",
  request: { query: z.object({ path: z.string() }) },
  responses: { 200: jsonContent(z.array(selectTasksSchema), "The list of tasks") },
});
export const getOne = createRoute({
  tags: ["Tasks"],
  request: { params: IdParamsSchema },
  method: "get",
  path: "/tasks/{id}",
  responses: {},
});
export const remove = createRoute({ path: "/tasks/{id}", method: "delete", responses: {} });
"""
TASKS = """
import { createRouter } from "@/lib/create-app";
import * as handlers from "./tasks.handlers";
import * as routes from "./tasks.routes";

const router = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.getOne, handlers.getOne)
  .openapi(routes.remove, handlers.remove);

export default router;
"""
INDEX = """
import { createRoute } from "@hono/zod-openapi";
import { createRouter } from "@/lib/create-app";

const router = createRouter()
  .openapi(
    createRoute({ tags: ["Index"], method: "get", path: "/", responses: {} }),
    (c) => c.json({ message: "Tasks API" }, 200),
  );

export default router;
"""
APP = """
import configureOpenAPI from "@/lib/configure-open-api";
import createApp from "@/lib/create-app";
import index from "@/routes/index.route";
import tasks from "@/routes/tasks/tasks.index";

const app = createApp();
configureOpenAPI(app);

const routes = [
  index,
  tasks,
] as const;

routes.forEach((route) => {
  app.route("/", route);
});

export default app;
"""
OPENAPI = """
export default function configureOpenAPI(app: AppOpenAPI) {
  app.doc("/doc", { openapi: "3.0.0", info: { version: "1.0.0", title: "Tasks API" } });
  app.get("/reference", Scalar({ url: "/doc" }));
}
"""
TSCONFIG = '{"compilerOptions": {"baseUrl": "./", "paths": {"@/*": ["./src/*"]}}}'
STARTER = {
    "tsconfig.json": TSCONFIG,
    "src/lib/create-app.ts": CREATE_APP,
    "src/lib/configure-open-api.ts": OPENAPI,
    "src/routes/tasks/tasks.routes.ts": TASK_ROUTES,
    "src/routes/tasks/tasks.index.ts": TASKS,
    "src/routes/index.route.ts": INDEX,
    "src/app.ts": APP,
}


def test_the_starters_routes_are_found_from_source() -> None:
    assert found(STARTER) == {
        ("GET", "/"),
        ("GET", "/doc"),
        ("GET", "/reference"),
        ("GET", "/tasks"),
        ("GET", "/tasks/{id}"),
        ("DELETE", "/tasks/{id}"),
    }


def test_routers_mounted_over_an_imported_array_get_its_mounts_prefix() -> None:
    """hono-drizzle-api: two forEach callbacks name their parameter alike; each mounts
    its own array's routers, one of them imported, under its own prefix."""
    app = """
import { createApp } from "@/lib/create-app";
import adminRoutes from "@/routes/admin";
import { apiRoutes } from "@/routes/api";

const app = createApp();
apiRoutes.forEach((route) => app.route("/", route));
adminRoutes.forEach((route) => app.route("/admin", route));
export default app;
"""
    admin = """
import cities from "@/routes/admin/cities.index";
export const adminRoutes = [cities];
export default adminRoutes;
"""
    api = """
import shows from "@/routes/api/shows.index";
export const apiRoutes = [shows];
"""
    cities = """
import { createRouter } from "@/lib/create-app";
import * as routes from "./cities.routes";
export const router = createRouter();
router.use(async (_c, next) => { await next(); });
router.openapi(routes.list, handlers.list).openapi(routes.create, handlers.create);
export default router;
"""
    city_routes = """
import { createRoute } from "@hono/zod-openapi";
export const list = createRoute({ tags, path: "/cities", method: "get", responses: {} });
export const create = createRoute({ tags, path: "/cities", method: "post", responses: {} });
"""
    shows = """
import { createRouter } from "@/lib/create-app";
import { list } from "./shows.routes";
const router = createRouter().openapi(list, handlers.list);
export default router;
"""
    show_routes = """
import { createRoute } from "@hono/zod-openapi";
export const list = createRoute({ path: "/shows", method: "get", responses: {} });
"""
    create_app = """
import { OpenAPIHono } from "@hono/zod-openapi";
export const createRouter = () => {
  return new OpenAPIHono<AppBindings>({ strict: false });
};
export const createApp = () => {
  const app = createRouter();
  app.use("*", cors());
  return app;
};
"""
    files = {
        "tsconfig.json": TSCONFIG,
        "src/lib/create-app.ts": create_app,
        "src/index.ts": app,
        "src/routes/admin/index.ts": admin,
        "src/routes/admin/cities.index.ts": cities,
        "src/routes/admin/cities.routes.ts": city_routes,
        "src/routes/api/index.ts": api,
        "src/routes/api/shows.index.ts": shows,
        "src/routes/api/shows.routes.ts": show_routes,
    }
    assert found(files) == {
        ("GET", "/admin/cities"),
        ("POST", "/admin/cities"),
        ("GET", "/shows"),
    }


def test_a_call_not_making_a_router_is_not_one() -> None:
    """A value from a function that makes no Hono is no router: its chained calls are
    not routes (a query builder's .get, say)."""
    files = {
        "src/app.ts": """
import { Hono } from "hono";
function makeCache() { return new Map(); }
const cache = makeCache();
cache.get("/not-a-route", 1);
const app = new Hono();
app.get("/real", (c) => c.text("ok"));
export default app;
""",
    }
    assert found(files) == {("GET", "/real")}
