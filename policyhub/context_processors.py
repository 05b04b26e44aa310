def policy_banner(request):
    """Context for templates/_policy_banner.html (the "acknowledge the new policy" banner)."""
    return {}
