#!/bin/bash
# SPDX-License-Identifier: MIT
# How tests/data/buffer-v3.sql was made (tests/data/make-buffer.sh, V=3):
#   OLD=/path/to/old/phasor TOOLS=build/tools bash tests/data/make-buffer-v3.sh > tests/data/buffer-v3.sql
V=3 exec bash "$(dirname "$0")/make-buffer.sh"
