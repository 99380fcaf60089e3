"""A minimal form-hooks object for storage tests that must not depend on the
form engine: answers carry their DNIs and head name in plain keys."""


class PlainHooks:
    def facts(self, form_id, version, answers):
        return {"head": answers.get("head", "")}, list(answers.get("dnis", []))

    def validate(self, form_id, version, answers):
        errors = [{"path": "/x", "message": "falta"}] if answers.get("bad") else []
        warnings = [{"path": "/w", "message": "raro"}] if answers.get("odd") else []
        return errors, warnings

    def submission(self, form_id, version, answers, completed_at=None):
        return answers
