from django.conf import settings
from django.http import JsonResponse
from django.urls import path


def given(request):
    return JsonResponse({
        "client_id": settings.GITHUB_CLIENT_ID.startswith("preview-"),
        "secret": len(settings.GITHUB_SECRET_KEY) >= 20,
    })


urlpatterns = [path("", given)]
