import os

from celery import Celery

broker = os.environ.get("REDIS_URL", "redis://localhost:6379/0")
app = Celery("jobs", broker=broker, backend=broker, include=["jobs.tasks"])
app.conf.broker_connection_retry_on_startup = True
