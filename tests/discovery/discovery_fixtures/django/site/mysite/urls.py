from django.contrib import admin
from django.urls import include, path, re_path
from posts import views as post_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("posts.urls")),
    re_path(r"^archive/(?P<year>[0-9]+)/(?P<slug>[-\w]+)/$", post_views.archive),
    path("", post_views.home, name="home"),
]
