from quality import selectors


def quality(request) -> dict:
    """Whether the pages offer call checks (a batch's report link, say): there is a rule set."""
    user = getattr(request, "user", None)
    return {"quality_enabled": selectors.rule_sets_exist(user=user)}
