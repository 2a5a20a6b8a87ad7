#!/bin/bash
# SPDX-License-Identifier: MIT
# test_mqtt_kill9 with a slow hub: it waits 3 ms between decoding a message
# and handing its samples to the store (PHASOR_HUB_INTAKE_DELAY_MS), so that
# many of the kills fall there. When the samples and the message's intake
# mark were handed over in two steps, the writer could commit the samples
# without the mark, and a kill before the next commit made the next start
# decode the message again: this test then found about one duplicate per
# two kills (test_mqtt_kill9 alone, once in five runs under ASan).
export PHASOR_HUB_INTAKE_DELAY_MS=3
export KILL9_COUNT=${KILL9_COUNT:-4000} KILL9_KILLS=${KILL9_KILLS:-12}
exec bash "$(dirname "$0")/test_mqtt_kill9.sh"
