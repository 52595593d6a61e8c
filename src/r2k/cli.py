"""Command-line interface (placeholder replaced below)."""


def main() -> None:
    """Run the CLI."""
