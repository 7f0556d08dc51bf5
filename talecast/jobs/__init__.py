"""Background work: the task queue and the render worker processes."""
