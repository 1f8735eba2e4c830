"""Judging attacks from outside (Foolbox's criteria): the one budget-and-sweep rule (``budget``),
predictions (``predict``), sweeps evaluated or crafted as fixed sets (``sweep``) and one image
attacked live (``playground``)."""
