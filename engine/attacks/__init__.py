"""Attacks: the registry (``registry``: one spec per attack, ``make_attack``), one projected-gradient
loop over per-norm steps (``pgd``, ``norms``), C&W, DeepFool, JSMA, random noise and the torchattacks
wrappers for APGD and AutoAttack."""
