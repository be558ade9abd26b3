"""No dependency file (wsvincent's restapiswithdjango): what it needs beyond Django is
named only here, as strings Django imports (corsheaders, rest_framework)."""

from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "fixture-only-not-secret"
DEBUG = True
ALLOWED_HOSTS = ["*"]
DJANGO_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]
THIRD_PARTY_APPS = ["rest_framework", "corsheaders"]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + ["posts"]
MIDDLEWARE = [
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
]
CORS_ALLOW_ALL_ORIGINS = True
ROOT_URLCONF = "blogsite.urls"
WSGI_APPLICATION = "blogsite.wsgi.application"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
