"""``e2ee-sop``: the Stateless OpenPGP command-line interface
(draft-dkg-openpgp-stateless-cli) over this library's OpenPGP layer.

``cli.py`` parses and dispatches, ``commands.py`` runs each subcommand,
``indirect.py`` reads and writes the draft's indirect data (files, ``@ENV:``,
``@FD:``), ``status.py`` holds the draft's exit codes and ``keys.py`` reads the
keys, certificates and passwords the subcommands take.
"""
