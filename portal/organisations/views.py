from portal.organisations import bp


@bp.get("/organisations")
def directory():
    return "TODO"


@bp.get("/organisations/<int:org_id>")
def show(org_id):
    return "TODO"
