SECRET_KEY = "not-a-secret"
ROOT_URLCONF = "mysite.urls"
INSTALLED_APPS = ["django.contrib.admin", "rest_framework", "posts"]
