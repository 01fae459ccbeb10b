"""Every LightningModule of motionlab, one naming pattern (``<What>Module``), with the inference
helpers that read the nets they train. Stages build them; the optimiser and its schedule come from
one builder (:func:`motionlab.lit.optim.configure_adam`)."""
