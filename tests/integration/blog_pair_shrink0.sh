#!/usr/bin/env bash
# tcp_shrink_window=0: the receiver's rcvbuf is inflated past 4 MiB and
# rcvgovd reports exactly that socket, with its addresses and owner.
SHRINK=0
source "$(dirname "$0")/blog_pair.inc.sh"
