"""Settings read with "" as their default, which the views then refuse, as Django
styleguides write them: unset until the project registers with the provider."""

import environ

env = environ.Env()

GOOGLE_OAUTH2_CLIENT_ID = env.str("DJANGO_GOOGLE_OAUTH2_CLIENT_ID", default="")
GOOGLE_OAUTH2_CLIENT_SECRET = env.str("DJANGO_GOOGLE_OAUTH2_CLIENT_SECRET", default="")
GOOGLE_OAUTH2_PROJECT_ID = env.str("DJANGO_GOOGLE_OAUTH2_PROJECT_ID", default="")
SENTRY_DSN = env("SENTRY_DSN", default="")
REDIS_PASSWORD = env.str("REDIS_PASSWORD", default="")  # "" says: no password
