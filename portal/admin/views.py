from portal.admin import bp


@bp.get("/")
def index():
    return "TODO"
