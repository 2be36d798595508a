from worker.tasks import documents, maintenance, reminders

__all__ = ("documents", "maintenance", "reminders")
