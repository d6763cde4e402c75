"""(Being built.)"""


def jobs(app) -> list:
    return []
