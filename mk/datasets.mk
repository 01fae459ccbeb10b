# Real datasets (UCF101, HMDB51, PASCAL VOC 2012 Action, Stanford40): check a user's copy, run the
# format tests, fetch the real sample footage the integration test uses.
SETTING ?= ucf101_to_voc
OPENCV_DOC := /tmp/opencv-doc

.PHONY: check-data test-data opencv-doc
check-data: install  ## validate your dataset copies: make check-data SETTING=ucf101_to_voc VIDEO_ROOT=... IMAGE_ROOT=...
	@test -n "$(VIDEO_ROOT)" -a -n "$(IMAGE_ROOT)" || { echo "set VIDEO_ROOT=... and IMAGE_ROOT=..."; exit 2; }
	$(BIN)/motionlab-check-data setting=$(SETTING) data.video.root=$(VIDEO_ROOT) data.image.root=$(IMAGE_ROOT)

test-data: install  ## dataset readers on miniature official trees (+ real footage if opencv-doc is there)
	$(BIN)/pytest tests/data_formats -q

opencv-doc:  ## fetch Debian's opencv-doc sample videos (real footage for tests/data_formats) into /tmp
	@test -f $(OPENCV_DOC)/usr/share/doc/opencv-doc/examples/data/vtest.avi || \
	  (cd /tmp && apt-get download opencv-doc && dpkg -x opencv-doc_*.deb $(OPENCV_DOC))
