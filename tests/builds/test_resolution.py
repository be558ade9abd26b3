"""Pins uv cannot resolve together are relaxed as its explanation names them
(``preview.builds.remedies.resolution``): each case read from the real app whose install
failed so, through :meth:`Remedies.next_fix` and :meth:`Remedies.apply`."""

from __future__ import annotations

from preview.apps.depspec import PythonDeps
from preview.builds.appenv import SEEDED_SETUPTOOLS
from preview.builds.remedies import Remedies
from preview.builds.remedies.resolution import (
    RELAXED,
    nearest_release,
    no_such_versions,
    unresolvable,
)

# Ridmovies' fastapi-pet-social-network: dependabot raised h11, left httpcore.
RIDMOVIES = [
    "No solution found when resolving dependencies: Because httpcore==1.0.7 depends on "
    "h11>=0.13,<0.15 and you require",
    "  × No solution found when resolving dependencies:",
    "  ╰─▶ Because httpcore==1.0.7 depends on h11>=0.13,<0.15 and you require",
    "      h11>=0.16.0, we can conclude that your requirements and httpcore==1.0.7",
    "      are incompatible.",
    "      And because you require httpcore==1.0.7, we can conclude that your",
    "      requirements are unsatisfiable.",
]
# blaise789's fastapi-music-streaming, a Kali machine's freeze.
BLAISE = [
    "No solution found when resolving dependencies: Because fastapi==0.110.0 depends on "
    "starlette>=0.36.3,<0.37.0 and",
    "  × No solution found when resolving dependencies:",
    "  ╰─▶ Because fastapi==0.110.0 depends on starlette>=0.36.3,<0.37.0 and",
    "      you require fastapi==0.110.0, we can conclude that you require",
    "      starlette>=0.36.3,<0.37.0.",
    "      And because you require starlette==0.39.1, we can conclude that your",
    "      requirements are unsatisfiable.",
]
# ajmaln's DRF-Chat: a python-memcached release that never was.
AJMALN = [
    "No solution found when resolving dependencies: Because there is no version of "
    "python-memcached==1.11.0 and you require",
    "  × No solution found when resolving dependencies:",
    "  ╰─▶ Because there is no version of python-memcached==1.11.0 and you require",
    "      python-memcached==1.11.0, we can conclude that your requirements are",
    "      unsatisfiable.",
]


def _remedies(*lines: str) -> Remedies:
    remedies = Remedies()
    remedies.tried.deps = PythonDeps(lines, "requirements.txt", None, None)
    remedies.tried.python_version = "3.11.7"
    return remedies


def _next(remedies: Remedies, text: list[str]) -> object:
    return remedies.next_fix(text[0], text[1:], {"main.py": b"import fastapi\n"}, ["3.11.7"])


def test_a_pin_a_pinned_package_needs_elsewhere_takes_its_range() -> None:
    listed = ("fastapi==0.110.0", "starlette==0.39.1", "uvicorn[standard]==0.30.6")
    remedies = _remedies(*listed)
    fix = _next(remedies, BLAISE)
    assert fix is not None and getattr(fix, "said", "").startswith(RELAXED)
    assert "fastapi==0.110.0 needs starlette>=0.36.3,<0.37.0" in getattr(fix, "said", "")
    applied = remedies.apply(PythonDeps(listed, "requirements.txt", None, None))
    assert set(applied.requirements) == {
        "fastapi==0.110.0",
        "starlette>=0.36.3,<0.37.0",
        "uvicorn[standard]==0.30.6",
    }


def test_a_pin_whose_dependency_the_app_raised_is_relaxed_within_its_major() -> None:
    listed = ("h11>=0.16.0", "httpcore==1.0.7", "httpx==0.28.1")
    remedies = _remedies(*listed)
    fix = _next(remedies, RIDMOVIES)
    applied = remedies.apply(PythonDeps(listed, "requirements.txt", None, None))
    assert fix is not None
    assert set(applied.requirements) == {"h11>=0.16.0", "httpcore>=1.0.7,<2", "httpx==0.28.1"}
    # Still unresolvable after it: every exact pin within its major, once.
    remedies.tried.deps = applied
    again = [RIDMOVIES[0].replace("httpcore==1.0.7", "httpx==0.28.1"), *RIDMOVIES[1:]]
    every = _next(remedies, again)
    assert every is not None and "every exact pin" in getattr(every, "said", "")
    final = remedies.apply(PythonDeps(listed, "requirements.txt", None, None))
    assert set(final.requirements) == {"h11>=0.16.0", "httpcore>=1.0.7,<2", "httpx>=0.28.1,<1"}
    remedies.tried.deps = final
    assert _next(remedies, again) is None


def test_a_local_version_relaxed_within_its_major_loses_its_label() -> None:
    """vipankumar123's Fastapi-Company-Management-System, a freeze with
    ``torch==1.9.0+cpu``: relaxed with every exact pin, ``torch>=1.9.0+cpu,<2`` was refused
    by uv ("Operator >= is incompatible with versions containing non-empty local
    segments") before anything was installed; the range leaves the label out."""
    listed = ("h11>=0.16.0", "httpcore==1.0.7", "torch==1.9.0+cpu")
    remedies = _remedies(*listed)
    _next(remedies, RIDMOVIES)
    remedies.tried.deps = remedies.apply(PythonDeps(listed, "requirements.txt", None, None))
    again = [RIDMOVIES[0].replace("httpcore==1.0.7", "torch==1.9.0+cpu"), *RIDMOVIES[1:]]
    assert _next(remedies, again) is not None
    final = remedies.apply(PythonDeps(listed, "requirements.txt", None, None))
    assert set(final.requirements) == {"h11>=0.16.0", "httpcore>=1.0.7,<2", "torch>=1.9.0,<2"}
    assert nearest_release("1.9.0+cpu", ["1.9.0", "1.10.2"]) == ">=1.9.0,<2"


def test_a_pin_to_a_version_never_released_takes_the_releases_nearest_it() -> None:
    assert no_such_versions(AJMALN) == [("python-memcached", "1.11.0")]
    listed = ("Django==2.2.28", "python-memcached==1.11.0")
    remedies = _remedies(*listed)
    remedies.tried.releases["python-memcached"] = ["1.31", "1.59", "1.62"]
    fix = _next(remedies, AJMALN)
    applied = remedies.apply(PythonDeps(listed, "requirements.txt", None, None))
    assert fix is not None
    assert set(applied.requirements) == {"Django==2.2.28", "python-memcached>=1.11.0,<2"}
    # Above every release of its major: those below it; no release of it: the nearest.
    assert nearest_release("2.5.0", ["1.0", "2.1", "2.4.1"]) == ">=2,<2.5.0"
    assert nearest_release("3.0", ["1.0", "2.4.1", "4.2"]) == "==4.2"
    assert nearest_release("3.0", []) is None


def test_a_failure_that_is_no_resolution_or_names_no_exact_pin_is_left() -> None:
    assert _next(_remedies("h11>=0.16.0", "httpcore>=1.0"), RIDMOVIES) is None
    # A build's failure, uv's lines of an earlier try among its own: not this one's.
    built = ["Failed to build `httptools==0.1.2`", *RIDMOVIES[1:]]
    tried = _remedies("h11>=0.16.0", "httpcore==1.0.7").tried
    assert unresolvable(built, tried, []) == []
    assert unresolvable(RIDMOVIES, tried, []) != []


# Jxck007's flask-resume-builder: a freeze with a typo (webencoding for webencodings),
# after a first fix had relaxed its pyhyphen pin.
JXCK = [
    "No solution found when resolving dependencies: Because webencoding was not found in "
    "the package registry and you",
    "  × No solution found when resolving dependencies:",
    "  ╰─▶ Because webencoding was not found in the package registry and you",
    "      require webencoding==0.5.1, we can conclude that your requirements",
    "      are unsatisfiable.",
]


def test_a_name_the_index_lacks_is_no_pin_to_relax_and_a_frozen_one_is_left_out() -> None:
    frozen = (*(f"package{n}==1.0" for n in range(10)), "pyhyphen==0.17.2", "webencoding==0.5.1")
    remedies = _remedies(*frozen)
    remedies.tried.releases["pyhyphen"] = ["0.10.0", "0.17.0"]
    pyhyphen = [line.replace("python-memcached==1.11.0", "pyhyphen==0.17.2") for line in AJMALN]
    remedies.fixes += unresolvable(pyhyphen, remedies.tried, [])
    # As the build gives them: with the setuptools it adds where the app names none, which
    # is no line of the app's own (it is told apart: ``added``).
    own = PythonDeps(frozen, "requirements.txt", None, None)
    built = PythonDeps((*frozen, SEEDED_SETUPTOOLS), "requirements.txt", None, None)
    remedies.tried.deps = remedies.apply(built, own)
    assert remedies.tried.listed == own and remedies.tried.added == (SEEDED_SETUPTOOLS,)
    assert "pyhyphen>=0,<0.17.2" in remedies.tried.deps.requirements
    # Relaxing every pin would not bring a name the index lacks: it is left out instead.
    assert unresolvable(JXCK, remedies.tried, remedies.fixes) == []
    fix = _next(remedies, JXCK)
    assert fix is not None and getattr(fix, "drop", None) == "webencoding", fix
