import django.dispatch

execution_committed = django.dispatch.Signal()
