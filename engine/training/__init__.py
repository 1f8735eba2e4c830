"""Training: the loop and its modes (``loop``), its resumable state (``state``), Ilyas et al.'s
robust dataset (``robust_dataset``) and the measured cost of an epoch per mode (``costs``)."""
