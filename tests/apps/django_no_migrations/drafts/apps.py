from django.apps import AppConfig


class DraftsConfig(AppConfig):
    """Not in INSTALLED_APPS (django-tdd-docker's apps.common): makemigrations would
    refuse its label."""

    name = "drafts"
