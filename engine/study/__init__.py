"""Studies: validation against the registries, typed jobs, cached artefacts, the executor, the runner
and its Ray backend."""
