from portal.api import bp


@bp.get("/openapi.json")
def openapi():
    return {}
