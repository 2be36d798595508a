from worker.tasks import maintenance, reminders

__all__ = ("maintenance", "reminders")
