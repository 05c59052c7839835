"""The results store, the vocabulary of its fields and the versions a measurement depends on."""
