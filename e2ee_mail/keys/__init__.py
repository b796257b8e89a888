"""The keyring (key versions, rotation, storage, audit trail) and the GnuPG bridge."""
