"""Staff admin (traversal under /admin)."""


def includeme(config):
    pass
