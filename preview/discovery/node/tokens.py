"""JavaScript / TypeScript tokens for the Node scanners, and the small readers over them.

A file is tokenised once (comments, strings, template and regex literals told apart, so none
can fake a route); every scanner then recognises its framework's shapes in the tokens.
"""

from __future__ import annotations

import re

__all__ = [
    "JS_SUFFIXES",
    "Tokens",
    "after_type_arguments",
    "is_punct",
    "js_tokens",
    "pairs",
    "string_at",
    "string_constants",
]

JS_SUFFIXES = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts")
Tokens = list[tuple[str, str, int]]  # (kind, value, line)
_JS_TOKEN = re.compile(
    r"""(?P<space>\s+)
    | (?P<comment>//[^\n]*|/\*[\s\S]*?(?:\*/|\Z))
    | (?P<str>'(?:[^'\\\n]|\\[\s\S])*'?|"(?:[^"\\\n]|\\[\s\S])*"?)
    | (?P<id>[A-Za-z_$][\w$]*)
    | (?P<num>\d[\w.]*)
    | (?P<punct>[\s\S])""",
    re.VERBOSE,
)
_REGEX_AFTER_PUNCT = frozenset("(,=:[!&|?{};+-*%<>~^")
_REGEX_AFTER_WORD = frozenset({"return", "typeof", "case", "do", "else", "in", "of", "new", "void"})
_JS_REGEX = re.compile(r"/(?:[^/\\\[\n]|\\.|\[(?:[^\]\\\n]|\\.)*\])+/[A-Za-z]*")
_OPENER = {")": "(", "}": "{"}
_SUBSTITUTION = re.compile(r"\$\{\s*([A-Za-z_$][\w$]*)\s*\}|\$\{[^}]*\}")
_MAX_TYPE_TOKENS = 200  # a call's type arguments (`app.post<{ Body: … }>(…)`) are short


def js_tokens(text: str) -> Tokens:
    """(kind, value, line) tokens, without comments; string values are unescaped.

    A template literal with ``${...}`` is a "tpl" token (its value the raw text between
    its backticks), and a regular expression literal a "re" token, so neither can fake a
    string or hide a quote.
    """
    tokens: Tokens = []
    position, line, no_regex_until = 0, 1, 0
    while position < len(text):
        match = _JS_TOKEN.match(text, position)
        # (Its last alternative takes any one character: it always matches, named.)
        assert match is not None and match.lastgroup is not None
        kind, end, value = match.lastgroup, match.end(), match.group()
        if value == "`":
            unescaped, end = _template(text, position)
            kind = "str" if unescaped is not None else "tpl"
            value = unescaped if unescaped is not None else text[position + 1 : end - 1]
        elif value == "/" and position >= no_regex_until and _regex_allowed(tokens):
            if literal := _JS_REGEX.match(text, position):
                kind, end = "re", literal.end()
            else:  # nothing closes it on this line: do not try again for each "/" of it
                newline = text.find("\n", position)
                no_regex_until = len(text) if newline < 0 else newline
        elif kind == "str":
            closed = len(value) > 1 and value[-1] == value[0]
            value = re.sub(r"\\([\s\S])", r"\1", value[1:-1] if closed else value[1:])
        if kind not in ("space", "comment"):
            tokens.append((kind, value, line))
        line += text.count("\n", position, end)
        position = end
    return tokens


def _regex_allowed(tokens: list) -> bool:
    """Whether a "/" here starts a regular expression rather than being a division."""
    if not tokens:
        return True
    kind, value, _ = tokens[-1]
    return (kind == "punct" and value in _REGEX_AFTER_PUNCT) or (
        kind == "id" and value in _REGEX_AFTER_WORD
    )


def _template(text: str, start: int) -> tuple[str | None, int]:
    """A template literal's value (None when it has substitutions) and where it ends."""
    position, depth, dynamic = start + 1, 0, False
    while position < len(text):
        char = text[position]
        if char == "\\":
            position += 1
        elif depth == 0 and char == "`":
            return (None if dynamic else text[start + 1 : position]), position + 1
        elif depth == 0 and text.startswith("${", position):
            dynamic, depth = True, 1
            position += 1
        elif depth:
            depth += (char == "{") - (char == "}")
        position += 1
    return None, len(text)


def pairs(tokens: list) -> dict[int, int]:
    """Index of each "(" or "{" token to that of its closing token; unclosed ones are left
    out. Computed once, so no scan ahead can make a file cost quadratic time."""
    pairs: dict[int, int] = {}
    stacks: dict[str, list[int]] = {"(": [], "{": []}
    for index, (kind, value, _) in enumerate(tokens):
        if kind == "punct" and value in stacks:
            stacks[value].append(index)
        elif kind == "punct" and value in (")", "}") and stacks[_OPENER[value]]:
            pairs[stacks[_OPENER[value]].pop()] = index
    return pairs


def is_punct(tokens: Tokens, i: int, char: str) -> bool:
    return 0 <= i < len(tokens) and tokens[i][0] == "punct" and tokens[i][1] == char


def string_at(tokens: Tokens, i: int, constants: dict[str, str] | None = None) -> str | None:
    """The string at ``i``; a template literal too where each of its substitutions is a
    name ``constants`` gives (``${apiModule}/feed``: see :func:`string_constants`)."""
    if not 0 <= i < len(tokens) or tokens[i][0] not in ("str", "tpl"):
        return None
    kind, value = tokens[i][0], tokens[i][1] or ""
    if kind == "str":
        return value
    if constants is None or "`" in value:
        return None
    parts = _SUBSTITUTION.split(value)  # text, name, text, name, …, text
    names = parts[1::2]
    if any(name is None or name not in constants for name in names) or "${" in "".join(parts[::2]):
        return None
    return "".join(constants[p] if k % 2 else p for k, p in enumerate(parts))


def string_constants(tokens: Tokens) -> dict[str, str]:
    """The names a file binds once to a string (``const apiModule = '/articles'``), for the
    template literals built on them; a name bound twice (two functions' own) is left out."""
    found: dict[str, str | None] = {}
    for i in range(len(tokens) - 4):
        if tokens[i][0] != "id" or tokens[i][1] not in ("const", "let", "var"):
            continue
        if tokens[i + 1][0] != "id" or not is_punct(tokens, i + 2, "="):
            continue
        name, value = tokens[i + 1][1] or "", string_at(tokens, i + 3)
        ends = tokens[i + 4][0] != "punct" or tokens[i + 4][1] in (";", ",", "}")
        found[name] = value if name not in found and value is not None and ends else None
    return {name: value for name, value in found.items() if value is not None}


def after_type_arguments(tokens: Tokens, i: int) -> int:
    """``i``, or past the TypeScript type arguments starting at ``i`` (``<{ Body: X }>``):
    where a generic call's ``(`` is. Unbalanced or overlong ones are not skipped."""
    if not is_punct(tokens, i, "<"):
        return i
    depth = 0
    for j in range(i, min(i + _MAX_TYPE_TOKENS, len(tokens))):
        kind, value, _ = tokens[j]
        if kind != "punct":
            continue
        if value == "<":
            depth += 1
        elif value == ">" and not is_punct(tokens, j - 1, "="):  # not an arrow type's "=>"
            depth -= 1
            if depth == 0:
                return j + 1
    return i
