def delivery_enqueue(*, job) -> None:
    """Placeholder: replaced by the real implementation."""
