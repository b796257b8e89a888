"""Keys and certificates: the model, loading, generation, keyring and rotation."""
