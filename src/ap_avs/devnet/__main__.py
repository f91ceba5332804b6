"""``python -m ap_avs.devnet`` runs the devnet until Ctrl-C."""

from ap_avs.devnet import _main

_main()
