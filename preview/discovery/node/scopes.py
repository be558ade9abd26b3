"""The functions of a JavaScript / TypeScript file, read from its tokens: where each one's
body is, its first parameter, and the names it is bound to; and, for a call on a name,
the innermost function whose parameter that name is.

Fastify declares routes on the instance a plugin function receives
(``export default async function users(app: FastifyInstance) { app.get("/", …) }``), so
its routes belong to that function, which ``register(users, { prefix })`` mounts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from preview.discovery.node.tokens import Tokens, after_type_arguments, is_punct

__all__ = ["Function", "file_functions", "owner_of"]

_RETURN_TYPE_TOKENS = 40  # `): Promise<void> {`: a return type is short
_DECLARATIONS = frozenset({"const", "let", "var"})


@dataclass
class Function:
    """One function: ``start`` (its first token), ``body`` (its braces' indexes), its
    first parameter's name (None: none, or a destructuring), its parameter's type's
    first word (``FastifyInstance``) and the names it is bound to (``default`` when it is
    its module's default export)."""

    start: int
    body: tuple[int, int]
    param: str | None
    param_type: str | None
    names: list[str] = field(default_factory=list)


def file_functions(tokens: Tokens, closing: dict[int, int]) -> list[Function]:
    """Every function with a block body: declarations, expressions and arrows."""
    opening = {end: start for start, end in closing.items()}
    found: list[Function] = []
    for i, (kind, value, _) in enumerate(tokens):
        if kind == "id" and value == "function" and not is_punct(tokens, i - 1, "."):
            j = i + 1 + is_punct(tokens, i + 1, "*")
            name = tokens[j][1] if j < len(tokens) and tokens[j][0] == "id" else None
            j = after_type_arguments(tokens, j + (name is not None))
            if not is_punct(tokens, j, "(") or j not in closing:
                continue
            body = _body(tokens, closing, closing[j] + 1)
            start = i - 1 if _word(tokens, i - 1) == "async" else i
            if body is not None:
                function = Function(start, body, *_first_param(tokens, j, closing[j]))
                function.names = [name] if name else []
                found.append(function)
        elif kind == "punct" and value == "=" and is_punct(tokens, i + 1, ">"):
            arrow = _arrow(tokens, opening, i)
            body = _body(tokens, closing, i + 2, arrow=True)
            if arrow is not None and body is not None:
                found.append(Function(arrow[0], body, arrow[1], arrow[2]))
    for function in found:
        function.names += _bound_names(tokens, function.start)
    return found


def owner_of(functions: list[Function], index: int, name: str) -> Function | None:
    """The innermost function around ``index`` whose first parameter is ``name``."""
    around = [f for f in functions if f.param == name and f.body[0] < index < f.body[1]]
    return max(around, key=lambda f: f.body[0], default=None)


def _word(tokens: Tokens, i: int) -> str | None:
    return tokens[i][1] if 0 <= i < len(tokens) and tokens[i][0] == "id" else None


def _first_param(tokens: Tokens, start: int, end: int) -> tuple[str | None, str | None]:
    """The first parameter between the parentheses at ``start`` … ``end`` and its type's
    first word (``app: FastifyInstance`` → ("app", "FastifyInstance"))."""
    name = _word(tokens, start + 1)
    if name is None or start + 1 >= end:
        return None, None
    typed = is_punct(tokens, start + 2, ":") and start + 3 < end
    return name, _word(tokens, start + 3) if typed else None


def _body(
    tokens: Tokens, closing: dict[int, int], j: int, *, arrow: bool = False
) -> tuple[int, int] | None:
    """The block body starting at ``j`` (after a return type, unless an arrow's)."""
    if not arrow and is_punct(tokens, j, ":"):
        for k in range(j + 1, min(j + _RETURN_TYPE_TOKENS, len(tokens))):
            if is_punct(tokens, k, "{") and not is_punct(tokens, k - 1, ":"):
                j = k
                break
    return (j, closing[j]) if is_punct(tokens, j, "{") and j in closing else None


def _arrow(
    tokens: Tokens, opening: dict[int, int], i: int
) -> tuple[int, str | None, str | None] | None:
    """The arrow whose ``=>`` is at ``i``: (its first token, first parameter, its type)."""
    word = _word(tokens, i - 1)
    if word is not None and not is_punct(tokens, i - 2, ".") and not is_punct(tokens, i - 2, ":"):
        # `app => {…}` (not `(…): void => {…}`)
        start = i - 1
        return (start - (_word(tokens, start - 1) == "async"), word, None)
    for k in range(i - 1, max(i - _RETURN_TYPE_TOKENS, -1), -1):  # `(…)` or `(…): T`
        typed = k == i - 1 or is_punct(tokens, k + 1, ":")
        if is_punct(tokens, k, ")") and k in opening and typed:
            start = opening[k]
            param, param_type = _first_param(tokens, start, k)
            return (start - (_word(tokens, start - 1) == "async"), param, param_type)
    return None


def _bound_names(tokens: Tokens, start: int) -> list[str]:
    """The names a function starting at ``start`` is bound to: ``const NAME [: T] = …``,
    ``module.exports = …``, ``export default …``, ``exports.NAME = …``, through wrapper
    calls (``fp(async (app) => …)``)."""
    b = start - 1
    while is_punct(tokens, b, "(") and _word(tokens, b - 1) is not None:  # fp(, plugin(
        b -= 2
    if _word(tokens, b) == "default" and _word(tokens, b - 1) == "export":
        return ["default"]
    if not is_punct(tokens, b, "="):
        return []
    if [_word(tokens, b - 3), tokens[b - 2][1] if b >= 2 else None, _word(tokens, b - 1)] == [
        "module",
        ".",
        "exports",
    ]:
        return ["default"]
    if _word(tokens, b - 3) == "exports" and is_punct(tokens, b - 2, "."):
        return [tokens[b - 1][1] or ""]
    for k in range(b - 1, max(b - 12, 0), -1):  # `const NAME: Type<…> =`
        if _word(tokens, k - 1) in _DECLARATIONS and _word(tokens, k) is not None:
            return [tokens[k][1] or ""]
    return []
