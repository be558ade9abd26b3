from django.contrib import admin
from django.urls import path

from catalog.views import books

urlpatterns = [path("admin/", admin.site.urls), path("books/", books)]
