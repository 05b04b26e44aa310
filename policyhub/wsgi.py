import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "policyhub.settings")
application = get_wsgi_application()
# Django, the apps and their modules live as long as the worker: moved out of the garbage
# collector's reach, so its passes, which a page's many short-lived objects set off, walk only
# what the requests made (docs/performance.md).
gc.freeze()
