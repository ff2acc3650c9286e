"""The demo game (arrives with the plugin API issue)."""
