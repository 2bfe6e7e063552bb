"""reelbeam pipelines: options, launcher and the pipeline builder."""
