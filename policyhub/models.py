from django.db import models


class WorkerHeartbeat(models.Model):
    """Proof that a Celery worker is consuming: each row is a task that was sent and then ran."""

    sent_at = models.DateTimeField()
    ran_at = models.DateTimeField(auto_now_add=True)
    countdown = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-ran_at"]
        get_latest_by = "ran_at"

    def __str__(self):
        return f"heartbeat sent {self.sent_at:%H:%M:%S}, ran {self.ran_at:%H:%M:%S}"
