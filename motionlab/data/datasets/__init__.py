"""Readers of the real datasets in their official layouts; importing this package registers them
(``ucf101``, ``hmdb51``, ``mmaction_video``, ``mmaction_rawframes``, ``voc2012_action``,
``stanford40``, ``video_folder``) with ``motionlab.data.sources``."""

from motionlab.data.datasets import hmdb51, mmaction, stanford40, ucf101, video_folder, voc_action

__all__ = ["hmdb51", "mmaction", "stanford40", "ucf101", "video_folder", "voc_action"]
