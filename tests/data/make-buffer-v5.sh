#!/bin/bash
# SPDX-License-Identifier: MIT
# How tests/data/buffer-v5.sql was made (tests/data/make-buffer.sh, V=5):
#   OLD=/path/to/old/phasor TOOLS=build/tools bash tests/data/make-buffer-v5.sh > tests/data/buffer-v5.sql
V=5 exec bash "$(dirname "$0")/make-buffer.sh"
