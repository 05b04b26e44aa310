import os

from celery import Celery
from celery.signals import worker_ready, worker_shutting_down

from .broker import resume_polling, stop_polling, use_for_filesystem_urls

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "policyhub.settings")
# filesystem:// (the embedded broker) publishes each message atomically: see policyhub/broker.py.
use_for_filesystem_urls()
# ... and stops polling the moment the worker is told to stop, so Ctrl-C is quick.
worker_shutting_down.connect(stop_polling, weak=False)
worker_ready.connect(resume_polling, weak=False)

app = Celery("policyhub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
