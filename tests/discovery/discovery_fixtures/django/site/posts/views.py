from django.http import HttpResponse, JsonResponse
from django.views import View
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from rest_framework import viewsets
from rest_framework.decorators import api_view


def home(request):
    """The landing page."""
    return HttpResponse("home")


@api_view(["GET", "POST"])
def post_list(request):
    """List posts, or create one."""
    return JsonResponse({})


@require_http_methods(["GET", "PUT", "DELETE"])
def post_detail(request, pk):
    return JsonResponse({"pk": pk})


class PostEditView(View):
    def get(self, request, slug):
        return HttpResponse(slug)

    def post(self, request, slug):
        return HttpResponse(slug)


@require_GET
def by_tag(request, tag):
    return JsonResponse({"tag": tag})


def reports(request):
    return JsonResponse({})


@require_POST
def charge(request, token):
    return JsonResponse({"token": str(token)})


def ping(request):
    return HttpResponse("pong")


def archive(request, year, slug):
    return HttpResponse(f"{year}/{slug}")


class CommentViewSet(viewsets.ReadOnlyModelViewSet):
    """Comments, read-only."""

    lookup_field = "uuid"
