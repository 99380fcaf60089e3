"""The workspace: the one façade over an unlocked data folder (see core.py).

    from app.workspace import Workspace
    ws = Workspace.open(data_dir); ws.login(user, password)
    ws.new_record(...), ws.save_answers(...), ws.complete(...)      record lifecycle
    ws.review.approve(uuid), ws.review.return_record(uuid, reason)  supervisor
    ws.documents.dashboard(), .export_data(...), .constancia(uuid)
    ws.admin.add_user(...), .audit_verify(), .backup_to(path)
    ws.settings.values(), .save(**changes)
    ws.sync(progress, cancelled); ws.centre.status(), .export_usb(folder), ...
    ws.practice.enabled, .seed_record(...), .results()            practice mode (issue 18)
"""

from app.workspace.context import FormHooks
from app.workspace.core import Workspace
from app.workspace.hooks import EngineHooks
from app.workspace.review import ApproveResult
from app.workspace.settings import DEFAULTS as DEFAULT_SETTINGS

__all__ = ["DEFAULT_SETTINGS", "ApproveResult", "EngineHooks", "FormHooks", "Workspace"]
