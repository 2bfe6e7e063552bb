"""The render stage underneath ``transforms.render_videos``: jobs, manifests, child work, DoFns."""
