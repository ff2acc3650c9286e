"""The plugin API a game uses: `init(base)` (attach.py) and its settings (config.py)."""
