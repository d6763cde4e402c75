"""(Being built.)"""

DIALOGS: list = []
