from worker.tasks import documents, exports, maintenance, reminders

__all__ = ("documents", "exports", "maintenance", "reminders")
