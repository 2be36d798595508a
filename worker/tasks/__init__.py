from worker.tasks import maintenance

__all__ = ("maintenance",)
