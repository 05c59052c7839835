"""Settings, command-line options and the state folder."""
