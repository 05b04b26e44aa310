import os

from celery import Celery

from .broker import use_for_filesystem_urls

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "policyhub.settings")
# filesystem:// (the embedded broker) publishes each message atomically: see policyhub/broker.py.
use_for_filesystem_urls()

app = Celery("policyhub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
