"""IO shared by every stage: URIs, atomic verified writes, retries, process isolation."""
