"""The imports of a Node app that spell a module's name in another case than its file
has (preview.apps.written.importcase): found from the imports, the sources making them
rewritten with the file's own spelling."""

from __future__ import annotations

import trio

from preview.apps.written import case_corrections

from ..conftest import Service
from ..launching import BUILD_WAIT, app_files, launched, messages


def test_a_package_import_differing_in_case_only_is_spelled_as_listed() -> None:
    """gamakgrover2002's NestJs-Twitter-backend: ``from '@nestjs/typeOrm'`` with
    ``@nestjs/typeorm`` listed; its author's file system found the folder, tsc here did
    not (TS2307). Spelled as listed, its subpaths too; a listed one, a built-in, one of
    two alike, and a folder of the upload's are left."""
    package = (
        b'{"dependencies": {"@nestjs/typeorm": "^11", "express": "^4", "Foo": "1", "foo": "1"}}'
    )
    module = (
        b"import { TypeOrmModule } from '@nestjs/typeOrm';\n"
        b'import { x } from "@nestjs/TypeORM/dist/common";\n'
        b"import express from 'express';\nimport fs from 'fs';\nimport f from 'FOO';\n"
        b"import { User } from 'Src/users';\n"
    )
    files = {"package.json": package, "src/app.module.ts": module, "src/users/index.ts": b""}
    corrected = case_corrections(files)
    assert list(corrected) == ["src/app.module.ts"]
    assert corrected["src/app.module.ts"] == (
        b"import { TypeOrmModule } from '@nestjs/typeorm';\n"
        b'import { x } from "@nestjs/typeorm/dist/common";\n'
        b"import express from 'express';\nimport fs from 'fs';\nimport f from 'FOO';\n"
        b"import { User } from 'Src/users';\n"
    )


def test_an_import_differing_in_case_only_is_spelled_as_its_file() -> None:
    files = {p: t.encode() for p, t in app_files("node_import_case").items()}
    corrected = case_corrections(files)
    assert list(corrected) == ["server.js"]
    assert b'require("./handlers/greeting")' in corrected["server.js"]
    assert (
        corrected["server.js"].replace(b"./handlers/greeting", b"./handlers/Greeting")
        == (files["server.js"])
    )


def test_typescript_imports_are_resolved_as_node_and_tsc_resolve_them() -> None:
    files = {
        "src/index.ts": (
            b"import User from './controllers/User';\n"
            b"import { check } from '../src/Middlewares/validate.js';\n"
            b"import config from './Config';\n"
            b"import { h } from './Helpers.js';\n"  # tsc's ES module spelling of helpers.ts
            b"import db from './db';\n"  # resolves: left as it is
            b"import missing from './nowhere';\n"  # no file of any case: left
            b"import express from 'express';\n"  # a package, not a path
        ),
        "src/controllers/user.ts": b"export default 1;\n",
        "src/middlewares/validate.ts": b"export const check = 1;\n",
        "src/config/index.ts": b"export default {};\n",
        "src/helpers.ts": b"export const h = 1;\n",
        "src/db.ts": b"export default null;\n",
        # two files matching one import when case is ignored: which one is unknown
        "src/routes.ts": b"const r = require('./lib/Util');\n",
        "src/lib/util.js": b"",
        "src/lib/UTIL.js": b"",
        "node_modules/x/index.js": b"require('./Missing')\n",
        "node_modules/x/missing.js": b"",
    }
    corrected = case_corrections(files)
    assert list(corrected) == ["src/index.ts"]
    # A folder spelled otherwise is spelled as the file's (../src/Middlewares, the way it
    # is written kept); a folder's index (./Config) is left.
    assert corrected["src/index.ts"] == (
        files["src/index.ts"]
        .replace(b"'./controllers/User'", b"'./controllers/user'")
        .replace(b"'./Helpers.js'", b"'./helpers.js'")
        .replace(b"'../src/Middlewares/validate.js'", b"'../src/middlewares/validate.js'")
    )


def test_folders_spelled_otherwise_are_spelled_as_the_files() -> None:
    """MeGaOne47's nest-crud-app: ``'src/room/room.entity'`` (from its baseUrl) and
    ``'../donation/donation.entity'`` beside ``src/Room/`` and ``src/Donation/`` (TS2307
    at its build)."""
    files = {
        "tsconfig.json": b'{"compilerOptions": {"baseUrl": "./"}}',
        "src/Donation/donation.entity.ts": b"import { Room } from 'src/room/room.entity';\n",
        "src/Room/room.entity.ts": b"import { D } from '../donation/donation.entity';\n",
    }
    corrected = case_corrections(files)
    assert corrected == {
        "src/Donation/donation.entity.ts": b"import { Room } from 'src/Room/room.entity';\n",
        "src/Room/room.entity.ts": b"import { D } from '../Donation/donation.entity';\n",
    }


def test_a_sibling_in_a_folder_of_the_same_name_spelled_otherwise_is_reached() -> None:
    """Edimega's myNestjsChat: src/Users/user.module.ts imports ``'./user.controller'``,
    which is src/users/user.controller.ts (one folder on its author's file system, two
    here): "Cannot find module './user.controller'". Imported by the path to it."""
    files = {
        "src/Users/user.module.ts": b"import { UserController } from './user.controller';\n",
        "src/users/user.controller.ts": b"import { UserService } from './user.service';\n",
        "src/users/user.service.ts": b"export class UserService {}\n",
    }
    assert case_corrections(files) == {
        "src/Users/user.module.ts": b"import { UserController } from '../users/user.controller';\n"
    }


def test_a_path_from_the_projects_base_url_is_resolved_from_it() -> None:
    """brenno-araujo's nestjs-sequelize: ``import { Book } from
    'src/modules/book/entities/BOOK.entity'`` beside ``book.entity.ts``, its tsconfig's
    ``"baseUrl": "./"`` (TS2307 at its build). A package's subpath, and a path from a
    folder the upload lacks, are left alone; a project without a baseUrl resolves none."""
    files = {
        "api/tsconfig.json": (
            b'{\n  // comments, as tsc allows\n  "compilerOptions": {"baseUrl": "./"}}'
        ),
        "api/src/modules/author/author.entity.ts": (
            b"import { Book } from 'src/modules/book/entities/BOOK.entity';\n"
            b"import { Op } from 'sequelize/types';\n"
            b"import x from 'lib/Missing';\n"
        ),
        "api/src/modules/book/entities/book.entity.ts": b"export class Book {}\n",
        "web/src/app.ts": b"import { Book } from 'src/modules/book/entities/BOOK.entity';\n",
        "web/src/modules/book/entities/book.entity.ts": b"export class Book {}\n",
    }
    corrected = case_corrections(files)
    assert list(corrected) == ["api/src/modules/author/author.entity.ts"]
    assert corrected["api/src/modules/author/author.entity.ts"] == files[
        "api/src/modules/author/author.entity.ts"
    ].replace(b"BOOK.entity", b"book.entity")


def test_a_path_through_a_tsconfig_alias_is_spelled_as_its_file() -> None:
    """sukronsabari's expressjs-sequelize-auth: ``import … from '@/app/controllers/Auth/
    AutenticatedSessionController'`` beside src/app/controllers/auth/, its tsconfig's
    ``"paths": {"@/*": ["src/*"]}``: "Cannot find module". The part the alias's ``*``
    stands for is spelled as the file is (a folder's index, an extension as written); an
    alias leading to a file, to none, or to two alike is left."""
    files = {
        "tsconfig.json": (
            b'{\n  // tsc allows comments\n  "compilerOptions": {\n    "baseUrl": "./",\n'
            b'    "paths": {"@/*": ["src/*"], "~lib/*": ["src/lib/*"]},\n  },\n}\n'
        ),
        "src/routes/auth.ts": (
            b"import Session from '@/app/controllers/Auth/AutenticatedSessionController';\n"
            b'import { users } from "@/App/Users";\n'
            b"import { sign } from '~lib/JWT.js';\n"
            b"import { cache } from '@/lib/cache';\n"
            b"import { gone } from '@/lib/Gone';\n"
            b"import express from 'express';\n"
        ),
        "src/app/controllers/auth/AutenticatedSessionController.ts": b"export default 1\n",
        "src/app/users/index.ts": b"export const users = []\n",
        "src/lib/jwt.ts": b"export const sign = 1\n",
        "src/lib/cache.ts": b"export const cache = 1\n",
    }
    corrected = case_corrections(files)
    assert corrected["src/routes/auth.ts"] == (
        b"import Session from '@/app/controllers/auth/AutenticatedSessionController';\n"
        b'import { users } from "@/app/users";\n'
        b"import { sign } from '~lib/jwt.js';\n"
        b"import { cache } from '@/lib/cache';\n"
        b"import { gone } from '@/lib/Gone';\n"
        b"import express from 'express';\n"
    )
    two = {**files, "src/App/Users.ts": b"export const users = []\n"}
    assert b'"@/App/Users"' in case_corrections(two)["src/routes/auth.ts"]


def test_an_es_modules_relative_imports_get_the_extension_node_requires() -> None:
    """SandaruShashinda98's express-postgresql-backend (``"type": "module"``):
    ``import { authService } from "./auth.service"`` beside auth.service.js, which Node's
    ES module loader does not find. A CommonJS package's sources (JavaScript or
    TypeScript) and an import that names a file already are left alone."""
    files = {
        "package.json": b'{"type": "module", "main": "server.js"}',
        "server.js": (
            b'import auth from "./modules/auth/auth.controller.js";\n'
            b'import routes from "./routes";\n'  # a folder: its index
            b'import { log } from "./utils/logger";\n'
            b'import express from "express";\n'
            b'const later = await import("./late");\n'
        ),
        "modules/auth/auth.controller.js": b'import { authService } from "./auth.service";\n',
        "modules/auth/auth.service.js": b"export const authService = {};\n",
        "routes/index.js": b"export default [];\n",
        "utils/logger.js": b"export const log = console.log;\n",
        "late.mjs": b"import { log } from './utils/logger';\n",
        "legacy/package.json": b'{"type": "commonjs"}',
        "legacy/old.js": b'const { log } = require("../utils/logger");\n',
        "legacy/app.ts": b'import { log } from "./old";\n',
    }
    corrected = case_corrections(files)
    assert sorted(corrected) == ["late.mjs", "modules/auth/auth.controller.js", "server.js"]
    assert corrected["server.js"] == (
        files["server.js"]
        .replace(b'"./routes"', b'"./routes/index.js"')
        .replace(b'"./utils/logger"', b'"./utils/logger.js"')
        .replace(b'"./late"', b'"./late.mjs"')
    )
    assert b'from "./auth.service.js"' in corrected["modules/auth/auth.controller.js"]
    assert corrected["late.mjs"] == b"import { log } from './utils/logger.js';\n"


def test_an_es_module_packages_typescript_imports_name_the_files_tsc_emits() -> None:
    """jmdoringo's employee-cafe-express (``"type": "module"``, tsc to dist/, started with
    Node 18's ``--experimental-specifier-resolution=node``, gone since Node 19):
    ``import indexRouter from './routes/index'`` beside routes/index.ts is emitted as
    written, and Node finds no dist/routes/index. Spelled ``./routes/index.js``, the file
    tsc emits (a folder: its ``index.js``; a ``.mts``: its ``.mjs``); a declaration file,
    a JavaScript module's import and a CommonJS package's TypeScript are left."""
    files = {
        "package.json": b'{"type": "module", "scripts": {"build": "tsc"}}',
        "src/app.ts": (
            b"import indexRouter from './routes/index'\n"
            b"import cafes from './routes/cafes.js'\n"  # named as tsc wants already
            b"import models from './models'\n"  # a folder: its index
            b"import { pool } from './services/dbConfig'\n"
            b"import { later } from './late'\n"
            b"import { log } from './log'\n"  # a JavaScript module: its own file
        ),
        "src/routes/index.ts": b"export default 1\n",
        "src/routes/cafes.ts": b"export default 2\n",
        "src/models/index.ts": b"export default {}\n",
        "src/services/dbConfig.ts": b"export const pool = {}\n",
        "src/late.mts": b"export const later = 1\n",
        "src/log.js": b"export const log = console.log\n",
        "src/types.d.ts": b"import type { X } from './routes/index'\n",
        "legacy/package.json": b'{"type": "commonjs"}',
        "legacy/index.ts": b"import { y } from './y'\n",
        "legacy/y.ts": b"export const y = 1\n",
    }
    corrected = case_corrections(files)
    assert sorted(corrected) == ["src/app.ts"]
    assert corrected["src/app.ts"] == (
        b"import indexRouter from './routes/index.js'\n"
        b"import cafes from './routes/cafes.js'\n"
        b"import models from './models/index.js'\n"
        b"import { pool } from './services/dbConfig.js'\n"
        b"import { later } from './late.mjs'\n"
        b"import { log } from './log.js'\n"
    )


async def test_an_app_importing_a_module_under_another_case_starts(
    builder_service: Service,
) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_import_case"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        said = messages(await service.history(body["gid"]), "system")
        assert any(
            line.startswith("server.js: imports (or views rendered) spelling") for line in said
        ), said
        assert (await service.app_get(body, "/")).json() == {"greeting": "hello"}
        assert (await service.stop(body["gid"])).status_code == 200


def test_a_view_rendered_under_another_case_is_spelled_as_its_template() -> None:
    """bitners' express-rest-mysql renders ``pages/Login`` beside views/pages/login.ejs:
    Failed to lookup view, 500 at /login. A view found as written, one of no template,
    and one two templates match when case is ignored, are left."""
    files = {
        "routes/guest.js": (
            b"res.render('pages/Login', { data: 1 });\n"
            b'res.render("pages/home");\n'  # found as written
            b"res.render('pages/Nowhere');\n"  # no template of any case
            b"res.render('Twice');\n"  # two templates match: which one is unknown
            b'res.render("profile/Home.ejs");\n'  # its extension written
        ),
        "views/pages/login.ejs": b"",
        "views/pages/home.ejs": b"",
        "views/twice.ejs": b"",
        "views/TWICE.ejs": b"",
        "views/profile/home.ejs": b"",
    }
    corrected = case_corrections(files)
    assert corrected == {
        "routes/guest.js": files["routes/guest.js"]
        .replace(b"'pages/Login'", b"'pages/login'")
        .replace(b'"profile/Home.ejs"', b'"profile/home.ejs"')
    }
    assert case_corrections({**files, "views/pages/Login.ejs": b""}) == {
        "routes/guest.js": files["routes/guest.js"].replace(
            b'"profile/Home.ejs"', b'"profile/home.ejs"'
        )
    }


def test_a_view_of_the_folder_the_app_sets_and_its_includes_are_spelled_as_their_files() -> None:
    """tusharagrahari214's Rapid-Dispatch-Express sets its views to public/, renders
    ``pages/showTruck`` beside public/pages/showtruck.ejs, and includes
    ``../include/showDataPending.ejs`` beside public/include/ShowDataPending.ejs: 500s."""
    page = (
        b"<%- include('../include/showDataPending.ejs') %>\n"
        b'<%- include("../Include/header") %>\n'  # its folder too, and no extension
        b"<%- include('../include/footer.ejs') %>\n"  # found as written
        b"<%- include('../include/nowhere.ejs') %>\n"  # no file of any case
    )
    files = {
        "app.js": b'app.set("views", "public");\n',
        "server/render.js": b"res.render('pages/showTruck', { users: [] });\n",
        "public/pages/showtruck.ejs": b"",
        "public/pages/viewTruckPending.ejs": page,
        "public/include/ShowDataPending.ejs": b"",
        "public/include/header.ejs": b"",
        "public/include/footer.ejs": b"",
    }
    assert case_corrections(files) == {
        "server/render.js": b"res.render('pages/showtruck', { users: [] });\n",
        "public/pages/viewTruckPending.ejs": page.replace(
            b"showDataPending", b"ShowDataPending"
        ).replace(b"../Include/header", b"../include/header"),
    }
    joined = {**files, "app.js": b"app.set('views', path.join(__dirname, './public'));\n"}
    assert "server/render.js" in case_corrections(joined)
    unset = {**files, "app.js": b""}  # no views folder named: its renders are left
    assert "server/render.js" not in case_corrections(unset)


async def test_an_app_rendering_a_view_under_another_case_serves_it(
    builder_service: Service,
) -> None:
    service = builder_service
    with trio.fail_after(BUILD_WAIT):
        body = await launched(service, app_files("node_view_case"))
        assert body["status"] == "running", (body["errorMessage"], body["errorLines"])
        answer = await service.app_get(body, "/")
        assert answer.status_code == 200 and answer.text == "<h1>Log in</h1>\n", answer.text
        assert (await service.stop(body["gid"])).status_code == 200


def test_a_module_required_by_its_authors_absolute_path_is_required_relative() -> None:
    # andrestex's login-express: "Cannot find module 'C:/Users/atexeira/…/database.js'".
    model = b"const db = require('C:/Users/atexeira/Documents/Node/login_express/"
    model += b"src/config/database.js');\n"
    router = (
        b"require('C:\\\\Users\\\\a\\\\login_express\\\\src\\\\config\\\\passport')(passport);\n"
    )
    home = b"import db from '/home/dev/shop/src/config/database.js';\n"
    files = {
        "package.json": b'{"dependencies": {"express": "^4"}}',
        "src/config/database.js": b"module.exports = {};\n",
        "src/config/passport.js": b"module.exports = () => {};\n",
        "src/app/models/user.js": model,
        "src/app/routers/index.js": router,
        "src/index.js": home,
        # Nowhere in the upload, or two files of that tail: left as written.
        "src/other.js": b"require('/Users/m/Downloads/images.zip'); require('C:/x/index.js');\n",
        "src/a/index.js": b"",
        "src/b/index.js": b"",
    }
    corrected = case_corrections(files)
    assert corrected["src/app/models/user.js"] == (
        b"const db = require('../../config/database.js');\n"
    )
    assert corrected["src/app/routers/index.js"] == b"require('../../config/passport')(passport);\n"
    assert corrected["src/index.js"] == b"import db from './config/database.js';\n"
    assert "src/other.js" not in corrected
