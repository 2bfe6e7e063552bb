"""Entry point: ``reelbeam`` / ``python -m pipelines.main`` (what the flex template runs)."""

from pipelines.cli import main

if __name__ == "__main__":
    main()
