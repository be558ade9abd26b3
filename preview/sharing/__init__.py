"""Sharing a preview (issue 69): its owner shares a generation with another user or by a
link, as a viewer or a caller, until an expiry (``routes``: the shares, a link redeemed,
who watches now; ``rules``: what a share is made of, checked; ``annotations``: the notes
anyone with access pins to a preview's output). Who may call what is
``services.callers.generation_access``; a shared user's streams end with their share
(``services.sharewatch``); the rows are ``services.shares``'."""

from .annotations import blueprint as annotations_blueprint
from .routes import blueprint

__all__ = ["annotations_blueprint", "blueprint"]
