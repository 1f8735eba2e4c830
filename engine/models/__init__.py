"""Models: the architecture registry (one spec per architecture), the ``Classifier`` every model is,
and safetensors checkpoints."""
