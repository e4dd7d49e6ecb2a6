"""Running Secure Base as several processes behind nginx (see deploy/README.md)."""
