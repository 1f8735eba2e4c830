"""The analyses of both papers as pure functions: per-sample losses and A-distance (``losses``),
L2/Linf norm equivalence (``norm_ratios``), SVCCA (``svcca``), the latent plane (``pca``), distance
to the decision boundary (``boundary``), layer representations (``representations``), and sanity
checks over a study's results (``sanity``). ``engine.analysis.study`` turns them into result rows.
"""
