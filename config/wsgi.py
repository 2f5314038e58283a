import gc
import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from config.warmup import warm_up

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
application = get_wsgi_application()
# Import every view now (the URLconf), then keep what startup allocated out of the garbage collector's full passes:
# each one walked the ~100,000 long-lived objects of the app (73 ms at a time, in a request that happened to run it).
import_module(settings.ROOT_URLCONF)
warm_up()  # what the first request would build (config/warmup.py), built before the worker serves
gc.freeze()
