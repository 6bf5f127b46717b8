#!/usr/bin/env bash
# tcp_shrink_window=1: no inflation, rcvbuf stays within 1.1x its start.
SHRINK=1
source "$(dirname "$0")/blog_pair.inc.sh"
