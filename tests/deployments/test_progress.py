"""A replica's step progress reaches the database at a bounded rate, and cancellation is still seen."""

from types import SimpleNamespace

from deployments.models import ImageDeployment


class Tasks:
    def __init__(self, cancelled=()):
        self.writes, self.reads, self.cancelled = [], 0, set(cancelled)

    def progress(self, task_id, fraction):
        self.writes.append((task_id, fraction))
        return task_id not in self.cancelled

    def is_cancelled(self, task_id):
        self.reads += 1
        return task_id in self.cancelled


def _replica(interval, tasks):
    replica = object.__new__(ImageDeployment.func_or_class)
    replica.settings, replica.tasks = SimpleNamespace(progress_interval_s=interval), tasks
    return replica


def test_within_the_interval_no_step_is_written():
    tasks = Tasks()
    progress = _replica(3600.0, tasks).progress_writer(["t1", "t2"])
    assert [progress(k / 10) for k in range(1, 11)] == [[True, True]] * 10
    assert tasks.writes == []  # a short request writes no step: completion sets progress to 1


def test_every_due_step_is_written_and_reads_the_cancel():
    tasks = Tasks(cancelled={"t2"})
    progress = _replica(0.0, tasks).progress_writer(["t1", "t2"])
    assert progress(0.5) == [True, False]  # the write answers whether each task is still live
    assert tasks.writes == [("t1", 0.5), ("t2", 0.5)]
    live = _replica(0.0, tasks).cancel_reader("t2")
    assert live() is False and tasks.reads == 1
    assert live() is False and tasks.reads == 1  # once cancelled, never read again
