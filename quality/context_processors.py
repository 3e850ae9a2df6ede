from quality import selectors


def quality(request) -> dict:
    """Whether the pages offer call checks (a batch's report link, say): there is a rule set."""
    user = getattr(request, "user", None)
    return {"quality_enabled": bool(user and user.is_authenticated and selectors.rule_set_list(user=user))}
