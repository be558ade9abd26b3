from django.urls import include, path, re_path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register(r"comments", views.CommentViewSet, basename="comment")

extra_patterns = [
    path("reports/", views.reports),
    path("charge/<uuid:token>/", views.charge),
]

urlpatterns = [
    path("posts/", views.post_list),
    path("posts/<int:pk>/", views.post_detail, name="post-detail"),
    path("posts/<slug:slug>/edit/", views.PostEditView.as_view()),
    re_path(r"^tags/(?P<tag>[\w-]+)/$", views.by_tag),
    path("v2/", include(extra_patterns)),
    path("inline/", include([path("ping/", views.ping)])),
    path("", include(router.urls)),
]
