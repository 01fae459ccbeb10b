"""One module per stage; importing this package registers them all."""

from motionlab.stages import image_classifier  # noqa: F401
