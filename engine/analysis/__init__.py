"""The analyses of both papers as pure functions: per-sample losses and A-distance (``losses``),
L2/Linf norm equivalence (``norm_ratios``), SVCCA (``svcca``), the latent plane (``pca``), distance
to the decision boundary (``boundary``) and layer representations (``representations``).
``pipeline`` runs them on one model and turns them into result rows.
"""
