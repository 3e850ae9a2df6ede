from llm import selectors


def llm(request) -> dict:
    """Whether the pages offer what needs a language model (a link to a job's summary, say)."""
    user = getattr(request, "user", None)
    return {"llm_enabled": selectors.connection_active(user=user) is not None}
