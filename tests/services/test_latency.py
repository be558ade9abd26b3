"""The latency module's pure parts: templates matched most specific first, ids collapsed,
nearest-rank percentiles."""

from __future__ import annotations

from preview.services.latency import RouteMatcher, collapsed_path, percentile


def test_the_most_specific_declared_template_wins_in_every_syntax() -> None:
    matcher = RouteMatcher(
        [
            ("GET", "/items/{item_id}"),
            ("GET", "/items/new"),
            ("GET", "/users/:id/posts/:postId"),
            ("GET", "/files/{rest:path}"),
            ("GET", "/flask/<int:n>/x"),
            ("POST", "/items"),
            ("GET", "/items/{id}.json"),
        ]
    )
    assert matcher.template("GET", "/items/new") == "/items/new"
    assert matcher.template("GET", "/items/42") == "/items/{item_id}"
    assert matcher.template("GET", "/items/42/") == "/items/{item_id}"
    assert matcher.template("GET", "/items/42.json") == "/items/{id}.json"
    assert matcher.template("GET", "/users/3/posts/9") == "/users/:id/posts/:postId"
    assert matcher.template("GET", "/files/a/b/c.txt") == "/files/{rest:path}"
    assert matcher.template("GET", "/flask/5/x") == "/flask/<int:n>/x"
    assert matcher.template("POST", "/items") == "/items"
    assert matcher.template("DELETE", "/items/42") is None
    assert matcher.template("GET", "/items/42/more") is None


def test_segments_that_look_like_ids_are_collapsed() -> None:
    assert collapsed_path("/orders/12/lines/9f3a1c5e7b2d4f60") == "/orders/{id}/lines/{id}"
    assert collapsed_path("/u/123e4567-e89b-12d3-a456-426614174000/") == "/u/{id}"
    assert collapsed_path("/tokens/abcDEF1234567890xyz") == "/tokens/{id}"
    assert collapsed_path("/health") == "/health"
    assert collapsed_path("/") == "/"
    assert collapsed_path("/api/v2/users") == "/api/v2/users"


def test_percentiles_are_nearest_rank() -> None:
    ordered = [float(n) for n in range(1, 101)]
    assert percentile(ordered, 0.5) == 50
    assert percentile(ordered, 0.95) == 95
    assert percentile(ordered, 0.99) == 99
    assert percentile([7.0], 0.99) == 7
    assert percentile([1.0, 2.0], 0.5) == 1
