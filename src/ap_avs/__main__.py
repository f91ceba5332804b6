"""``python -m ap_avs`` runs the command line."""

from ap_avs.cli import main

main()
