"""The real-footage corpus that scores finding people moving (issue #11)."""
