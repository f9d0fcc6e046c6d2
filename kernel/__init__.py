"""The shared kernel: what every context may import and which imports nothing of theirs.

Framework-free (no Django, DRF, boto3 or Celery): the errors a caller can act on
(``errors``), the wire form of times (``clock``), the text shapes several contexts accept
(``formats``: an integrator's reference, an email address), independent reads at once
(``fan_out``), what a log line is about (``log_context``) and the Prometheus metrics every
role exports (``metrics``). ``.importlinter`` keeps it standing alone.
"""
